package verify

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"hash/crc64"
	"io/fs"
	"path"
	"strings"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"golang.org/x/sys/unix"
)

// crcTable is tar-split's CRC-64 (ISO polynomial; storage.CRCTable).
var crcTable = crc64.MakeTable(crc64.ISO)

// hdrInfo is an entry's tar header, parsed from its raw segments.
type hdrInfo struct {
	h      *tar.Header
	err    error
	rel    string // clean, relative to the layer root
	unsafe bool   // the header's name leaves the layer
	role   role
	target string // roleWhiteout: rel of the deleted entry
}

// diskEntry is what a reader found on disk for a header.
type diskEntry struct {
	err    error // the lookup failed (other than "does not exist")
	exists bool
	st     layerfs.Stat
	target string // symlink target
	// Hardlinks: the link target's stat, or why it has none.
	linkSt  layerfs.Stat
	linkErr error
	// xattrs holds security.capability, the driver's marker xattrs and the
	// xattrs the header declares, when set on disk.
	xattrs map[string][]byte
	names  []string // a dir's entries
	// own and gone are, for a driver whose layers are whole trees
	// (Terms.WholeTreeLayers), a dir's entries that are the layer's own and
	// the names of the layer below that it lacks, as the Format reads them.
	own, gone []string
}

// dataRead is a regular file's bytes as read for the stream.
type dataRead struct {
	read    bool
	inline  *[]byte // the whole file (small files), in a buffer of the pool
	fd      int     // an open file to stream (large files); -1 if none
	n       int64
	crc     uint64
	err     error
	errKind Kind
	actual  string
}

// lookup is what a reader does with one entry: parse its header, look the
// header's name up on disk, and read the file's bytes when tar-split will
// need them.
func (lc *layerCheck) lookup(e *entry) {
	e.data.fd = -1
	e.hdr = parseHeader(e)
	hi := e.hdr
	if lc.m.terms.WhiteoutFiles && (hi.role == roleWhiteout || hi.role == roleOpaque) {
		// The driver keeps the markers as the files they are in the tar.
		hi.role, hi.target = rolePlain, ""
	}
	read := false
	if hi.h != nil && !hi.unsafe {
		switch hi.role {
		case roleOpaque:
			lc.lookupPath(e, path.Dir(hi.rel), false)
		case roleWhiteout:
			lc.lookupPath(e, hi.target, false)
		case rolePlain:
			e.nameOK = !e.unsafe && relName(e.name) == hi.rel
			read = e.nameOK && e.size > 0
			lc.lookupPath(e, hi.rel, read)
		}
	}
	if e.size > 0 && !e.unsafe && !read {
		lc.readByName(e)
	}
}

// parseHeader parses the header blocks that precede an entry.
func parseHeader(e *entry) *hdrInfo {
	hi := &hdrInfo{}
	var b []byte
	if len(e.segs) == 1 {
		b = e.segs[0]
	} else {
		b = bytes.Join(e.segs, nil)
	}
	if int64(len(b)) < e.pad {
		hi.err = fmt.Errorf("%d bytes of segment before entry %q, fewer than the %d bytes of padding due", len(b), e.name, e.pad)
		return hi
	}
	h, ok := fastUSTAR(b[e.pad:])
	var err error
	if !ok {
		h, err = tar.NewReader(bytes.NewReader(b[e.pad:])).Next()
	}
	if errors.Is(err, tar.ErrInsecurePath) {
		err = nil
	}
	if err != nil {
		hi.err = fmt.Errorf("the header of entry %q does not parse: %v", e.name, err)
		return hi
	}
	hi.h = h
	if unsafeName(h.Name) {
		hi.unsafe = true
		return hi
	}
	hi.rel = relName(h.Name)
	base := path.Base(hi.rel)
	switch {
	case h.Typeflag == tar.TypeXGlobalHeader || hi.rel == ".":
		hi.role = roleSkip
	case base == whiteoutOpaque:
		hi.role = roleOpaque
	case strings.HasPrefix(hi.rel, whiteoutMeta):
		hi.role = roleSkip
	case strings.HasPrefix(base, whiteoutPrefix):
		hi.role, hi.target = roleWhiteout, path.Join(path.Dir(hi.rel), base[len(whiteoutPrefix):])
	}
	return hi
}

