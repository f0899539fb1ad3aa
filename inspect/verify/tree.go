package verify

import (
	"archive/tar"
	"fmt"
	"path"
	"path/filepath"
	"time"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"golang.org/x/sys/unix"
)

// treeState is what the hasher learns of the layer dir from the headers,
// for the checks that need them all (entries the tar never had, opaque
// dirs it never made).
type treeState struct {
	expected map[string][]string // dir → names the tar puts there
	listed   map[string][]string // dir of the tar → names on disk
	own      map[string][]string // of those, the layer's own (WholeTreeLayers)
	gone     map[string][]string // dir → names of the layer below it lacks (WholeTreeLayers)
	implied  map[string]bool     // parents of tar names (Unpack makes them)
	opaque   map[string]bool     // dirs of the tar opaque on disk
	markers  map[string]bool     // dirs with .wh..wh..opq in the tar
	missing  map[string]int      // dir missing on disk → index of its finding
	hidden   map[string]int      // missing dir → entries below it not listed
}

func newTreeState() treeState {
	return treeState{expected: map[string][]string{}, listed: map[string][]string{}, own: map[string][]string{}, gone: map[string][]string{}, implied: map[string]bool{},
		opaque: map[string]bool{}, markers: map[string]bool{}, missing: map[string]int{}, hidden: map[string]int{}}
}

// expect records that the tar puts name rel on disk, and every parent.
func (t *treeState) expect(rel string) {
	t.expected[path.Dir(rel)] = append(t.expected[path.Dir(rel)], path.Base(rel))
	for p := path.Dir(rel); p != "." && !t.implied[p]; p = path.Dir(p) {
		t.implied[p] = true
		t.expected[path.Dir(p)] = append(t.expected[path.Dir(p)], path.Base(p))
	}
}

// underMissing returns the missing dir rel lies in, if any.
func (t *treeState) underMissing(rel string) (string, bool) {
	if len(t.missing) == 0 {
		return "", false
	}
	for p := path.Dir(rel); p != "."; p = path.Dir(p) {
		if _, ok := t.missing[p]; ok {
			return p, true
		}
	}
	return "", false
}

// at makes a finding about rel (a clean name inside the layer).
func (lc *layerCheck) at(kind Kind, rel, expected, actual, msg string) Finding {
	return Finding{Kind: kind, Path: "/" + rel, File: filepath.Join(lc.diffDir, rel), Expected: expected, Actual: actual, Message: msg}
}

// reconcile compares one header with what the reader found on disk.
func (lc *layerCheck) reconcile(e *entry) {
	hi, de := e.hdr, &e.disk
	if e.dup {
		lc.add(Finding{Kind: KindTarSplitDuplicate, DockerDetects: true, Path: e.name, File: lc.l.tarSplit, Expected: "one file entry per name",
			Actual: "another entry " + e.name, Message: "tar-split names this path twice: Docker's unpacker refuses the layer (docker save and push fail)"})
	}
	if e.unsafe {
		lc.add(Finding{Kind: KindTarSplitUnsafeName, DockerDetects: true, Path: e.name, File: lc.l.tarSplit, Expected: "a name inside the layer",
			Actual: e.name, Message: fmt.Sprintf("tar-split's file entry names %s; Docker would read that file into the layer's stream "+
				"(docker save, push); dlayer never opens it", filepath.Join(lc.diffDir, e.name))})
	}
	switch {
	case hi.err != nil:
		lc.add(Finding{Kind: KindTarSplitMalformed, DockerDetects: true, Path: lc.l.tarSplit, File: lc.l.tarSplit, Message: hi.err.Error()})
		return
	case hi.unsafe:
		if !e.unsafe || e.name != hi.h.Name {
			lc.add(Finding{Kind: KindTarSplitUnsafeName, DockerDetects: true, Path: hi.h.Name, File: lc.l.tarSplit, Expected: "a name inside the layer",
				Actual: hi.h.Name, Message: "a tar header names a path outside the layer; it is never opened"})
		}
		return
	case !e.unsafe && hi.h.Name != e.name:
		lc.add(lc.at(KindTarSplitNameMismatch, hi.rel, hi.h.Name, e.name,
			"tar-split's file entry names another file than its header: Docker reads that other file's bytes for this header"))
	}
	if hi.role == roleSkip {
		return
	}
	rel := hi.rel
	if hi.role == roleWhiteout {
		rel = hi.target
	}
	if hi.role != roleOpaque {
		lc.tree.expect(rel)
	}
	if dir, ok := lc.tree.underMissing(rel); ok {
		lc.tree.hidden[dir]++
		return
	}
	if de.err != nil {
		lc.add(lc.at(KindUnreadable, rel, "", "", de.err.Error()))
		return
	}
	switch hi.role {
	case roleOpaque:
		dir := path.Dir(hi.rel)
		lc.tree.markers[dir] = true
		if lc.m.terms.WholeTreeLayers || lc.m.hidden {
			break // the dir holds only the tar's entries: checked with its listing; or its xattr cannot be seen
		}
		if v, opaque := lc.m.marks.Opaque(de.xattrs); de.exists && !opaque {
			_, form := lc.m.marks.Forms()
			lc.add(lc.at(KindOpaqueMissing, dir, form, orNone(v),
				"the layer made this dir opaque (.wh..wh..opq), but the xattr is gone: the lower layers' entries show through again"))
		}
	case roleWhiteout:
		lc.checkWhiteout(rel, hi.h, de)
	default:
		lc.checkPlain(e, rel)
	}
}

