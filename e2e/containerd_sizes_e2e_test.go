package e2e

import (
	"testing"

	"github.com/dlayer/dlayer/containerd"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
)

// TestContainerdEngineSizesE2E: on Docker 29's containerd image store the
// sizes the containerd backend recomputes from the store (image Size and
// SharedSize, container SizeRw and SizeRootFs: docs/du.md) equal the
// private engine's /system/df byte for byte — images sharing a base, a
// classic build (its RUN layer on a build container's -init), a BuildKit
// build on it, a running container that wrote 300 KiB, an exited one and
// a created one — live (bolt files read from private copies) and with
// both daemons stopped; and dlayer du's numbers equal them too, its
// totals du -sxB1 (checkCtrdDU), and on a copy it tells an orphaned
// snapshot dir and blob from an unfinished ingest (checkCtrdDUDamage).
func TestContainerdEngineSizesE2E(t *testing.T) {
	e := engine.ForTestWith(t, "", engine.Options{Kind: engine.Docker29})
	if _, err := e.ImportBusybox("c8s-base:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build("c8s-app:1", "FROM c8s-base:1\nRUN mkdir /data && echo a > /data/a\nCOPY f /data/f\n", map[string]string{"f": "from the context\n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.BuildKit("c8s-bk:1", "FROM c8s-app:1\nRUN echo bk > /data/bk\n", nil); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"run", "-d", "--network", "none", "--name", "c8s-run", "c8s-app:1", "sh", "-c", "dd if=/dev/zero of=/big bs=1024 count=300 2>/dev/null; mkdir -p /x/y; sleep 3600"},
		{"run", "--network", "none", "--name", "c8s-exited", "c8s-bk:1", "sh", "-c", "echo x > /data/x && rm /data/a"},
		{"create", "--network", "none", "--name", "c8s-created", "c8s-base:1", "true"},
	} {
		if out, err := e.Docker(args...); err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
	}
	if out, err := e.Docker("exec", "c8s-run", "sh", "-c", "while [ ! -d /x/y ]; do sleep 0.1; done"); err != nil {
		t.Fatalf("docker exec: %v\n%s", err, out)
	}
	df, err := e.SystemDF()
	if err != nil {
		t.Fatal(err)
	}
	if len(df.Images) != 3 || len(df.Containers) != 3 {
		t.Fatalf("/system/df: %d images, %d containers, want 3 and 3: %+v", len(df.Images), len(df.Containers), df)
	}
	check := func(t *testing.T) {
		reg := backend.NewRegistry(containerd.New(containerd.Config{}))
		s, err := inspect.OpenWith(e.Root(), inspect.Options{Backends: reg})
		if err != nil {
			t.Fatal(err)
		}
		es, ok := s.Graph().Metadata().(backend.EngineSizes)
		if !ok {
			t.Fatalf("the containerd backend's metadata (%T) has no EngineSizes", s.Graph().Metadata())
		}
		got, err := es.EngineSizes(true)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Images) != len(df.Images) {
			t.Errorf("%d images, /system/df lists %d", len(got.Images), len(df.Images))
		}
		for _, im := range df.Images {
			g, ok := got.Images[digest.Digest(im.ID)]
			t.Logf("image %s %v: /system/df Size %d SharedSize %d; dlayer %d %d", im.ID[:19], im.RepoTags, im.Size, im.SharedSize, g.Size, g.SharedSize)
			if !ok || g.Size != im.Size || g.SharedSize != im.SharedSize {
				t.Errorf("image %s %v: dlayer %+v (listed %v), /system/df Size %d SharedSize %d", im.ID, im.RepoTags, g, ok, im.Size, im.SharedSize)
			}
		}
		for _, c := range df.Containers {
			g, ok := got.Containers[c.ID]
			t.Logf("container %s %v: /system/df SizeRw %d SizeRootFs %d; dlayer %d %d", c.ID[:12], c.Names, c.SizeRw, c.SizeRootFs, g.SizeRw, g.SizeRootFs)
			if !ok || g.Err != nil || g.SizeRw != c.SizeRw || g.SizeRootFs != c.SizeRootFs {
				t.Errorf("container %s %v: dlayer %+v (listed %v), /system/df SizeRw %d SizeRootFs %d", c.ID, c.Names, g, ok, c.SizeRw, c.SizeRootFs)
			}
		}
	}
	t.Run("live", check)
	t.Run("du live", func(t *testing.T) { checkCtrdDU(t, e.Root(), e.ContainerdRoot(), df, false) })
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Run("daemons stopped", check)
	t.Run("du daemons stopped", func(t *testing.T) { checkCtrdDU(t, e.Root(), e.ContainerdRoot(), df, true) })
	t.Run("du damage on a copy", func(t *testing.T) { checkCtrdDUDamage(t, e.Root(), e.ContainerdRoot()) })
	t.Run("explain rw size", func(t *testing.T) {
		for _, c := range df.Containers {
			x := explainJSON(t, e.Root(), "off", c.ID)
			if x.Layers[0].Role != "rw" || x.Layers[0].Size != c.SizeRw {
				t.Errorf("explain %v: rw layer size %d (role %s), /system/df SizeRw %d", c.Names, x.Layers[0].Size, x.Layers[0].Role, c.SizeRw)
			}
		}
	})
}
