package overlay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/pkg/xattr"
)

func openDir(t *testing.T, p string) *layerfs.Dir {
	t.Helper()
	d, err := layerfs.OpenDir(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestFormatRootOwnChanges: a root/ dir reads as the layer's own changes
// against its parent's root/.
func TestFormatRootOwnChanges(t *testing.T) {
	s := newStore(t)
	f := s.open(nil).Format()
	for _, tc := range []struct {
		id   string
		want string // ReadDir of root/, "-" marks a whiteout
	}{
		{idL1, "a,d,dev0,gone,keep,s"},       // a base layer owns everything
		{idL2, "d,-gone,keep,new"},           // a, s, dev0 are the parent's (hardlink, identical copies)
		{idL3, "d,s"},                        // only the re-pointed symlink (and the dir copy)
		{idM + InitSuffix, ".dockerenv,etc"}, // not a root/: an overlayfs upper dir
	} {
		dir := filepath.Join(s.home, tc.id, "root")
		if strings.HasSuffix(tc.id, InitSuffix) {
			dir = filepath.Join(s.home, tc.id, "upper")
		}
		ents, err := f.ReadDir(openDir(t, dir))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(entryNames(ents), ","); got != tc.want {
			t.Errorf("%s: ReadDir = %s, want %s", tc.id[:2], got, tc.want)
		}
	}

	r2 := openDir(t, filepath.Join(s.home, idL2, "root"))
	for name, want := range map[string]string{
		"a": "absent", "s": "absent", "dev0": "absent", // the parent's, kept by the copy
		"gone": "whiteout", "keep": "plain", "new": "plain", "d": "plain", "nothing": "absent",
	} {
		e, ok, err := f.Lookup(r2, name)
		got := "absent"
		switch {
		case err != nil:
			t.Fatalf("%s: %v", name, err)
		case ok && e.Kind == layerfs.Whiteout:
			got = "whiteout"
			if e.XattrForm != RootWhiteoutForm {
				t.Errorf("%s: marker %q", name, e.XattrForm)
			}
		case ok:
			got = "plain"
		}
		if got != want {
			t.Errorf("L2 Lookup(%s) = %s, want %s", name, got, want)
		}
	}

	// Below a dir: d/x is L1's, d/y L2's.
	d2 := openDir(t, filepath.Join(s.home, idL2, "root", "d"))
	ents, err := f.ReadDir(d2)
	if err != nil || strings.Join(entryNames(ents), ",") != "y" {
		t.Errorf("L2 /d: %v %v", entryNames(ents), err)
	}
	if _, ok, _ := f.Lookup(d2, "x"); ok {
		t.Errorf("L2 /d/x is L1's hardlink, not L2's")
	}
	d1 := openDir(t, filepath.Join(s.home, idL1, "root", "d"))
	if e, ok, _ := f.Lookup(d1, "x"); !ok || e.Kind != layerfs.Plain {
		t.Errorf("L1 /d/x: %+v %v", e, ok)
	}
}

// TestFormatRootComparesCopies: a symlink or FIFO re-created with other
// metadata, and a dir that replaced a parent's file, are the layer's own.
func TestFormatRootComparesCopies(t *testing.T) {
	s := newStore(t)
	f := s.open(nil).Format()
	r3 := filepath.Join(s.home, idL3, "root")
	must(t, os.Chmod(filepath.Join(r3, "dev0"), 0o644))
	must(t, os.Remove(filepath.Join(r3, "keep")))
	must(t, os.Mkdir(filepath.Join(r3, "keep"), 0o755))
	d := openDir(t, r3)
	for _, name := range []string{"dev0", "keep", "s"} {
		if e, ok, err := f.Lookup(d, name); err != nil || !ok || e.Kind != layerfs.Plain {
			t.Errorf("L3 %s: %+v %v %v, want the layer's own entry", name, e, ok, err)
		}
	}
	// A parent dir that is a file in the parent: nothing below it there.
	write(t, filepath.Join(r3, "keep", "inner"), "i")
	if e, ok, err := f.Lookup(openDir(t, filepath.Join(r3, "keep")), "inner"); err != nil || !ok || e.Kind != layerfs.Plain {
		t.Errorf("L3 /keep/inner: %+v %v %v", e, ok, err)
	}
}

// TestFormatRootCapability: security.capability of a root/ file is read,
// as docker diff compares it. Setting it needs root.
func TestFormatRootCapability(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("setting security.capability needs root")
	}
	s := newStore(t)
	p := filepath.Join(s.home, idL2, "root", "new")
	// VFS_CAP_REVISION_2, cap_net_raw permitted
	capv := []byte{0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if err := xattr.LSet(p, "security.capability", capv); err != nil {
		t.Skipf("cannot set security.capability here: %v", err)
	}
	e, ok, err := s.open(nil).Format().Lookup(openDir(t, filepath.Dir(p)), "new")
	if err != nil || !ok || string(e.Capability) != string(capv) {
		t.Errorf("capability %x %v %v", e.Capability, ok, err)
	}
}

// TestFormatUpperDir: upper/ dirs are read in overlayfs's forms.
func TestFormatUpperDir(t *testing.T) {
	s := newStore(t)
	up := filepath.Join(s.home, idM, "upper")
	write(t, filepath.Join(up, "w"), "")
	if err := xattr.LSet(filepath.Join(up, "w"), "user.overlay.whiteout", []byte("y")); err != nil {
		t.Skipf("user xattrs: %v", err)
	}
	must(t, xattr.LSet(filepath.Join(up, "etc"), "user.overlay.opaque", []byte("y")))
	ents, err := s.open(nil).Format().ReadDir(openDir(t, up))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(entryNames(ents), ","); got != ".dockerenv,etc,-w" {
		t.Errorf("upper: %s", got)
	}
	for _, e := range ents {
		if e.Name == "etc" && !e.Opaque {
			t.Errorf("etc not opaque: %+v", e)
		}
	}
}

// TestFormatNoParentRecord: a root/ whose layer no record names (or a
// base layer) owns everything.
func TestFormatNoParentRecord(t *testing.T) {
	s := newStore(t)
	must(t, os.RemoveAll(filepath.Join(s.root, "image", "overlay", "layerdb", "sha256", s.chains[1].Encoded())))
	ents, err := s.open(nil).Format().ReadDir(openDir(t, filepath.Join(s.home, idL2, "root")))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(entryNames(ents), ","); got != "a,d,dev0,keep,new,s" {
		t.Errorf("L2 without its record: %s", got)
	}
}
