package inspect

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
)

// aufsTwin builds the demo store and its aufs twin.
func aufsTwin(t *testing.T) (ov, au *Store, b *fixtures.Built) {
	t.Helper()
	ov, b = demoStore(t)
	dst := filepath.Join(t.TempDir(), "aufs-root")
	if _, err := fixtures.AUFSTwin(b.Root, dst, fixtures.TwinOptions{}); err != nil {
		t.Fatal(err)
	}
	au, err := Open(dst, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	if au.Driver != "aufs" {
		t.Fatalf("twin opened as %s", au.Driver)
	}
	return ov, au, b
}

// comparable is what must not depend on the driver.
func comparableChanges(x *Explanation) []string {
	var out []string
	for _, c := range x.Changes {
		o := ""
		if c.Origin != nil {
			o = fmt.Sprintf("%s/%d", c.Origin.Layer, c.Origin.Position)
		}
		out = append(out, fmt.Sprintf("%q %s %s %s %d %s", c.Path, c.Kind, c.DockerDiff, c.Type, c.Size, o))
	}
	return out
}

func TestAUFSTwinExplainsLikeOverlay2(t *testing.T) {
	ov, au, b := aufsTwin(t)
	for _, c := range b.Containers {
		t.Run(c.Name, func(t *testing.T) {
			xo, err := ov.Explain(c.Name, ExplainOptions{})
			if err != nil {
				t.Fatal(err)
			}
			xa, err := au.Explain(c.Name, ExplainOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(xa.Findings) != 0 {
				t.Errorf("findings on the aufs twin: %+v", xa.Findings)
			}
			if !reflect.DeepEqual(xo.Diff, xa.Diff) {
				t.Errorf("docker diff differs:\noverlay2 %v\naufs     %v", xo.Diff, xa.Diff)
			}
			if a, o := comparableChanges(xa), comparableChanges(xo); !reflect.DeepEqual(a, o) {
				t.Errorf("changes differ:\noverlay2 %s\naufs     %s", strings.Join(o, "\n         "), strings.Join(a, "\n         "))
			}
			if xa.Layers[0].Size != xo.Layers[0].Size || xa.Layers[0].Size != c.SizeRw {
				t.Errorf("rw size aufs %d, overlay2 %d, built %d", xa.Layers[0].Size, xo.Layers[0].Size, c.SizeRw)
			}
			rw := xa.RWLayer
			home := filepath.Join(au.Root, "aufs")
			if rw.Driver != "aufs" || rw.UpperDir != filepath.Join(home, "diff", c.MountID) || rw.MergedDir != filepath.Join(home, "mnt", c.MountID) ||
				rw.WorkDir != "" || rw.ParentsFile != filepath.Join(home, "layers", c.MountID) || rw.InitDir != filepath.Join(home, "diff", c.MountID+"-init") {
				t.Errorf("rw layer paths: %+v", rw)
			}
			if len(rw.LowerDirs) != len(xa.Layers)-1 {
				t.Fatalf("lower dirs %v for %d layers", rw.LowerDirs, len(xa.Layers))
			}
			for i, l := range xa.Layers[1:] {
				if rw.LowerDirs[i] != l.Dir || rw.LowerLinks[i] != l.CacheID || l.Dir != filepath.Join(home, "diff", l.CacheID) || l.Link != "" {
					t.Errorf("lower %d: %s (%s), layer %+v", i, rw.LowerDirs[i], rw.LowerLinks[i], l)
				}
			}
		})
	}
}

func TestAUFSWhiteoutForms(t *testing.T) {
	_, au, b := aufsTwin(t)
	x, err := au.Explain("web", ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string]string{}
	for _, c := range x.Changes {
		forms[c.Path] = c.Kind.String() + " " + c.Marker
	}
	for p, want := range map[string]string{"/bin/ls": KindWhiteout.String() + " aufs .wh. file", "/app/data": KindOpaque.String() + " aufs .wh..wh..opq file"} {
		if forms[p] != want {
			t.Errorf("%s: %q, want %q", p, forms[p], want)
		}
	}
	// The branch's own files are never changes.
	for p := range forms {
		if strings.Contains(p, ".wh.") {
			t.Errorf("aufs marker reported as a change: %q", p)
		}
	}
	up := filepath.Join(au.Root, "aufs", "diff", b.Container("web").MountID)
	for _, n := range []string{".wh..wh.aufs", ".wh..wh.plnk", ".wh..wh.orph", "bin/.wh.ls", "app/data/.wh..wh..opq"} {
		if _, err := os.Lstat(filepath.Join(up, n)); err != nil {
			t.Errorf("twin branch: %v", err)
		}
	}
}

// A root holding both drivers: each store reads its own containers.
func TestMixedRoot(t *testing.T) {
	ov, b := demoStore(t)
	tw, err := fixtures.AUFSTwin(b.Root, b.Root, fixtures.TwinOptions{Suffix: "-aufs"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(b.Root, fixtures.Backends(), "")
	if err != nil || s.Driver != "overlay2" || fmt.Sprint(s.Others) != "[aufs]" {
		t.Fatalf("auto on a mixed root: %+v %v", s, err)
	}
	au, err := Open(b.Root, fixtures.Backends(), "aufs")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range b.Containers {
		xo, err := ov.Explain(c.Name, ExplainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ov.Explain(c.Name+"-aufs", ExplainOptions{}); err == nil || !strings.Contains(err.Error(), `driver "aufs"`) {
			t.Errorf("overlay2 store explained an aufs container: %v", err)
		}
		xa, err := au.Explain(c.Name+"-aufs", ExplainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if xa.Container.ID != tw.Containers[c.ID] || !reflect.DeepEqual(xa.Diff, xo.Diff) || len(xa.Findings) != 0 {
			t.Errorf("%s: id %s (want %s), diff %v vs %v, findings %+v", c.Name, xa.Container.ID, tw.Containers[c.ID], xa.Diff, xo.Diff, xa.Findings)
		}
	}
}
