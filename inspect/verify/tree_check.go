package verify

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"golang.org/x/sys/unix"
)

// checkPlain compares an extracted entry with its header the way Unpack
// applied it: type, mode (not for symlinks: there is no lchmod), owner
// (Lchown), mtime (Chtimes, LUtimesNano for symlinks), link targets,
// device numbers and xattrs. A hardlink's metadata is its target's.
func (lc *layerCheck) checkPlain(e *entry, rel string) {
	h, de := e.hdr.h, &e.disk
	want := tarType(h)
	if !de.exists {
		what := string(want)
		if h.Typeflag == tar.TypeLink {
			what = "hardlink to /" + relName(h.Linkname)
		}
		f := lc.at(KindEntryMissing, rel, what, "missing", "the layer's tar has this entry, the layer dir does not")
		f.DockerDetects = want == layerfs.TypeFile && h.Size > 0
		if want == layerfs.TypeDir {
			lc.tree.missing[rel] = len(lc.res.findings)
		}
		lc.add(f)
		return
	}
	if want == "" {
		return
	}
	st := de.st
	got := st.Type()
	if got != want {
		f := lc.at(KindTypeMismatch, rel, string(want), string(got), fmt.Sprintf("the layer made a %s here, the layer dir has a %s", want, got))
		f.DockerDetects = want == layerfs.TypeFile && h.Size > 0 && got != layerfs.TypeSymlink
		if got == layerfs.TypeSymlink {
			f.Message += fmt.Sprintf(" (to %q): Docker's check would follow it", de.target)
		}
		lc.add(f)
		return
	}
	if got == layerfs.TypeDir {
		lc.tree.listed[rel] = de.names
		if lc.m.terms.WholeTreeLayers {
			lc.tree.own[rel], lc.tree.gone[rel] = de.own, de.gone
		}
		if _, opaque := lc.m.marks.Opaque(de.xattrs); opaque {
			lc.tree.opaque[rel] = true
		}
	}
	if h.Typeflag == tar.TypeLink {
		lc.checkHardlink(rel, h, de)
		return
	}
	if got != layerfs.TypeSymlink && uint32(h.Mode)&0o7777 != st.Perm() {
		lc.add(lc.at(KindModeMismatch, rel, fmt.Sprintf("%04o", h.Mode&0o7777), fmt.Sprintf("%04o", st.Perm()),
			"the mode differs from the tar header: "+modeChange(uint32(h.Mode)&0o7777, st.Perm())))
	}
	if int(st.UID) != h.Uid || int(st.GID) != h.Gid {
		lc.add(lc.at(KindOwnerMismatch, rel, fmt.Sprintf("%d:%d", h.Uid, h.Gid), fmt.Sprintf("%d:%d", st.UID, st.GID),
			"the owner differs from the tar header"))
	}
	if st.Mtime.Sec != h.ModTime.Unix() || st.Mtime.Nsec != int64(h.ModTime.Nanosecond()) {
		lc.add(lc.at(KindMtimeMismatch, rel, fmtTime(h.ModTime.Unix(), int64(h.ModTime.Nanosecond())), fmtTime(st.Mtime.Sec, st.Mtime.Nsec),
			"the mtime differs from the tar header: the entry was touched or rewritten after Docker extracted it"))
	}
	switch got {
	case layerfs.TypeFile:
		if (h.Size == 0 || !e.nameOK) && st.Size != h.Size {
			lc.add(lc.at(KindSizeMismatch, rel, fmt.Sprintf("%d bytes", h.Size), fmt.Sprintf("%d bytes", st.Size),
				"the file's size differs from its tar header"))
		}
	case layerfs.TypeSymlink:
		if de.target != h.Linkname {
			lc.add(lc.at(KindSymlinkMismatch, rel, h.Linkname, de.target, "the symlink points elsewhere than the layer made it point"))
		}
	case layerfs.TypeChar, layerfs.TypeBlock:
		if st.Rdev != unix.Mkdev(uint32(h.Devmajor), uint32(h.Devminor)) {
			lc.add(lc.at(KindTypeMismatch, rel, fmt.Sprintf("%s %d:%d", want, h.Devmajor, h.Devminor),
				fmt.Sprintf("%s %d:%d", got, unix.Major(st.Rdev), unix.Minor(st.Rdev)), "the device numbers differ from the tar header"))
		}
	}
	if e.data.err == nil {
		lc.checkXattrs(rel, h, de, got)
	}
}

