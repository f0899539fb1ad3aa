package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/overlay2"
	"github.com/opencontainers/go-digest"
)

func demoStore(t *testing.T) (*Store, *fixtures.Built) {
	t.Helper()
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	s, err := Open(b.Root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

func TestExplainDemo(t *testing.T) {
	s, b := demoStore(t)
	web := b.Container("web")
	x, err := s.Explain("web", ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Findings) != 0 {
		t.Errorf("findings on a clean store: %+v", x.Findings)
	}
	if x.Container.ID != web.ID || x.RWLayer.MountID != web.MountID || x.RWLayer.InitID != web.InitID {
		t.Errorf("container/rw layer: %+v %+v", x.Container, x.RWLayer.MountRecord)
	}
	img := b.Image("demo/app:2")
	if len(x.Layers) != 2+len(img.Layers) {
		t.Fatalf("%d layers in the stack", len(x.Layers))
	}
	for i, l := range img.Layers { // base first
		sl := x.Layers[len(x.Layers)-1-i]
		if sl.Position != i+1 || sl.ChainID != l.ChainID || sl.DiffID != l.DiffID || sl.CacheID != l.CacheID || sl.Size != l.Size || sl.Link != l.Link {
			t.Errorf("layer %d: %+v, built %+v", i+1, sl, l)
		}
		if want := filepath.Join(b.Root, "overlay2", l.CacheID, "diff"); sl.Dir != want || x.RWLayer.LowerDirs[len(img.Layers)-i] != want {
			t.Errorf("layer %d dir %s, lower dirs %v", i+1, sl.Dir, x.RWLayer.LowerDirs)
		}
	}
	if x.Layers[0].Size != web.SizeRw {
		t.Errorf("rw size %d, want %d", x.Layers[0].Size, web.SizeRw)
	}
	want := map[string]struct {
		kind          ChangeKind
		docker, layer string
	}{
		"/app/new.log":    {KindAdded, "A", ""},
		"/app/config.yml": {KindModified, "C", "echo v1 > /app/config.yml"},
		"/etc/passwd":     {KindCopiedUp, "", "ADD file:"},
		"/app/bin/app":    {KindModified, "C", "COPY file:"},
		"/bin/ls":         {KindWhiteout, "D", "ADD file:"},
		"/usr/share/doc":  {KindWhiteout, "D", "VERSION"},
		"/app/data":       {KindOpaque, "C", "VERSION"},
		"/app/current":    {KindAdded, "A", ""},
		"/app/ctl.fifo":   {KindAdded, "A", ""},
		"/etc":            {KindCopiedUp, "", "init"},
	}
	got := map[string]Change{}
	for _, c := range x.Changes {
		got[c.Path] = c
	}
	for p, w := range want {
		c, ok := got[p]
		if !ok {
			t.Errorf("%s: not in changes", p)
			continue
		}
		if c.Kind != w.kind || c.DockerDiff != w.docker {
			t.Errorf("%s: %s %q, want %s %q", p, c.Kind, c.DockerDiff, w.kind, w.docker)
		}
		switch {
		case w.layer == "" && c.Origin != nil:
			t.Errorf("%s: added entry with origin %+v", p, c.Origin)
		case w.layer == "init" && (c.Origin == nil || c.Origin.Layer != "init"):
			t.Errorf("%s: origin %+v, want the init layer", p, c.Origin)
		case w.layer != "" && w.layer != "init" && (c.Origin == nil || !strings.Contains(c.Origin.CreatedBy, w.layer)):
			t.Errorf("%s: origin %+v, want the layer of %q", p, c.Origin, w.layer)
		}
	}
	if c := got["/app/bin/app"]; strings.Join(c.Changed, ",") != "mode" || c.Mode != "4755" {
		t.Errorf("chmod u+s: %+v", c)
	}
	if c := got["/app/data"]; strings.Join(c.Hides, ",") != "/app/data/1,/app/data/2,/app/data/3" {
		t.Errorf("opaque hides %v", c.Hides)
	}
	if c := got["/app/current"]; c.LinkTarget != "bin/app" || c.Type != "symlink" {
		t.Errorf("symlink %+v", c)
	}
	var diff []string
	for _, d := range x.Diff {
		diff = append(diff, d.Kind+" "+d.Path)
	}
	for _, line := range []string{"D /app/data/1", "D /app/data/3", "C /usr", "C /usr/share", "A /app/cache/sessions/s1.json"} {
		if !strings.Contains(strings.Join(diff, "\n")+"\n", line+"\n") {
			t.Errorf("docker diff lacks %q: %q", line, diff)
		}
	}
	for _, line := range diff {
		if strings.HasSuffix(line, " /etc") || strings.HasSuffix(line, " /etc/passwd") {
			t.Errorf("an unchanged copy-up is in docker diff: %s", line)
		}
	}
}

func TestExplainOtherStates(t *testing.T) {
	s, b := demoStore(t)
	x, err := s.Explain("fresh", ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Changes) != 0 || len(x.Diff) != 0 || x.Container.State.Status != "created" {
		t.Errorf("fresh: %+v", x.Changes)
	}
	x, err = s.Explain(b.Container("batch").ID[:10], ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if x.Container.State.Status != "exited" || x.Container.State.ExitCode != 1 || x.Layers[0].Size != b.Container("batch").SizeRw {
		t.Errorf("batch: %+v size %d", x.Container.State, x.Layers[0].Size)
	}
}

func TestExplainMounts(t *testing.T) {
	s, _ := demoStore(t)
	x, _ := s.Explain("web", ExplainOptions{MountsKnown: true})
	if x.RWLayer.Mounted == nil || *x.RWLayer.Mounted || !hasFinding(x, "running_not_mounted") {
		t.Errorf("a running container without a mount must be a finding: %+v", x.Findings)
	}
	rw := x.RWLayer
	// Docker's relative form, resolved by the caller against the driver home.
	var lowers []string
	for _, l := range rw.LowerLinks {
		lowers = append(lowers, filepath.Join(overlay2.Home{Dir: s.Home()}.Dir, l))
	}
	good := LiveMount{MountPoint: rw.MergedDir, UpperDir: rw.UpperDir, WorkDir: rw.WorkDir, LowerDirs: lowers}
	x, _ = s.Explain("web", ExplainOptions{MountsKnown: true, Mounts: []LiveMount{good}})
	if !*x.RWLayer.Mounted || len(x.Findings) != 0 {
		t.Errorf("matching mount: mounted=%v findings %+v", *x.RWLayer.Mounted, x.Findings)
	}
	bad := good
	bad.LowerDirs = lowers[1:]
	x, _ = s.Explain("web", ExplainOptions{MountsKnown: true, Mounts: []LiveMount{bad}})
	if !hasFinding(x, "mount_mismatch") {
		t.Errorf("a lowerdir that disagrees with the store must be a finding: %+v", x.Findings)
	}
}

func hasFinding(x *Explanation, kind string) bool {
	for _, f := range x.Findings {
		if f.Kind.String() == kind {
			return true
		}
	}
	return false
}

// Damage to one file is a finding naming it; the rest still explains.
func TestExplainDamagedStore(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, s *Store, b *fixtures.Built)
		kind   string
	}{
		{"layer dir of the base missing", func(t *testing.T, s *Store, b *fixtures.Built) {
			rm(t, filepath.Join(overlay2.Home{Dir: s.Home()}.Dir, b.Image("demo/app:2").Layers[0].CacheID))
		}, "layer_dir_missing"},
		{"layerdb diff edited", func(t *testing.T, s *Store, b *fixtures.Built) {
			l := b.Image("demo/app:2").Layers[1]
			write(t, filepath.Join(s.layerDir(l.ChainID), "diff"), string(digest.FromString("other")))
		}, "diff_id_mismatch"},
		{"layerdb size garbage", func(t *testing.T, s *Store, b *fixtures.Built) {
			write(t, filepath.Join(s.layerDir(b.Image("demo/app:2").Layers[2].ChainID), "size"), "12x")
		}, "layer_unreadable"},
		{"lower file points at the wrong layer", func(t *testing.T, s *Store, b *fixtures.Built) {
			img := b.Image("demo/app:2")
			web := b.Container("web")
			write(t, filepath.Join(overlay2.Home{Dir: s.Home()}.Dir, web.MountID, "lower"),
				"l/"+web.InitLink+":l/"+img.Layers[2].Link+":l/"+img.Layers[3].Link+":l/"+img.Layers[1].Link+":l/"+img.Layers[0].Link)
		}, "lower_mismatch"},
		{"l/ link escapes", func(t *testing.T, s *Store, b *fixtures.Built) {
			l := filepath.Join(overlay2.Home{Dir: s.Home()}.Dir, "l", b.Image("demo/app:2").Layers[3].Link)
			rm(t, l)
			if err := os.Symlink("/etc", l); err != nil {
				t.Fatal(err)
			}
		}, "bad_link"},
		{"image config edited", func(t *testing.T, s *Store, b *fixtures.Built) {
			id := b.Image("demo/app:2").ID
			p := s.imageDir("imagedb", "content", "sha256", id.Encoded())
			c, _ := os.ReadFile(p)
			write(t, p, strings.Replace(string(c), `"os":"linux"`, `"os":"linux" `, 1))
		}, "image_id_mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, b := demoStore(t)
			tc.damage(t, s, b)
			x, err := s.Explain("web", ExplainOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !hasFinding(x, tc.kind) {
				t.Errorf("no %s finding: %+v", tc.kind, x.Findings)
			}
			if len(x.Changes) == 0 {
				t.Error("the walk stopped at a damaged file")
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "nope"), fixtures.Backends(), ""); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing root: %v", err)
	}
	if _, err := Open(dir, fixtures.Backends(), ""); !errors.Is(err, ErrNotDataRoot) {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := Open(dir, fixtures.Backends(), "btrfs"); !errors.Is(err, ErrUnsupportedDriver) {
		t.Errorf("--driver btrfs: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "image", "aufs"), 0o755)
	s, err := Open(dir, fixtures.Backends(), "")
	if err != nil || s.Driver != "aufs" || len(s.Others) != 0 {
		t.Errorf("aufs root: %+v, %v", s, err)
	}
	if _, err := Open(dir, fixtures.Backends(), "overlay2"); !errors.Is(err, ErrNotDataRoot) || !strings.Contains(err.Error(), "[aufs]") {
		t.Errorf("--driver overlay2 on an aufs root: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "image", "overlay2"), 0o755)
	s, err = Open(dir, fixtures.Backends(), "")
	if err != nil || s.Driver != "overlay2" || fmt.Sprint(s.Others) != "[aufs]" {
		t.Errorf("mixed root, auto: %+v, %v", s, err)
	}
	s, err = Open(dir, fixtures.Backends(), "aufs")
	if err != nil || s.Driver != "aufs" || fmt.Sprint(s.Others) != "[overlay2]" || s.Graph().Home() != filepath.Join(dir, "aufs") {
		t.Errorf("mixed root, aufs: %+v, %v", s, err)
	}
}

func rm(t *testing.T, p string) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestListing(t *testing.T) {
	s, b := demoStore(t)
	chains, other, err := s.LayerChainIDs()
	if err != nil || len(chains) != len(b.Layers()) || len(other) != 0 {
		t.Errorf("chains %v other %v err %v (built %d layers)", chains, other, err, len(b.Layers()))
	}
	ids, err := s.MountContainerIDs()
	if err != nil || len(ids) != len(b.Containers) {
		t.Errorf("mounts %v %v", ids, err)
	}
	if s.LayerPath(chains[0]) != s.ImagePath("layerdb", "sha256", chains[0].Encoded()) || s.Path("x") != filepath.Join(b.Root, "x") {
		t.Error("paths")
	}
}

// TestAttentionOnDemo: the demo container's summary names what deserves
// a look: /app/bin/app made setuid, a deleted /bin/ls and a modified
// /etc/passwd under system dirs, and the changes made after its start.
func TestAttentionOnDemo(t *testing.T) {
	s, _ := demoStore(t)
	x, err := s.Explain("web", ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[AttentionKind]string{}
	for _, a := range x.Summary.Attention {
		got[a.Kind] = fmt.Sprintf("%d %v", a.Count, a.Paths)
	}
	want := map[AttentionKind]string{
		AttentionSetID:      "1 [/app/bin/app]",
		AttentionSystemPath: "2 [/bin/ls /etc/passwd]",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	for _, k := range []AttentionKind{AttentionExecAdded, AttentionExecReplaced, AttentionCapability} {
		if got[k] != "" {
			t.Errorf("%s: %s, want none", k, got[k])
		}
	}
	n := 0
	for _, c := range x.Changes {
		if c.Phase == PhaseRunning || c.Phase == PhaseAfterStop {
			n++
		}
	}
	if !strings.HasPrefix(got[AttentionAfterStart], fmt.Sprintf("%d [", n)) || n == 0 {
		t.Errorf("after_start %q, want the %d changes after the start", got[AttentionAfterStart], n)
	}
}

// TestDiffCountsAddUp: the entries docker diff does not list and its lines
// no entry has account for the difference between the two counts.
func TestDiffCountsAddUp(t *testing.T) {
	s, _ := demoStore(t)
	for _, name := range []string{"web", "batch", "fresh"} {
		x, err := s.Explain(name, ExplainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sm := x.Summary
		if got := len(x.Changes) - sm.NotInDiff + sm.DiffOnly; got != sm.DockerDiff || got != len(x.Diff) {
			t.Errorf("%s: %d entries - %d not listed + %d diff-only = %d, docker diff %d (%d lines)", name, len(x.Changes), sm.NotInDiff, sm.DiffOnly, got, sm.DockerDiff, len(x.Diff))
		}
	}
}

// TestDiffIsExplainsDiff: Store.Diff, which skips what only an
// explanation needs, gives the lines Explain gives, on every container of
// the demo store (appends, chmods, whiteouts, opaque dirs, symlinks).
func TestDiffIsExplainsDiff(t *testing.T) {
	s, _ := demoStore(t)
	cs, _, err := s.Containers()
	if err != nil || len(cs) == 0 {
		t.Fatalf("%d containers, %v", len(cs), err)
	}
	lines := 0
	for _, c := range cs {
		x, err := s.Explain(c.Name, ExplainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.Diff(c.Name, ExplainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(d.Diff) != fmt.Sprint(x.Diff) {
			t.Errorf("%s: Diff gives\n%v\nExplain\n%v", c.Name, d.Diff, x.Diff)
		}
		lines += len(x.Diff)
	}
	if lines == 0 {
		t.Error("no container of the demo store has changes")
	}
}

// TestExplainProgress: a walk of a large upper dir reports what it has
// read while it runs, never more than there is, and never after it ended.
func TestExplainProgress(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	upper := filepath.Join(b.Root, "overlay2", b.Container("web").MountID, "diff", "app", "many")
	const dirs, files = 200, 50
	for d := range dirs {
		for f := range files {
			p := filepath.Join(upper, fmt.Sprintf("d%03d", d), fmt.Sprintf("f%02d", f))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, err := Open(b.Root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		seen  []ExplainProgress
		ended bool
		late  bool
	)
	x, err := s.Explain("web", ExplainOptions{ProgressEvery: time.Microsecond, Progress: func(p ExplainProgress) {
		mu.Lock()
		defer mu.Unlock()
		late = late || ended
		seen = append(seen, p)
		time.Sleep(time.Millisecond) // a terminal's redraw; the walk goes on meanwhile
	}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	ended = true
	mu.Unlock()
	time.Sleep(5 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if late {
		t.Error("Progress was called after Explain returned")
	}
	if len(seen) == 0 {
		t.Fatal("no progress reported during a walk of 10,000 entries")
	}
	total := int64(len(x.Changes))
	for i, p := range seen {
		if p.Entries > total || p.Dirs > p.Entries || i > 0 && p.Entries < seen[i-1].Entries {
			t.Errorf("progress %d: %+v (of %d entries): beyond the walk, or going back", i, p, total)
		}
	}
}
