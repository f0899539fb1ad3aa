package inspect

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/pkg/xattr"
	"golang.org/x/sys/unix"
)

// These tests let the kernel's overlayfs make the upper dir (real whiteouts,
// opaque dirs, redirects, metacopy), then check the offline walk against an
// oracle that does what docker diff does: walk both mounted trees in full
// and compare them (moby pkg/archive ChangesDirs).

// needRoot skips as non-root, unless the real-engine switch is on (CI),
// where a skip would hide that the test never ran.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		const msg = "needs root: mounts overlayfs to let the kernel make whiteouts and overlay xattrs"
		if _, required := engine.Enabled(); required {
			t.Fatal(msg + " (DLAYER_E2E=1 requires every test to run)")
		}
		t.Skip(msg)
	}
}

// kernelCase is one scenario: lower layers (base first) made with a shell
// script each, then a script run inside the mounted union.
type kernelCase struct {
	name   string
	opts   string // extra mount options
	lowers []string
	change string
	// opaque marks a dir of a lower layer opaque, as layer extraction does
	opaque map[int]string
	// kinds the walk must report (so a case cannot pass by doing nothing)
	kinds []ChangeKind
}

var kernelCases = []kernelCase{
	{name: "basic", lowers: []string{
		"mkdir -p bin etc/sub && echo a > etc/a && echo b > etc/sub/b && ln -s a etc/link && echo x > bin/x && echo keep > keep",
		"mkdir -p etc opt/o && echo c > etc/c && mknod etc/a c 0 0 && echo o > opt/o/o",
	}, change: "echo more >> etc/c && rm bin/x && rm -rf etc/sub && mkdir etc/sub && echo n > etc/sub/n && chmod 600 keep && " +
		"touch new && mkdir -p d1/d2 && echo z > d1/d2/z && exec 3>>opt/o/o && ln -sf other etc/link && mkfifo fifo",
		kinds: []ChangeKind{KindAdded, KindModified, KindCopiedUp, KindWhiteout, KindOpaque}},
	{name: "type changes", lowers: []string{"mkdir -p a/b && echo f > a/b/f && echo f > file && mkdir dir && echo g > dir/g"},
		change: "rm file && mkdir file && echo in > file/in && rm -rf dir && echo now > dir && rm -rf a && mkdir a",
		kinds:  []ChangeKind{KindModified, KindOpaque}},
	{name: "whiteout in lower", lowers: []string{
		"mkdir -p d && echo 1 > d/one && echo 2 > d/two && mkdir e && echo e > e/e",
		// a lower layer deleting d/one and making e opaque, in tar-extracted form
		"mkdir -p d && mknod d/one c 0 0 && mkdir e && echo new > e/new",
	}, opaque: map[int]string{1: "e"}, change: "echo w > d/one && touch d/two && rm e/new && echo again > e/e",
		kinds: []ChangeKind{KindAdded, KindModified, KindWhiteout}},
	{name: "redirect and metacopy", opts: ",redirect_dir=on,metacopy=on", lowers: []string{
		"mkdir -p src/in && echo s > src/in/s && echo t > src/t && echo m > meta && mkdir other && echo o > other/o",
	}, change: "mv src moved && chmod 600 meta && mv other/o other/o2 && touch moved/added",
		kinds: []ChangeKind{KindRedirect, KindMetadataCopyUp, KindWhiteout}},
	// below an added dir (what the walk for docker diff alone reads for
	// markers only): a renamed lower dir, empty files, a file over a
	// deleted name, a dir replacing a lower file
	{name: "below an added dir", opts: ",redirect_dir=on", lowers: []string{
		"mkdir -p src/in && echo s > src/in/s && echo t > src/t && echo f > f && : > e0",
	}, change: "mkdir -p n/m && mv src n/m/moved && : > n/empty && echo z > n/m/moved/z && rm n/m/moved/t && rm f && mkdir f && : > f/g && echo h > f/h && rm e0",
		kinds: []ChangeKind{KindRedirect, KindAdded, KindWhiteout}},
	{name: "userxattr (rootless form)", opts: ",userxattr", lowers: []string{"mkdir -p d/s && echo 1 > d/one && echo s > d/s/s"},
		change: "rm d/one && rm -rf d/s && mkdir d/s && echo x >> d/two",
		kinds:  []ChangeKind{KindAdded, KindWhiteout, KindOpaque}},
}