func (lc *layerCheck) checkHardlink(rel string, h *tar.Header, de *diskEntry) {
	target := "/" + relName(h.Linkname)
	switch {
	case de.linkErr != nil:
		lc.add(lc.at(KindHardlinkMismatch, rel, "the same file as "+target, "no target: "+de.linkErr.Error(),
			"the hardlink's target is not in the layer dir"))
	case de.linkSt.Dev != de.st.Dev || de.linkSt.Ino != de.st.Ino:
		lc.add(lc.at(KindHardlinkMismatch, rel, "the same file as "+target, fmt.Sprintf("another file (inode %d, target inode %d)", de.st.Ino, de.linkSt.Ino),
			"the hardlink was replaced by another file"))
	}
}

// checkXattrs compares the header's xattrs with the disk, and flags a
// security.capability the header does not have.
func (lc *layerCheck) checkXattrs(rel string, h *tar.Header, de *diskEntry, t layerfs.Type) {
	keys := make([]string, 0, len(h.PAXRecords))
	for k := range h.PAXRecords {
		if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			keys = append(keys, name)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		want := h.PAXRecords["SCHILY.xattr."+k]
		got, ok := de.xattrs[k]
		if !ok && lc.m.hidden && strings.HasPrefix(k, "trusted.") {
			continue // hidden from this process, not absent
		}
		if !ok || string(got) != want {
			actual := "none"
			if ok {
				actual = k + "=" + xattrValue(got)
			}
			lc.add(lc.at(KindXattrMismatch, rel, k+"="+xattrValue([]byte(want)), actual, "an xattr of the tar header differs on disk"))
		}
	}
	if v, ok := de.xattrs["security.capability"]; ok && (t == layerfs.TypeFile || t == layerfs.TypeDir) {
		if _, declared := h.PAXRecords["SCHILY.xattr.security.capability"]; !declared {
			lc.add(lc.at(KindXattrMismatch, rel, "no security.capability", "security.capability="+xattrValue(v),
				"a file capability was added: it grants privileges to whoever runs the file, like a setuid bit"))
		}
	}
}