// lookupPath stats rel and gathers what the checks of its header need:
// a symlink's target, a hardlink target's inode, a dir's names, xattrs,
// and — when read is set — a regular file's bytes.
func (lc *layerCheck) lookupPath(e *entry, rel string, read bool) {
	de := &e.disk
	dir, base := path.Dir(rel), path.Base(rel)
	if rel == "." {
		dir, base = ".", "."
	}
	d, err := lc.dirs.get(dir)
	if err != nil {
		if !absent(err) {
			de.err = err
		}
		return
	}
	defer lc.dirs.put(dir)
	h := e.hdr.h
	if base != "." && h.Typeflag != tar.TypeLink && lc.openListed(e, d, dir, base, read) {
		return
	}
	if base == "." {
		de.st, err = d.Self()
		de.exists = err == nil
	} else {
		de.st, de.exists, err = d.Lstat(base)
	}
	if err != nil || !de.exists {
		de.err = err
		return
	}
	switch de.st.Type() {
	case layerfs.TypeSymlink:
		de.target, de.err = d.Readlink(base)
	case layerfs.TypeDir:
		sub, err := lc.dirs.get(rel)
		if err != nil {
			de.err = err
			return
		}
		defer lc.dirs.put(rel)
		if e.hdr.role == rolePlain {
			de.names, de.err = lc.dirs.names(rel)
			if de.err == nil && lc.m.terms.WholeTreeLayers {
				de.own, de.gone, de.err = lc.m.ownNames(sub)
			}
		}
		de.xattrs = fdXattrs(sub.Fd(), h, lc.m.watch)
	case layerfs.TypeFile:
		if h.Typeflag == tar.TypeLink && e.hdr.role == rolePlain {
			lc.lookupLinkTarget(e, h.Linkname)
			return
		}
		lc.readFile(d, base, de.st, e, read)
	default:
		for k := range h.PAXRecords {
			if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
				if v, ok, _ := d.Xattr(base, name); ok {
					if de.xattrs == nil {
						de.xattrs = map[string][]byte{}
					}
					de.xattrs[name] = v
				}
			}
		}
	}
}

// openListed looks base up in its dir's listing and, when the directory
// entry says it is a regular file, opens and reads it straight (the
// stat comes from the open file: one system call fewer than an lstat
// before the open, on the path every file of a layer takes). It reports
// whether the entry is done; if not (not listed, of another type, or not
// a regular file once open), the caller stats it as any other entry.
func (lc *layerCheck) openListed(e *entry, d *layerfs.Dir, dir, base string, read bool) bool {
	ents, err := lc.dirs.listing(dir)
	if err != nil || ents[base] != unix.DT_REG {
		return false
	}
	fd, st, err := d.OpenFd(base, nil)
	if err != nil {
		return false
	}
	e.disk.st, e.disk.exists = st, true
	lc.readOpen(d, base, fd, st, e, read)
	return true
}

// lookupLinkTarget stats a hardlink's target.
func (lc *layerCheck) lookupLinkTarget(e *entry, linkname string) {
	de := &e.disk
	if unsafeName(linkname) {
		de.linkErr = fmt.Errorf("target %q is outside the layer", linkname)
		return
	}
	rel := relName(linkname)
	d, err := lc.dirs.get(path.Dir(rel))
	if err != nil {
		de.linkErr = err
		return
	}
	defer lc.dirs.put(path.Dir(rel))
	st, ok, err := d.Lstat(path.Base(rel))
	switch {
	case err != nil:
		de.linkErr = err
	case !ok:
		de.linkErr = fs.ErrNotExist
	default:
		de.linkSt = st
	}
}

// readByName reads the bytes of tar-split's file entry by its own name,
// when the header could not be used for that (it does not parse, or names
// another file).
func (lc *layerCheck) readByName(e *entry) {
	rel := relName(e.name)
	dir, base := path.Dir(rel), path.Base(rel)
	fail := func(kind Kind, actual string, err error) {
		e.data.err, e.data.errKind, e.data.actual = err, kind, actual
	}
	d, err := lc.dirs.get(dir)
	if err != nil {
		if absent(err) {
			fail(KindEntryMissing, "missing", fmt.Errorf("%s: not in the layer dir", rel))
		} else {
			fail(KindUnreadable, "unreadable", err)
		}
		return
	}
	defer lc.dirs.put(dir)
	st, ok, err := d.Lstat(base)
	switch {
	case err != nil:
		fail(KindUnreadable, "unreadable", err)
	case !ok:
		fail(KindEntryMissing, "missing", fmt.Errorf("%s: not in the layer dir", rel))
	case st.Type() != layerfs.TypeFile:
		fail(KindTypeMismatch, string(st.Type()), fmt.Errorf("%s: a %s, not a regular file: it is never opened", rel, st.Type()))
	default:
		lc.readFile(d, base, st, e, true)
	}
}

// absent reports whether err says a path (or one of its parents) is not
// there or is not a directory.
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP)
}

// ownNames reads dir d of a layer whose content dir is a whole tree
// through the driver's Format: the names of the layer's own entries, and
// of the entries of the layer below that d lacks (its deletions).
func (m *model) ownNames(d *layerfs.Dir) (own, gone []string, err error) {
	ents, err := m.graph.Format().ReadDir(d)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		switch e.Kind {
		case layerfs.Plain:
			own = append(own, e.RawName)
		case layerfs.Whiteout:
			gone = append(gone, e.Name)
		}
	}
	return own, gone, nil
}