func TestWalkMatchesKernelUnion(t *testing.T) {
	needRoot(t)
	for _, tc := range kernelCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var lowers []string
			for i, script := range tc.lowers {
				l := filepath.Join(dir, "l"+string(rune('0'+i)))
				mustMkdir(t, l)
				sh(t, l, script)
				if p, ok := tc.opaque[i]; ok {
					if err := xattr.LSet(filepath.Join(l, p), "trusted.overlay.opaque", []byte("y")); err != nil {
						t.Fatal(err)
					}
				}
				lowers = append([]string{l}, lowers...) // uppermost first
			}
			upper, work, merged, old := filepath.Join(dir, "u"), filepath.Join(dir, "w"), filepath.Join(dir, "m"), filepath.Join(dir, "old")
			for _, d := range []string{upper, work, merged, old} {
				mustMkdir(t, d)
			}
			lo := strings.Join(lowers, ":")
			if len(lowers) == 1 {
				lo += ":" + emptyDir(t, dir)
			}
			mount(t, "lowerdir="+lo, old)
			mount(t, "lowerdir="+strings.Join(lowers, ":")+",upperdir="+upper+",workdir="+work+tc.opts, merged)
			sh(t, merged, tc.change)
			want := oracleDiff(t, old, merged)

			got, kinds := walkDirs(t, upper, lowers)
			for _, k := range tc.kinds {
				if !kinds[k] {
					t.Errorf("no change of kind %s; kinds seen: %v", k, kinds)
				}
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("offline walk differs from the diff of the mounted trees\n got: %q\nwant: %q", got, want)
			}
		})
	}
}

func walkDirs(t *testing.T, upper string, lowers []string) ([]string, map[ChangeKind]bool) {
	t.Helper()
	w := walkPlain(t, upper, lowers...)
	for _, f := range w.finds {
		t.Errorf("finding: %+v", f)
	}
	kinds := map[ChangeKind]bool{}
	for _, c := range w.changes {
		kinds[c.Kind] = true
	}
	out := diffLinesOf(w)
	// the walk for docker diff alone (Store.Diff) gives the same lines
	if d := diffLinesOf(walkPlainWith(t, true, upper, lowers...)); strings.Join(d, "\n") != strings.Join(out, "\n") {
		t.Errorf("the walk for docker diff alone differs\n got: %q\nwant: %q", d, out)
	}
	return out, kinds
}

// diffLinesOf is the docker diff of a walk, sorted.
func diffLinesOf(w *walker) []string {
	var out []string
	w.list.each(func(c *Change) {
		if c.DockerDiff != "" {
			out = append(out, c.DockerDiff+" "+c.Path)
		}
	})
	for _, l := range w.extra {
		out = append(out, l.Kind+" "+l.Path)
	}
	sort.Strings(out)
	return out
}

// oracleDiff compares two whole trees the way docker diff does.
func oracleDiff(t *testing.T, oldRoot, newRoot string) []string {
	t.Helper()
	var out []string
	var visit func(rel string, oldOK bool) bool
	visit = func(rel string, oldOK bool) bool {
		changed := false
		newNames := readNames(t, filepath.Join(newRoot, rel))
		var oldNames map[string]bool
		if oldOK {
			oldNames = map[string]bool{}
			for n := range readNames(t, filepath.Join(oldRoot, rel)) {
				oldNames[n] = true
			}
		}
		for n := range newNames {
			p := filepath.Join(rel, n)
			ns := lstat(t, filepath.Join(newRoot, p))
			var letter string
			childOld := false
			if oldOK && oldNames[n] {
				os := lstat(t, filepath.Join(oldRoot, p))
				if statDifferent(os, ns) || !bytes.Equal(capOf(filepath.Join(oldRoot, p)), capOf(filepath.Join(newRoot, p))) {
					letter = "C"
				}
				childOld = os.IsDir()
			} else {
				letter = "A"
			}
			if ns.IsDir() && visit(p, childOld && ns.IsDir()) && letter == "" {
				letter = "C"
			}
			if letter != "" {
				out = append(out, letter+" "+p)
				changed = true
			}
		}
		for n := range oldNames {
			if _, ok := newNames[n]; !ok {
				out = append(out, "D "+filepath.Join(rel, n))
				changed = true
			}
		}
		return changed
	}
	visit("/", true)
	sort.Strings(out)
	return out
}

func readNames(t *testing.T, dir string) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, e := range ents {
		m[e.Name()] = true
	}
	return m
}

func lstat(t *testing.T, p string) layerfs.Stat {
	t.Helper()
	d, err := layerfs.OpenDir(filepath.Dir(p))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, ok, err := d.Lstat(filepath.Base(p))
	if err != nil || !ok {
		t.Fatalf("lstat %s: %v", p, err)
	}
	return st
}

func capOf(p string) []byte {
	v, _ := xattr.LGet(p, "security.capability")
	return v
}

func mount(t *testing.T, opts, target string) {
	t.Helper()
	if out, err := exec.Command("mount", "-t", "overlay", "overlay", "-o", opts, target).CombinedOutput(); err != nil {
		t.Fatalf("mount %s: %v: %s", opts, err, out)
	}
	t.Cleanup(func() { _ = unix.Unmount(target, unix.MNT_DETACH) })
}

func sh(t *testing.T, dir, script string) {
	t.Helper()
	cmd := exec.Command("sh", "-ec", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", script, err, out)
	}
}

func mustMkdir(t *testing.T, d string) {
	t.Helper()
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
}

func emptyDir(t *testing.T, dir string) string {
	e := filepath.Join(dir, "empty")
	mustMkdir(t, e)
	return e
}