// xattrValue shows a value as a quoted string when it is printable, else
// as hex.
func xattrValue(b []byte) string {
	if utf8.Valid(b) && !bytes.ContainsFunc(b, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("0x%x", b)
}

// modeChange says in words how mode got differs from want.
func modeChange(want, got uint32) string {
	var parts []string
	for _, b := range []struct {
		bit  uint32
		name string
	}{{0o4000, "setuid"}, {0o2000, "setgid"}, {0o1000, "sticky"}} {
		switch {
		case got&b.bit != 0 && want&b.bit == 0:
			parts = append(parts, b.name+" added")
		case got&b.bit == 0 && want&b.bit != 0:
			parts = append(parts, b.name+" removed")
		}
	}
	if want&0o777 != got&0o777 {
		parts = append(parts, fmt.Sprintf("permissions %03o -> %03o", want&0o777, got&0o777))
	}
	return strings.Join(parts, ", ")
}

// finishTree runs the checks that need every header: entries on disk the
// tar never had (in the dirs of the tar, the root, and the parents Unpack
// made), opaque dirs the tar never made, and the count of entries below
// each missing dir.
func (lc *layerCheck) finishTree() {
	t := &lc.tree
	if names, err := lc.dirs.names("."); err == nil {
		t.listed["."] = names
		lc.listOwn(".", lc.dirs.root.d)
	}
	for dir := range t.implied {
		if _, ok := t.listed[dir]; ok {
			continue
		}
		if _, ok := t.missing[dir]; ok {
			continue
		}
		if _, ok := t.underMissing(dir); ok {
			continue
		}
		if d, err := lc.dirs.get(dir); err == nil {
			if names, err := lc.dirs.names(dir); err == nil {
				t.listed[dir] = names
				lc.listOwn(dir, d)
			}
			lc.dirs.put(dir)
		}
	}
	dirs := make([]string, 0, len(t.listed))
	for d := range t.listed {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	for _, dir := range dirs {
		exp := map[string]bool{}
		for _, n := range t.expected[dir] {
			exp[n] = true
		}
		if lc.m.terms.WholeTreeLayers {
			lc.wholeTreeDir(dir, exp)
			continue
		}
		names := slices.Clone(t.listed[dir])
		slices.Sort(names)
		for _, n := range names {
			if !exp[n] {
				lc.extra(dir, n)
			}
		}
	}
	opq := make([]string, 0, len(t.opaque))
	for d := range t.opaque {
		if !t.markers[d] {
			opq = append(opq, d)
		}
	}
	slices.Sort(opq)
	_, form := lc.m.marks.Forms()
	for _, d := range opq {
		lc.add(lc.at(KindOpaqueExtra, d, "not opaque", form,
			"the dir was made opaque after Docker extracted the layer: it hides every lower layer's entries below it"))
	}
	for dir, i := range t.missing {
		if n := t.hidden[dir]; n > 0 {
			lc.res.findings[i].Message += fmt.Sprintf(" (nor the %d entries of the tar below it, not listed)", n)
		}
	}
}

// listOwn reads, for a layer that is a whole tree, which entries of the
// listed dir d are the layer's own and which of the layer below it lacks.
func (lc *layerCheck) listOwn(dir string, d *layerfs.Dir) {
	if !lc.m.terms.WholeTreeLayers {
		return
	}
	own, gone, err := lc.m.ownNames(d)
	if err != nil {
		lc.add(lc.at(KindUnreadable, dir, "", "", err.Error()))
		return
	}
	lc.tree.own[dir], lc.tree.gone[dir] = own, gone
}

// wholeTreeDir reconciles a dir of the tar with a layer dir that is a
// whole tree (Terms.WholeTreeLayers): it also holds the entries of the
// layer below, and the layer's deletions are absences. The layer's own
// entries must be the tar's, but for the dirs it copied from the layer
// below, which must hold nothing of its own (checked all the way down);
// an entry of the layer below may be absent only where the tar deletes it
// (a .wh. entry, or an opaque dir); in a dir the tar made opaque, no entry
// of the layer below may be left.
func (lc *layerCheck) wholeTreeDir(dir string, exp map[string]bool) {
	t := &lc.tree
	if lc.belowUnknown {
		return // which entries are the layer's own is not known
	}
	own := map[string]bool{}
	for _, n := range t.own[dir] {
		own[n] = true
	}
	var copies []string
	for _, n := range sorted(t.own[dir]) {
		if exp[n] {
			continue
		}
		if rel := path.Join(dir, n); lc.isDir(dir, n) && !t.markers[dir] && lc.belowHasDir(rel) {
			copies = append(copies, rel)
			continue
		}
		lc.extra(dir, n)
	}
	lc.goneExtra(dir, t.gone[dir], exp)
	lc.checkCopies(copies)
	if !t.markers[dir] {
		return
	}
	for _, n := range sorted(t.listed[dir]) {
		if !own[n] && !exp[n] {
			rel := path.Join(dir, n)
			lc.add(lc.at(KindOpaqueMissing, rel, "absent (the dir is opaque)", "the lower layer's entry",
				"the layer made /"+dir+" opaque (.wh..wh..opq), but its tree still has this entry of the layer below: it shows through again"))
		}
	}
}

// goneExtra reports the entries of the layer below that dir lacks though
// the tar never deleted them (exp holds the tar's deletions; an opaque
// dir of the tar deletes everything).
func (lc *layerCheck) goneExtra(dir string, gone []string, exp map[string]bool) {
	if lc.tree.markers[dir] {
		return
	}
	for _, n := range sorted(gone) {
		if !exp[n] {
			rel := path.Join(dir, n)
			lc.add(lc.at(KindWhiteoutExtra, rel, "the lower layer's entry", "absent",
				fmt.Sprintf("the layer's tree lacks /%s of the layer below, but its tar never deleted it: it is gone from every image and container built on this layer", rel)))
		}
	}
}

// checkCopies checks, depth first, dirs of a whole-tree layer that its
// tar does not list: copies of the layer below's, which must hold no
// entry of the layer's own (an added or replaced file is extra; a copied
// dir is checked in turn) and lack none of the layer below's.
func (lc *layerCheck) checkCopies(stack []string) {
	slices.Reverse(stack)
	for len(stack) > 0 {
		rel := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		d, err := lc.dirs.get(rel)
		if err != nil {
			lc.add(lc.at(KindUnreadable, rel, "", "", err.Error()))
			continue
		}
		own, gone, err := lc.m.ownNames(d)
		lc.dirs.put(rel)
		if err != nil {
			lc.add(lc.at(KindUnreadable, rel, "", "", err.Error()))
			continue
		}
		var sub []string
		for _, n := range sorted(own) {
			if c := path.Join(rel, n); lc.isDir(rel, n) && lc.belowHasDir(c) {
				sub = append(sub, c)
				continue
			}
			lc.extra(rel, n)
		}
		lc.goneExtra(rel, gone, nil)
		slices.Reverse(sub)
		stack = append(stack, sub...)
	}
}

// isDir reports whether name in the layer's dir dir is a directory.
func (lc *layerCheck) isDir(dir, name string) bool {
	d, err := lc.dirs.get(dir)
	if err != nil {
		return false
	}
	defer lc.dirs.put(dir)
	st, ok, err := d.Lstat(name)
	return err == nil && ok && st.IsDir()
}

// belowHasDir reports whether the layer below (a whole tree) has a dir at
// rel, opened component by component without following a symlink.
func (lc *layerCheck) belowHasDir(rel string) bool {
	if lc.below == "" {
		return false
	}
	d, err := lc.m.s.FS().OpenDir(lc.below)
	if err != nil {
		return false
	}
	for _, name := range strings.Split(rel, "/") {
		sub, err := d.Sub(name)
		d.Close()
		if err != nil {
			return false
		}
		d = sub
	}
	d.Close()
	return true
}

func sorted(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}

// extra reports an entry on disk that no header made.
func (lc *layerCheck) extra(dir, name string) {
	if dir == "." && lc.m.marks.RootFile(name) {
		return // the driver's own files at the root of a layer dir
	}
	rel := path.Join(dir, name)
	d, err := lc.dirs.get(dir)
	if err != nil {
		return
	}
	defer lc.dirs.put(dir)
	st, ok, err := d.Lstat(name)
	if err != nil || !ok {
		return
	}
	de := diskEntry{st: st, exists: true}
	if st.Type() == layerfs.TypeFile && st.Size == 0 {
		for _, k := range lc.m.marks.Xattrs() {
			if v, ok, _ := d.Xattr(name, k); ok {
				if de.xattrs == nil {
					de.xattrs = map[string][]byte{}
				}
				de.xattrs[k] = v
			}
		}
	}
	if wo, _ := lc.m.isWhiteout(&de); wo {
		lc.add(lc.at(KindWhiteoutExtra, rel, "nothing", "whiteout",
			fmt.Sprintf("a whiteout the layer never had: it hides /%s of the lower layers in every image and container built on this layer", rel)))
		return
	}
	actual := string(st.Type())
	switch st.Type() {
	case layerfs.TypeFile:
		actual = fmt.Sprintf("file, %d bytes, mode %04o, owner %d:%d", st.Size, st.Perm(), st.UID, st.GID)
	case layerfs.TypeSymlink:
		if t, err := d.Readlink(name); err == nil {
			actual = "symlink to " + strconv.Quote(t)
		}
	case layerfs.TypeDir:
		actual = fmt.Sprintf("dir, mode %04o (its entries are not listed)", st.Perm())
	}
	lc.add(lc.at(KindExtraFile, rel, "nothing", actual,
		"an entry the layer's tar never had: it was added to the layer dir after Docker extracted it (Docker does not notice)"))
}
