// Package export writes a container's changes as a layer tar: one entry
// for each line of docker diff, in its order (parents first) — an added or
// changed entry with the content and metadata the container sees (from
// the writable layer, or from the image layer that provides it, as for
// the lower entries docker diff lists below a recreated dir), a deleted
// one as a .wh. whiteout — and says of each entry what a manifest needs:
// its sha256, and where its content came from. Everything is read through
// the store's confined opener; the tar is streamed, in bounded memory.
package export

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"golang.org/x/sys/unix"
)

// Entry is one entry of the tar, as the manifest lists it.
type Entry struct {
	// Path is the container path; Name the tar entry's name.
	Path string `json:"path"`
	Name string `json:"name"`
	// Diff is docker diff's letter: A, C or D.
	Diff string `json:"diff"`
	// Type is file, dir, symlink, hardlink (to Link), fifo, char, block,
	// or whiteout.
	Type  string    `json:"type"`
	Size  int64     `json:"size"`
	Mode  string    `json:"mode"`
	UID   uint32    `json:"uid"`
	GID   uint32    `json:"gid"`
	Mtime time.Time `json:"mtime"`
	// Link is a symlink's target or a hardlink's first name in the tar.
	Link string `json:"link,omitempty"`
	// SHA256 is a regular file's content's.
	SHA256 string `json:"sha256,omitempty"`
	// From is the layer the content came from: rw, init, or the image
	// layer's position.
	From string `json:"from"`
}

// Result is what Write wrote.
type Result struct {
	Entries []Entry
	// Bytes is the tar's length, SHA256 its digest.
	Bytes  int64
	SHA256 string
	// Findings are the entries that could not be written (left out).
	Findings []inspect.Finding
}

// Write writes x's changes (its docker diff lines) as a layer tar to w.
// when is the whiteouts' mtime (the container's last change: the time
// docker would give them is the export's own).
func Write(s *inspect.Store, x *inspect.Explanation, w io.Writer, when time.Time) (*Result, error) {
	h := sha256.New()
	cw := &counter{w: io.MultiWriter(w, h)}
	tw := tar.NewWriter(cw)
	r := &Result{Entries: []Entry{}, Findings: []inspect.Finding{}}
	u := s.Union()
	var roots []inspect.UnionDir
	for i, l := range x.Layers {
		d, err := s.OpenDir(l.Dir)
		if err != nil {
			r.Findings = append(r.Findings, inspect.Finding{Kind: "layer_dir_missing", Path: l.Dir, Message: err.Error()})
			continue
		}
		roots = append(roots, inspect.UnionDir{Layer: i, Dir: d})
	}
	defer inspect.CloseUnion(roots)
	v := &views{u: u, roots: roots, dirs: roots}
	defer v.close()
	links := map[[2]uint64]string{}
	for _, d := range x.Diff {
		e, err := entry(v, x, d, when, links, tw)
		if err != nil {
			r.Findings = append(r.Findings, inspect.Finding{Kind: "unreadable_entry", Path: d.Path, Message: "not exported: " + err.Error()})
			if _, ok := err.(writeError); ok {
				return r, err
			}
			continue
		}
		r.Entries = append(r.Entries, e)
	}
	if err := tw.Close(); err != nil {
		return r, err
	}
	r.Bytes, r.SHA256 = cw.n, hex.EncodeToString(h.Sum(nil))
	return r, nil
}

