package overlay

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/opencontainers/go-digest"
)

// ctrID is the test store's container; its rw layer dir is idM.
var ctrID = strings.Repeat("c", 64)

// completeStore adds to the test store what the core reads besides the
// layer dirs: layerdb sizes as moby's overlay ApplyDiff records them (the
// bytes of the regular files each layer's tar applied), an image of the
// three layers, tagged, and a container whose rw layer is idM. The rw
// upper dir holds a copy of /d/x that changes nothing (as after open for
// writing), a changed /a, an added /n2 with a second name /n3, and the
// init layer's /.dockerenv. It returns the store opened.
func completeStore(t *testing.T, s *testStore) *inspect.Store {
	t.Helper()
	for i, size := range []int{4, 4, 0} { // L1: a, d/x, gone, keep; L2: keep, new, d/y; L3: a symlink only
		write(t, filepath.Join(s.root, "image", "overlay", "layerdb", "sha256", s.chains[i].Encoded(), "size"), strconv.Itoa(size))
	}
	var diffs []string
	for _, c := range s.chains {
		b, err := os.ReadFile(filepath.Join(s.root, "image", "overlay", "layerdb", "sha256", c.Encoded(), "diff"))
		must(t, err)
		diffs = append(diffs, string(b))
	}
	cfg, err := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffs},
		"history": []map[string]any{{"created_by": "L1"}, {"created_by": "L2"}, {"created_by": "L3"}}})
	must(t, err)
	img := digest.NewDigestFromEncoded(digest.SHA256, fmt.Sprintf("%x", sha256.Sum256(cfg)))
	write(t, filepath.Join(s.root, "image", "overlay", "imagedb", "content", "sha256", img.Encoded()), string(cfg))
	write(t, filepath.Join(s.root, "image", "overlay", "repositories.json"),
		`{"Repositories":{"t":{"t:1":"`+string(img)+`"}}}`)
	mounts := filepath.Join(s.root, "image", "overlay", "layerdb", "mounts", ctrID)
	write(t, filepath.Join(mounts, "mount-id"), idM)
	write(t, filepath.Join(mounts, "init-id"), idM+InitSuffix)
	write(t, filepath.Join(mounts, "parent"), string(s.chains[2]))
	ctr, err := json.Marshal(map[string]any{"ID": ctrID, "Name": "/c", "Image": string(img), "Driver": "overlay",
		"Created": time.Unix(1, 0).UTC(), "Config": map[string]any{"Image": "t:1"},
		"State": map[string]any{"FinishedAt": time.Unix(3, 0).UTC(), "StartedAt": time.Unix(2, 0).UTC()}})
	must(t, err)
	write(t, filepath.Join(s.root, "containers", ctrID, "config.v2.json"), string(ctr))

	up := filepath.Join(s.home, idM, "upper")
	write(t, filepath.Join(up, "a"), "aa")
	write(t, filepath.Join(up, "n2"), "nnn")
	must(t, os.Link(filepath.Join(up, "n2"), filepath.Join(up, "n3")))
	write(t, filepath.Join(up, "d", "x"), "x")
	fi, err := os.Stat(filepath.Join(s.home, idL3, "root", "d", "x"))
	must(t, err)
	must(t, os.Chtimes(filepath.Join(up, "d", "x"), fi.ModTime(), fi.ModTime()))
	// the rw layer's /.dockerenv is a copy of the init layer's
	fi, err = os.Stat(filepath.Join(s.home, idM+InitSuffix, "upper", ".dockerenv"))
	must(t, err)
	must(t, os.Chtimes(filepath.Join(up, ".dockerenv"), fi.ModTime(), fi.ModTime()))
	st, err := inspect.OpenWith(s.root, inspect.Options{Backends: backend.NewRegistry(New())})
	must(t, err)
	return st
}