// checkWhiteout checks the whiteout entry a .wh. entry became; in a
// layer that is a whole tree, that the deleted entry is absent.
func (lc *layerCheck) checkWhiteout(rel string, h *tar.Header, de *diskEntry) {
	if lc.m.terms.WholeTreeLayers {
		if de.exists {
			lc.add(lc.at(KindWhiteoutMissing, rel, "absent (deleted)", string(de.st.Type()),
				"the layer deletes this path (.wh. entry), but its tree still has it: the deleted lower entry shows again"))
		}
		return
	}
	wo, what := lc.m.isWhiteout(de)
	if !wo && lc.m.hidden && de.exists && de.st.Type() == layerfs.TypeFile && de.st.Size == 0 {
		return // an xattr whiteout whose xattr this process cannot see
	}
	if !wo {
		form, _ := lc.m.marks.Forms()
		lc.add(lc.at(KindWhiteoutMissing, rel, form, what,
			"the layer deletes this path (.wh. entry), but the whiteout is gone: the deleted lower entry shows again"))
		return
	}
	if int(de.st.UID) != h.Uid || int(de.st.GID) != h.Gid {
		lc.add(lc.at(KindOwnerMismatch, rel, fmt.Sprintf("%d:%d", h.Uid, h.Gid), fmt.Sprintf("%d:%d", de.st.UID, de.st.GID),
			"the whiteout's owner differs from its tar header"))
	}
}

// isWhiteout says whether a disk entry is a whiteout of the driver's
// form, else what it is.
func (m *model) isWhiteout(de *diskEntry) (bool, string) {
	if !de.exists {
		return false, "missing"
	}
	if m.marks.Whiteout(de.st, de.xattrs) {
		return true, ""
	}
	if t := de.st.Type(); t == layerfs.TypeChar || t == layerfs.TypeBlock {
		return false, fmt.Sprintf("%s %d:%d", t, unix.Major(de.st.Rdev), unix.Minor(de.st.Rdev))
	}
	return false, string(de.st.Type())
}

// tarType is the file type a header makes on disk ("" for types Unpack
// does not extract).
func tarType(h *tar.Header) layerfs.Type {
	switch h.Typeflag {
	case tar.TypeReg, '\x00', tar.TypeLink:
		return layerfs.TypeFile
	case tar.TypeDir:
		return layerfs.TypeDir
	case tar.TypeSymlink:
		return layerfs.TypeSymlink
	case tar.TypeChar:
		return layerfs.TypeChar
	case tar.TypeBlock:
		return layerfs.TypeBlock
	case tar.TypeFifo:
		return layerfs.TypeFIFO
	}
	return ""
}

func fmtTime(sec, nsec int64) string {
	return time.Unix(sec, nsec).UTC().Format(time.RFC3339Nano)
}