// writeError is a failure to write the tar: the export stops.
type writeError struct{ error }

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// entry writes the tar entry of one docker diff line.
func entry(v *views, x *inspect.Explanation, d inspect.DiffLine, when time.Time, links map[[2]uint64]string, tw *tar.Writer) (Entry, error) {
	name := strings.TrimPrefix(path.Clean(d.Path), "/")
	dir, base := path.Split(name)
	if d.Kind == "D" {
		e := Entry{Path: d.Path, Name: dir + ".wh." + base, Diff: "D", Type: "whiteout", Mode: "0000", Mtime: when.UTC(), From: "rw"}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: e.Name, ModTime: when, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return e, writeError{err}
		}
		return e, nil
	}
	dirs, err := v.of(dir)
	if err != nil {
		return Entry{}, err
	}
	layer, le, ok, err := v.u.Lookup(dirs, base)
	if err != nil {
		return Entry{}, err
	}
	if !ok {
		return Entry{}, fmt.Errorf("not in the container's merged view")
	}
	var from *inspect.UnionDir
	for i := range dirs {
		if dirs[i].Layer == layer {
			from = &dirs[i]
		}
	}
	if from == nil || layer < 0 || layer >= len(x.Layers) {
		return Entry{}, fmt.Errorf("in a layer of no known dir")
	}
	st := le.Stat
	e := Entry{Path: d.Path, Name: name, Diff: d.Kind, Type: string(st.Type()), Mode: fmt.Sprintf("%04o", st.Perm()), UID: st.UID, GID: st.GID,
		Mtime: st.ModTime().UTC(), From: fromName(x.Layers[layer])}
	hdr := &tar.Header{Name: name, Mode: int64(st.Perm()), Uid: int(st.UID), Gid: int(st.GID), ModTime: st.ModTime(), Format: tar.FormatPAX}
	if len(le.Capability) > 0 {
		hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": string(le.Capability)}
	}
	var content io.ReadCloser
	switch st.Type() {
	case layerfs.TypeDir:
		hdr.Typeflag, hdr.Name, e.Name = tar.TypeDir, name+"/", name+"/"
	case layerfs.TypeSymlink:
		t, err := from.Dir.Readlink(le.RawName)
		if err != nil {
			return e, err
		}
		hdr.Typeflag, hdr.Linkname, e.Link, e.Size = tar.TypeSymlink, t, t, st.Size
	case layerfs.TypeFIFO:
		hdr.Typeflag = tar.TypeFifo
	case layerfs.TypeChar, layerfs.TypeBlock:
		hdr.Typeflag = tar.TypeChar
		if st.Type() == layerfs.TypeBlock {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case layerfs.TypeFile:
		k := [2]uint64{st.Dev, st.Ino}
		if first, ok := links[k]; ok && st.Nlink > 1 {
			hdr.Typeflag, hdr.Linkname, e.Type, e.Link = tar.TypeLink, first, "hardlink", first
			break
		}
		if st.Nlink > 1 {
			links[k] = name
		}
		f, err := from.Dir.OpenFile(le.RawName, st)
		if err != nil {
			return e, err
		}
		content = f
		hdr.Typeflag, hdr.Size, e.Size = tar.TypeReg, st.Size, st.Size
	default:
		return e, fmt.Errorf("a %s: not exportable", st.Type())
	}
	if content == nil {
		if err := tw.WriteHeader(hdr); err != nil {
			return e, writeError{err}
		}
		return e, nil
	}
	defer content.Close()
	if err := tw.WriteHeader(hdr); err != nil {
		return e, writeError{err}
	}
	h := sha256.New()
	n, err := io.CopyN(io.MultiWriter(tw, h), content, st.Size)
	if err != nil {
		// the header promised st.Size bytes: the tar cannot go on
		return e, writeError{fmt.Errorf("%s: %d of %d bytes: %w", d.Path, n, st.Size, err)}
	}
	e.SHA256 = hex.EncodeToString(h.Sum(nil))
	return e, nil
}

// views keeps the merged view of the last container dir an entry was in:
// docker diff's lines come sorted, so the entries of a dir follow one
// another and its view is opened once for them all.
type views struct {
	u     inspect.Union
	roots []inspect.UnionDir // Write's; the view of "" (the root)
	dir   string
	dirs  []inspect.UnionDir
	err   error
}

// of is the merged view of the container dir dir ("a/b/").
func (v *views) of(dir string) ([]inspect.UnionDir, error) {
	if dir == v.dir {
		return v.dirs, v.err
	}
	v.close()
	v.dir, v.dirs, v.err = dir, v.roots, nil
	owned := false
	for _, name := range strings.Split(strings.Trim(dir, "/"), "/") {
		if name == "" {
			continue
		}
		next, err := v.u.Sub(v.dirs, name)
		if owned {
			inspect.CloseUnion(v.dirs)
		}
		if err != nil {
			v.dirs, v.err = nil, err
			return nil, err
		}
		v.dirs, owned = next, true
	}
	return v.dirs, nil
}

// close closes the view it keeps (not the roots).
func (v *views) close() {
	if v.dir != "" && v.err == nil {
		inspect.CloseUnion(v.dirs)
	}
	v.dir, v.dirs, v.err = "", v.roots, nil
}

func fromName(l inspect.StackLayer) string {
	if l.Role == inspect.RoleImage {
		return fmt.Sprintf("%d", l.Position)
	}
	return string(l.Role)
}