// TestSizeRules: the rw layer's size is Docker's SizeRw on this driver,
// the size of what docker diff lists as added or changed (ChangesSize:
// /a and /n2=/n3 once, not the unchanged copy of /d/x nor /.dockerenv);
// an image layer's own regular files are its layerdb size (not its whole
// root/, which holds the layers below too).
func TestSizeRules(t *testing.T) {
	s := newStore(t)
	st := completeStore(t, s)
	x, err := st.Explain(ctrID, inspect.ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var diff []string
	for _, d := range x.Diff {
		diff = append(diff, d.Kind+" "+d.Path)
	}
	if got := strings.Join(diff, ","); got != "C /a,A /n2,A /n3" {
		t.Errorf("docker diff %s", got)
	}
	if x.Layers[0].Size != 2+3 {
		t.Errorf("rw size %d, want 5 (the docker diff's A and C files, each inode once)", x.Layers[0].Size)
	}
	if n, err := st.RWSize(ctrID); err != nil || n != 5 {
		t.Errorf("RWSize = %d %v, want 5", n, err)
	}
	for i, want := range []int64{4, 4, 0} {
		if n, err := st.TarFilesSize(filepath.Join(s.home, []string{idL1, idL2, idL3}[i], "root")); err != nil || n != want {
			t.Errorf("TarFilesSize(L%d) = %d %v, want %d", i+1, n, err, want)
		}
	}
	for _, f := range x.Findings {
		t.Errorf("explain: unexpected finding %+v", f)
	}
}

// TestDU: du on the store gives Docker's numbers (layer sizes equal to
// layerdb's, no layer_size_mismatch; SizeRw and SizeRootFs as
// /system/df), charges every layer dir to its owner, and the driver dir
// and the whole root add up to du -sxB1, hardlinks across the layers'
// trees counted once and charged to the layer nearest the base.
func TestDU(t *testing.T) {
	s := newStore(t)
	st := completeStore(t, s)
	r, err := du.Audit(st, du.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		t.Errorf("unexpected finding %+v", f)
	}
	if len(r.Orphans) != 0 || len(r.Layers) != 3 || len(r.Containers) != 1 {
		t.Fatalf("orphans %+v, %d layers, %d containers", r.Orphans, len(r.Layers), len(r.Containers))
	}
	for _, l := range r.Layers {
		if l.MeasuredSize != l.Size {
			t.Errorf("layer %s: measured %d, layerdb %d", l.CacheID[:2], l.MeasuredSize, l.Size)
		}
	}
	c := r.Containers[0]
	if c.SizeRw != 5 || c.SizeRootFs != 5+8 || c.InitSize != 0 {
		t.Errorf("container: size_rw %d size_root_fs %d init %d, want 5, 13, 0", c.SizeRw, c.SizeRootFs, c.InitSize)
	}
	for dir, got := range map[string]int64{r.DriverDir: r.Summary.DriverDir.DiskUsage, r.Root: r.Summary.Total.DiskUsage} {
		out, err := exec.Command("du", "-sxB1", dir).Output()
		if err != nil {
			t.Skipf("du: %v", err)
		}
		want, _ := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
		if got != want {
			t.Errorf("%s: dlayer %d, du -sxB1 %d", dir, got, want)
		}
	}
	// /a is one inode in the three roots: L1's blocks.
	var base du.Layer
	for _, l := range r.Layers {
		if l.CacheID == idL1 {
			base = l
		}
	}
	if base.DiskUsage < 4*4096 {
		t.Errorf("the base layer holds the blocks of its 4 files: %d", base.DiskUsage)
	}
}

// TestWalkLayerImpliedDirs: every root/ holds a copy of every dir of its
// parent's. As in Docker's diff of the layer (its tar), a dir is one of
// the layer's changes only when something below it is the layer's or its
// metadata differs: L3 re-points a symlink and owns no dir; L2 adds
// /d/y, so /d is its change (the parent of one); a chmod of L3's /d makes
// /d L3's own.
func TestWalkLayerImpliedDirs(t *testing.T) {
	s := newStore(t)
	st := completeStore(t, s)
	walk := func(pos int) map[string]inspect.ChangeKind {
		t.Helper()
		x, err := st.Stack("c")
		must(t, err)
		i := len(x.Layers) - pos
		w, err := st.WalkLayer(x.Layers, i)
		must(t, err)
		got := map[string]inspect.ChangeKind{}
		n := 0
		for _, c := range w.Changes {
			got[c.Path] = c.Kind
		}
		for _, c := range w.Counts {
			n += c.Entries
		}
		if n != len(w.Changes) {
			t.Errorf("L%d: counts %v add up to %d, %d changes", pos, w.Counts, n, len(w.Changes))
		}
		return got
	}
	for pos, want := range map[int]map[string]inspect.ChangeKind{
		3: {"/s": inspect.KindModified},
		2: {"/d": inspect.KindCopiedUp, "/d/y": inspect.KindAdded, "/gone": inspect.KindWhiteout, "/keep": inspect.KindModified, "/new": inspect.KindAdded},
	} {
		if got := walk(pos); !maps.Equal(got, want) {
			t.Errorf("L%d: changes %v, want %v", pos, got, want)
		}
	}
	must(t, os.Chmod(filepath.Join(s.home, idL3, "root", "d"), 0o700))
	if got := walk(3); got["/d"] != inspect.KindModified || len(got) != 2 {
		t.Errorf("L3 after chmod of its /d: %v, want /d modified and /s", got)
	}
}
