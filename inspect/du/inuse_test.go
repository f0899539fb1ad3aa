package du

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

// TestInUseIsNeverReclaimable: a layer dir whose layerdb record is
// damaged is not named by the metadata, but the lower lists of the layers
// and containers stacked on it still are: it is never an orphan and never
// in what du calls reclaimable. Deleting what du calls reclaimable must
// never break an image or a container.
func TestInUseIsNeverReclaimable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, b *fixtures.Built) string // returns the layer dir
	}{
		{"garbage cache-id of a base layer", func(t *testing.T, b *fixtures.Built) string {
			l := b.Image("demo/base:1").Layers[0]
			write(t, filepath.Join(b.Root, "image", "overlay2", "layerdb", "sha256", l.ChainID.Encoded(), "cache-id"), "garbage")
			return l.CacheID
		}},
		{"bad diff of the top layer", func(t *testing.T, b *fixtures.Built) string {
			l := b.Image("demo/app:2").Layers[3]
			write(t, filepath.Join(b.Root, "image", "overlay2", "layerdb", "sha256", l.ChainID.Encoded(), "diff"), "not a digest")
			return l.CacheID
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
			dir := tc.damage(t, b)
			s, err := inspect.Open(b.Root, fixtures.Backends(), "")
			if err != nil {
				t.Fatal(err)
			}
			r, err := Audit(s, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range r.Orphans {
				if strings.HasSuffix(o.Path, dir) {
					t.Errorf("in-use dir %s reported as an orphan: %+v", dir, o)
				}
			}
			if r.Summary.Orphans.Reclaimable.DiskUsage != 0 {
				t.Errorf("reclaimable orphans %+v: nothing here may be deleted", r.Summary.Orphans.Reclaimable)
			}
			found := false
			for _, f := range r.Findings {
				if f.Kind == inspect.FindingKind(KindUnaccounted) && strings.HasSuffix(f.Path, dir) && strings.Contains(f.Message, "in use") {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s finding for %s: %+v", KindUnaccounted, dir, r.Findings)
			}
		})
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMountedIsNeverReclaimable: a layer dir no record names is an orphan
// until a live mount uses a dir in it (a leaked or hand-made mount, its
// upper or a lower dir there): then it is in use, unaccounted, never
// reclaimable.
func TestMountedIsNeverReclaimable(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	stray := filepath.Join(b.Root, "overlay2", strings.Repeat("ab", 32))
	for _, d := range []string{"diff", "work"} {
		if err := os.MkdirAll(filepath.Join(stray, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s, err := inspect.Open(b.Root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Audit(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Orphans) != 1 || r.Orphans[0].Path != stray || r.Summary.Orphans.Reclaimable.DiskUsage == 0 {
		t.Fatalf("unmounted: orphans %+v, want %s, reclaimable", r.Orphans, stray)
	}
	for _, m := range []inspect.LiveMount{
		{MountPoint: "/mnt/leak", UpperDir: filepath.Join(stray, "diff"), WorkDir: filepath.Join(stray, "work")},
		{MountPoint: "/mnt/over", LowerDirs: []string{"/elsewhere", filepath.Join(stray, "diff")}},
	} {
		s, err := inspect.Open(b.Root, fixtures.Backends(), "")
		if err != nil {
			t.Fatal(err)
		}
		r, err := Audit(s, Options{Mounts: []inspect.LiveMount{m}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Orphans) != 0 || r.Summary.Orphans.Reclaimable.DiskUsage != 0 {
			t.Errorf("mounted at %s: orphans %+v", m.MountPoint, r.Orphans)
		}
		found := false
		for _, f := range r.Findings {
			found = found || f.Kind == inspect.FindingKind(KindUnaccounted) && f.Path == stray && strings.Contains(f.Message, m.MountPoint)
		}
		if !found {
			t.Errorf("mounted at %s: no %s finding naming the mount: %+v", m.MountPoint, KindUnaccounted, r.Findings)
		}
	}
}
