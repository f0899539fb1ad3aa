package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/vbatts/tar-split/tar/storage"
	"golang.org/x/sys/unix"
)

// tamper is one change to a clean rich store and the finding it must give.
type tamper struct {
	name   string
	do     func(t *testing.T, s store)
	kind   Kind
	object func(s store) string // "" for the store
	path   func(s store) string
	// only: the findings must be exactly these kinds (nil: any others too)
	only []Kind
	root bool // needs root
}

func layerObj(i int) func(s store) string {
	return func(s store) string { return s.layer(i).ChainID.String() }
}

func inLayer(p string) func(store) string { return func(store) string { return p } }

// keepTimes runs do and then puts back the mtime of p and of its dir, as
// a careful attacker would.
func keepTimes(t *testing.T, p string, do func()) {
	t.Helper()
	var st, dst unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	unix.Lstat(filepath.Dir(p), &dst)
	do()
	unix.UtimesNano(p, []unix.Timespec{st.Atim, st.Mtim})
	unix.UtimesNano(filepath.Dir(p), []unix.Timespec{dst.Atim, dst.Mtim})
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var tampers = []tamper{
	{name: "byte changed in a lower layer", kind: KindContentMismatch, object: layerObj(0), path: inLayer("/etc/conf"),
		only: []Kind{KindContentMismatch, KindDiffIDMismatch},
		do: func(t *testing.T, s store) {
			p := s.diff(0, "etc/conf")
			keepTimes(t, p, func() { mustDo(t, os.WriteFile(p, []byte("a=2\n"), 0o644)) })
		}},
	{name: "byte changed in a streamed file", kind: KindContentMismatch, object: layerObj(0), path: inLayer("/big.bin"),
		only: []Kind{KindContentMismatch, KindDiffIDMismatch},
		do: func(t *testing.T, s store) {
			p := s.diff(0, "big.bin")
			keepTimes(t, p, func() {
				f, err := os.OpenFile(p, os.O_WRONLY, 0)
				mustDo(t, err)
				b := []byte{bigData[1<<20] ^ 1}
				_, err = f.WriteAt(b, 1<<20)
				mustDo(t, err)
				f.Close()
			})
		}},
	{name: "file truncated", kind: KindSizeMismatch, object: layerObj(0), path: inLayer("/bin/tool"),
		do: func(t *testing.T, s store) { mustDo(t, os.Truncate(s.diff(0, "bin/tool"), 3)) }},
	{name: "setuid added", kind: KindModeMismatch, object: layerObj(0), path: inLayer("/bin/tool"), only: []Kind{KindModeMismatch},
		do: func(t *testing.T, s store) { mustDo(t, unix.Chmod(s.diff(0, "bin/tool"), 0o4755)) }},
	{name: "file added to a lower layer", kind: KindExtraFile, object: layerObj(0), path: inLayer("/etc/evil"),
		only: []Kind{KindExtraFile},
		do: func(t *testing.T, s store) {
			p := s.diff(0, "etc/evil")
			var dst unix.Stat_t
			unix.Lstat(filepath.Dir(p), &dst)
			mustDo(t, os.WriteFile(p, []byte("x"), 0o644))
			unix.UtimesNano(filepath.Dir(p), []unix.Timespec{dst.Atim, dst.Mtim})
		}},
	{name: "file removed", kind: KindEntryMissing, object: layerObj(1), path: inLayer("/etc/conf2"),
		do: func(t *testing.T, s store) { mustDo(t, os.Remove(s.diff(1, "etc/conf2"))) }},
	{name: "whiteout removed", kind: KindWhiteoutMissing, object: layerObj(1), path: inLayer("/etc/gone"),
		do: func(t *testing.T, s store) { mustDo(t, os.Remove(s.diff(1, "etc/gone"))) }},
	{name: "whiteout added", kind: KindWhiteoutExtra, object: layerObj(1), path: inLayer("/etc/conf"),
		do: func(t *testing.T, s store) {
			if s.Form.DeviceWhiteouts() {
				mustDo(t, unix.Mknod(s.diff(1, "etc/conf"), unix.S_IFCHR, 0))
			} else {
				mustDo(t, os.WriteFile(s.diff(1, "etc/conf"), nil, 0o600))
				mustDo(t, unix.Lsetxattr(s.diff(1, "etc/conf"), s.Form.XattrPrefix()+"whiteout", []byte("y"), 0))
			}
		}},
	{name: "opaque xattr removed", kind: KindOpaqueMissing, object: layerObj(1), path: inLayer("/data"), only: []Kind{KindOpaqueMissing},
		do: func(t *testing.T, s store) {
			mustDo(t, unix.Lremovexattr(s.diff(1, "data"), s.Form.XattrPrefix()+"opaque"))
		}},
	{name: "opaque xattr added", kind: KindOpaqueExtra, object: layerObj(1), path: inLayer("/etc"), only: []Kind{KindOpaqueExtra},
		do: func(t *testing.T, s store) {
			mustDo(t, unix.Lsetxattr(s.diff(1, "etc"), s.Form.XattrPrefix()+"opaque", []byte("y"), 0))
		}},
	{name: "symlink retargeted", kind: KindSymlinkMismatch, object: layerObj(0), path: inLayer("/bin/link"),
		do: func(t *testing.T, s store) {
			mustDo(t, os.Remove(s.diff(0, "bin/link")))
			mustDo(t, os.Symlink("/etc/shadow", s.diff(0, "bin/link")))
		}},
	{name: "hardlink split", kind: KindHardlinkMismatch, object: layerObj(0), path: inLayer("/bin/tool2"),
		do: func(t *testing.T, s store) {
			p := s.diff(0, "bin/tool2")
			mustDo(t, os.Remove(p))
			mustDo(t, os.WriteFile(p, []byte("tool v1\n"), 0o755))
		}},
	{name: "file replaced by a symlink", kind: KindTypeMismatch, object: layerObj(0), path: inLayer("/etc/conf"),
		do: func(t *testing.T, s store) {
			mustDo(t, os.Remove(s.diff(0, "etc/conf")))
			mustDo(t, os.Symlink("/etc/passwd", s.diff(0, "etc/conf")))
		}},
	{name: "mtime touched", kind: KindMtimeMismatch, object: layerObj(2), path: inLayer("/top"), only: []Kind{KindMtimeMismatch},
		do: func(t *testing.T, s store) {
			mustDo(t, os.Chtimes(s.diff(2, "top"), time.Now(), time.Now()))
		}},
	{name: "owner changed", kind: KindOwnerMismatch, object: layerObj(0), path: inLayer("/home/u"), root: true,
		do: func(t *testing.T, s store) { mustDo(t, os.Lchown(s.diff(0, "home/u"), 0, 0)) }},
	{name: "capability added", kind: KindXattrMismatch, object: layerObj(0), path: inLayer("/bin/tool"), root: true,
		do: func(t *testing.T, s store) {
			mustDo(t, unix.Lsetxattr(s.diff(0, "bin/tool"), "security.capability",
				[]byte("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), 0))
		}},
	{name: "tar-split truncated", kind: KindTarSplitMalformed, object: layerObj(0), path: func(s store) string { return s.layerdb(0, "tar-split.json.gz") },
		only: []Kind{KindTarSplitMalformed},
		do: func(t *testing.T, s store) {
			fi, _ := os.Stat(s.layerdb(0, "tar-split.json.gz"))
			mustDo(t, os.Truncate(s.layerdb(0, "tar-split.json.gz"), fi.Size()/2))
		}},
	{name: "tar-split removed", kind: KindTarSplitMissing, object: layerObj(1), path: func(s store) string { return s.layerdb(1, "tar-split.json.gz") },
		do: func(t *testing.T, s store) { mustDo(t, os.Remove(s.layerdb(1, "tar-split.json.gz"))) }},
	{name: "tar-split duplicate name", kind: KindTarSplitDuplicate, object: layerObj(2), path: inLayer("top"),
		do: func(t *testing.T, s store) {
			p := s.layerdb(2, "tar-split.json.gz")
			es := readTarSplit(t, p)
			var out []storage.Entry
			for _, e := range es {
				out = append(out, e)
				if e.Type == storage.FileType && e.Name == "top" {
					out = append(out, storage.Entry{Type: storage.FileType, Name: "top"})
				}
			}
			writeTarSplit(t, p, out)
		}},
	{name: "image config edited", kind: KindImageIDMismatch, path: func(s store) string {
		return filepath.Join(s.Root, "image/overlay2/imagedb/content/sha256", s.Images[0].ID.Encoded())
	}, object: func(s store) string { return s.Images[0].ID.String() }, only: []Kind{KindImageIDMismatch},
		do: func(t *testing.T, s store) {
			p := filepath.Join(s.Root, "image/overlay2/imagedb/content/sha256", s.Images[0].ID.Encoded())
			b, _ := os.ReadFile(p)
			mustDo(t, os.WriteFile(p, []byte(strings.Replace(string(b), "amd64", "arm64", 1)), 0o600))
		}},
	{name: "layerdb diff edited", kind: KindLayerDiffMismatch, object: layerObj(1), path: func(s store) string { return s.layerdb(1, "diff") },
		only: []Kind{KindLayerDiffMismatch},
		do: func(t *testing.T, s store) {
			mustDo(t, os.WriteFile(s.layerdb(1, "diff"), []byte(s.layer(0).DiffID), 0o644))
		}},
	{name: "layerdb size malformed", kind: KindSizeMalformed, object: layerObj(1), path: func(s store) string { return s.layerdb(1, "size") },
		do: func(t *testing.T, s store) { mustDo(t, os.WriteFile(s.layerdb(1, "size"), []byte("12k"), 0o644)) }},
	{name: "cache dir removed", kind: KindCacheDirMissing, object: layerObj(1), only: []Kind{KindCacheDirMissing},
		path: func(s store) string { return filepath.Join(s.Root, "overlay2", s.layer(1).CacheID) },
		do: func(t *testing.T, s store) {
			mustDo(t, os.RemoveAll(filepath.Join(s.Root, "overlay2", s.layer(1).CacheID)))
		}},
	{name: "l/ link broken", kind: KindLinkBroken, object: layerObj(0), only: []Kind{KindLinkBroken},
		path: func(s store) string { return filepath.Join(s.Root, "overlay2/l", s.layer(0).Link) },
		do: func(t *testing.T, s store) {
			p := filepath.Join(s.Root, "overlay2/l", s.layer(0).Link)
			mustDo(t, os.Remove(p))
			mustDo(t, os.Symlink("../"+s.layer(1).CacheID+"/diff", p))
		}},
	{name: "lower file edited", kind: KindLowerMismatch, object: layerObj(2),
		path: func(s store) string { return filepath.Join(s.Root, "overlay2", s.layer(2).CacheID, "lower") },
		do: func(t *testing.T, s store) {
			p := filepath.Join(s.Root, "overlay2", s.layer(2).CacheID, "lower")
			mustDo(t, os.WriteFile(p, []byte("l/"+s.layer(0).Link), 0o644))
		}},
	{name: "tag of a removed image", kind: KindTagDangling, object: func(s store) string { return s.Images[0].ID.String() },
		path: func(s store) string { return filepath.Join(s.Root, "image/overlay2/repositories.json") },
		do: func(t *testing.T, s store) {
			mustDo(t, os.Remove(filepath.Join(s.Root, "image/overlay2/imagedb/content/sha256", s.Images[0].ID.Encoded())))
		}},
	{name: "container's rw layer removed", kind: KindContainerLayerMissing, object: func(s store) string { return s.Containers[0].ID },
		path: func(s store) string { return filepath.Join(s.Root, "overlay2", s.Containers[0].MountID) },
		do: func(t *testing.T, s store) {
			mustDo(t, os.RemoveAll(filepath.Join(s.Root, "overlay2", s.Containers[0].MountID)))
		}},
	{name: "container's upper dir replaced by a symlink out of the root", kind: KindContainerLayerMissing, object: func(s store) string { return s.Containers[0].ID },
		path: func(s store) string { return filepath.Join(s.Root, "overlay2", s.Containers[0].MountID, "diff") },
		do: func(t *testing.T, s store) {
			p := filepath.Join(s.Root, "overlay2", s.Containers[0].MountID, "diff")
			mustDo(t, os.RemoveAll(p))
			mustDo(t, os.Symlink(t.TempDir(), p))
		}},
	{name: "container's upper dir replaced by a device", kind: KindContainerLayerMissing, object: func(s store) string { return s.Containers[0].ID },
		path: func(s store) string { return filepath.Join(s.Root, "overlay2", s.Containers[0].MountID, "diff") }, root: true,
		do: func(t *testing.T, s store) {
			p := filepath.Join(s.Root, "overlay2", s.Containers[0].MountID, "diff")
			mustDo(t, os.RemoveAll(p))
			mustDo(t, unix.Mknod(p, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))))
		}},
	{name: "mount record without container", kind: KindMountOrphan, object: func(s store) string { return s.Containers[0].ID },
		path: func(s store) string {
			return filepath.Join(s.Root, "image/overlay2/layerdb/mounts", s.Containers[0].ID)
		},
		do: func(t *testing.T, s store) {
			mustDo(t, os.RemoveAll(filepath.Join(s.Root, "containers", s.Containers[0].ID)))
		}},
}

func TestTampers(t *testing.T) {
	for _, form := range forms(t) {
		for _, tc := range tampers {
			t.Run(form.String()+"/"+tc.name, func(t *testing.T) {
				if tc.root && os.Geteuid() != 0 {
					t.Skip("needs root (chown, security.capability)")
				}
				if tc.kind == KindOpaqueMissing {
					// without CAP_SYS_ADMIN trusted.* xattrs are hidden: verify
					// cannot tell a removed opaque xattr from a hidden one, so
					// it does not judge it and says the run is incomplete
					engine.NeedRoot(t, "a missing opaque xattr is told from a hidden trusted.* one only with CAP_SYS_ADMIN")
				}
				s := build(t, richStore(), form)
				tc.do(t, s)
				r := s.run(t, Options{})
				checkFinding(t, r, tc, s)
			})
		}
	}
}

func checkFinding(t *testing.T, r *Report, tc tamper, s store) {
	t.Helper()
	obj, p := "", tc.path(s)
	if tc.object != nil {
		obj = tc.object(s)
	}
	found := false
	for _, f := range r.Findings {
		if f.Kind == tc.kind && f.Object == obj && f.Path == p {
			found = true
			if f.Message == "" || f.Check != tc.kind.Check() || (f.ObjectType == ObjectLayer && len(f.Affects.Images) == 0) {
				t.Errorf("finding incomplete: %+v", f)
			}
		}
	}
	if !found {
		t.Fatalf("want %s on %s at %s; got %q\n%+v", tc.kind, obj, p, kinds(r.Findings), r.Findings)
	}
	if tc.only != nil {
		for _, f := range r.Findings {
			if !containsKind(tc.only, f.Kind) {
				t.Errorf("unexpected finding %s %s: %s", f.Kind, f.Path, f.Message)
			}
		}
	}
}

func containsKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}
