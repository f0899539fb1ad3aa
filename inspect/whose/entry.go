package whose

import (
	"errors"
	"fmt"
	"os"
	"path"
	"time"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// Entry is what one layer holds at a path.
type Entry struct {
	// Path is the path inside the layer, as the container sees it.
	Path string `json:"path"`
	// Exists is false when the layer holds nothing there; Note says why.
	Exists bool `json:"exists"`
	// Kind is what the entry means to the union.
	Kind EntryKind `json:"kind,omitempty"`
	// Type is the file type on disk.
	Type layerfs.Type `json:"type,omitempty"`
	// Deletes is, for a whiteout, the path it deletes (on aufs the
	// whiteout ".wh.<name>" deletes <name>).
	Deletes string `json:"deletes,omitempty"`
	// Marker names how a whiteout or opaque dir is stored ("char device
	// 0/0", "trusted.overlay.opaque"); Redirect is a renamed dir's target.
	Marker   string `json:"marker,omitempty"`
	Redirect string `json:"redirect,omitempty"`
	Mode     string `json:"mode,omitempty"`
	UID      uint32 `json:"uid"`
	GID      uint32 `json:"gid"`
	Size     int64  `json:"size"`
	// Nlink is the number of names of the inode.
	Nlink uint64    `json:"nlink,omitempty"`
	Mtime time.Time `json:"mtime,omitzero"`
	// LinkTarget is a symlink's target, as text.
	LinkTarget string `json:"link_target,omitempty"`
	Note       string `json:"note,omitempty"`
}

// readEntry reads what the layer content dir holds at rel, through
// directory descriptors: a parent that is not a dir in this layer (a
// symlink included) is never followed.
func (q *query) readEntry(dir string, rel []string) (*Entry, error) {
	f := q.s.Graph().Format()
	out := &Entry{Path: "/" + path.Join(rel...)}
	d, err := q.s.FS().OpenDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		out.Note = "the layer's content dir does not exist"
		return out, nil
	}
	if err != nil {
		return out, err
	}
	defer func() { d.Close() }()
	for i, name := range rel[:len(rel)-1] {
		e, ok, err := f.Lookup(d, name)
		p := "/" + path.Join(rel[:i+1]...)
		switch {
		case err != nil:
			return out, err
		case !ok:
			out.Note = p + " is not in this layer"
			return out, nil
		case e.Kind == layerfs.Whiteout:
			out.Note = p + " is a whiteout in this layer: it deletes that dir"
			return out, nil
		case !e.Stat.IsDir():
			out.Note = fmt.Sprintf("%s is a %s in this layer, not a dir (a symlink is never followed)", p, e.Type())
			return out, nil
		}
		sub, err := d.Sub(name)
		if err != nil {
			return out, err
		}
		d.Close()
		d = sub
	}
	name := rel[len(rel)-1]
	e, ok, err := f.Lookup(d, name)
	if err != nil {
		return out, err
	}
	if !ok {
		out.Note = "not in this layer"
		return out, nil
	}
	st := e.Stat
	out.Exists, out.Kind, out.Type = true, entryKind(e), st.Type()
	if e.Kind == layerfs.Whiteout {
		out.Deletes = "/" + path.Join(append(append([]string{}, rel[:len(rel)-1]...), e.Name)...)
	}
	out.Marker, out.Redirect = e.XattrForm, e.Redirect
	out.Mode, out.UID, out.GID, out.Size, out.Nlink, out.Mtime = fmt.Sprintf("%04o", st.Perm()), st.UID, st.GID, st.Size, st.Nlink, st.ModTime().UTC()
	if st.Type() == layerfs.TypeSymlink {
		out.LinkTarget, _ = d.Readlink(e.RawName)
	}
	return out, nil
}

func entryKind(e layerfs.Entry) EntryKind {
	switch {
	case e.Kind == layerfs.Whiteout:
		return EntryWhiteout
	case e.Kind == layerfs.Bookkeeping:
		return EntryBookkeeping
	case e.Redirect != "":
		return EntryRedirectDir
	case e.Opaque:
		return EntryOpaqueDir
	case e.Metacopy:
		return EntryMetacopy
	}
	return EntryPlain
}

// entryWord says what an entry is, for a Hit.
func entryWord(e layerfs.Entry) string {
	switch {
	case e.Kind == layerfs.Whiteout:
		return "whiteout"
	case e.Redirect != "":
		return "renamed dir"
	case e.Opaque:
		return "opaque dir"
	}
	return string(e.Type())
}
