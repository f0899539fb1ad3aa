package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/aufs"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/mountinfo"
	"github.com/opencontainers/go-digest"
)

// memBackend is a storage backend made only for this test: its metadata
// lives in memory — no layerdb, no imagedb, no config.v2.json — and the
// only files are its layer dirs, <root>/mem/<id>/fs, whose whiteouts are
// .wh. files (so the test needs no privilege). Running the commands on it
// proves that the core and the features need nothing from a backend but
// the interface.
type memBackend struct {
	layers     []backend.Layer
	lowers     map[string][]string // layer dir id → the ids below it, nearest first
	config     []byte
	imageID    digest.Digest
	tag        string
	container  backend.Container
	mount      backend.MountRecord
	containers []backend.Container
}

const memName backend.Name = "memory"

func (m *memBackend) Name() backend.Name                        { return memName }
func (m *memBackend) Detect(root string, _ layerfs.Opener) bool { return true }
func (m *memBackend) Open(root string, _ layerfs.Opener) backend.Driver {
	return memDriver{m: m, home: filepath.Join(root, "mem")}
}

type memDriver struct {
	m    *memBackend
	home string
}

func (d memDriver) Name() backend.Name         { return memName }
func (d memDriver) Home() string               { return d.home }
func (d memDriver) Format() layerfs.Format     { return aufs.Format{} }
func (d memDriver) Metadata() backend.Metadata { return memMeta{d} }
func (d memDriver) Layout(id string) backend.Layout {
	dir := filepath.Join(d.home, id)
	return backend.Layout{Dir: dir, Content: filepath.Join(dir, "fs"), Merged: filepath.Join(dir, "merged")}
}
func (d memDriver) Link(string) (string, error) { return "", nil }
func (d memDriver) Lowers(id string) ([]backend.Lower, bool, error) {
	ids, ok := d.m.lowers[id]
	var out []backend.Lower
	for _, l := range ids {
		out = append(out, backend.Lower{Ref: l, ID: l, Content: d.Layout(l).Content})
	}
	return out, ok, nil
}
func (d memDriver) MountLowers(id string) ([]backend.Lower, bool, error) { return d.Lowers(id) }
func (d memDriver) Terms() backend.Terms {
	return backend.Terms{Union: "union", Upper: "upper dir", Lowers: "lower list", WhiteoutFiles: true,
		Stacking: "a test backend", LowersFrom: "as memory holds them"}
}
func (d memDriver) ParsePath(p []string) backend.Path {
	switch {
	case len(p) == 0:
		return backend.Path{Kind: backend.PathDriverHome}
	case len(p) == 1:
		return backend.Path{Kind: backend.PathLayerDir, ID: p[0]}
	case p[1] == "fs" && len(p) == 2:
		return backend.Path{Kind: backend.PathLayerContent, ID: p[0]}
	case p[1] == "fs":
		return backend.Path{Kind: backend.PathLayerEntry, ID: p[0], Rel: p[2:]}
	}
	return backend.Path{Kind: backend.PathLayerFile, ID: p[0], Name: p[1]}
}
func (d memDriver) Bookkeeping(string) (string, bool) { return "", false }
func (d memDriver) ShortLink(string) (string, string, error) {
	return "", "", backend.ErrNoShortLinks
}
func (d memDriver) IsShortLink(string) bool           { return false }
func (d memDriver) MountsFSType(mountinfo.Mount) bool { return false }
func (d memDriver) DecodeMount(mountinfo.Mount, string, string) (backend.MountDirs, *backend.MountProblem, bool) {
	return backend.MountDirs{}, nil, false
}

func (d memDriver) ValidID(id string) bool       { return id != "" && !strings.ContainsAny(id, "/\x00") }
func (d memDriver) LinkFile(string) string       { return "" }
func (d memDriver) LinkTarget(string) string     { return "" }
func (d memDriver) LowerRef(id, _ string) string { return id }
func (d memDriver) BaseParents() bool            { return false }
func (d memDriver) Markers() backend.Markers     { return aufs.New().Open(d.home, nil).Markers() }
func (d memDriver) HomeLayout() backend.HomeLayout {
	return backend.HomeLayout{LayerDirs: []backend.LayerDir{{Content: true, ContentSubdir: "fs"}}}
}
func (d memDriver) ShortLinks() (string, []backend.ShortLinkEntry, error) {
	return "", nil, backend.ErrNoShortLinks
}

// memMeta is the backend's metadata, all in memory.
type memMeta struct{ d memDriver }

func (x memMeta) Path(elem ...string) string {
	return filepath.Join(append([]string{x.d.home, "(memory)"}, elem...)...)
}
func (x memMeta) LayerPath(c digest.Digest) string { return x.Path("layers", c.Encoded()) }
func (x memMeta) LayerIDs() ([]digest.Digest, []string, error) {
	var out []digest.Digest
	for _, l := range x.d.m.layers {
		out = append(out, l.ChainID)
	}
	return out, nil, nil
}
func (x memMeta) Layer(c digest.Digest) (backend.Layer, error) {
	for _, l := range x.d.m.layers {
		if l.ChainID == c {
			return l, nil
		}
	}
	return backend.Layer{}, fmt.Errorf("layer %s: %w", c, backend.ErrNotFound)
}
func (x memMeta) ImageIDs() ([]digest.Digest, error) { return []digest.Digest{x.d.m.imageID}, nil }
func (x memMeta) ImageNames() ([]digest.Digest, []string, error) {
	return []digest.Digest{x.d.m.imageID}, nil, nil
}
func (x memMeta) ImageConfig(id digest.Digest) ([]byte, string, error) {
	if id != x.d.m.imageID {
		return nil, "", fmt.Errorf("image %s: %w", id, backend.ErrNotFound)
	}
	return x.d.m.config, x.Path("images", id.Encoded()), nil
}
func (x memMeta) ImageParent(digest.Digest) (digest.Digest, string, error) {
	return "", "", os.ErrNotExist
}
func (x memMeta) Tags() (map[digest.Digest][]string, string, error) {
	return map[digest.Digest][]string{x.d.m.imageID: {x.d.m.tag}}, x.Path("tags"), nil
}
func (x memMeta) MountIDs() ([]string, error) { return []string{x.d.m.container.ID}, nil }
func (x memMeta) MountRecord(id string) (backend.MountRecord, error) {
	if id != x.d.m.container.ID {
		return backend.MountRecord{}, fmt.Errorf("container %s: %w", id, backend.ErrNotFound)
	}
	return x.d.m.mount, nil
}
func (x memMeta) Containers() ([]backend.Container, []backend.Finding, error) {
	return x.d.m.containers, nil, nil
}

// newMemStore lays out the layer dirs of a two-layer image and one
// container under root and returns the backend that describes them.
func newMemStore(t *testing.T, root string) *memBackend {
	t.Helper()
	files := map[string]map[string]string{ // layer dir id → path → content ("" dir, ".wh." whiteouts by name)
		"base":    {"etc": "", "etc/passwd": "root:x:0:0\n", "bin": "", "bin/sh": "#!sh\n", "app": ""},
		"app":     {"app": "", "app/x": "x1\n", "app/y": "y\n"},
		"c1-init": {".dockerenv": "-", "etc": "", "etc/hostname": "-"},
		"c1":      {"etc": "", "etc/passwd": "root:x:0:0\nweb:x:1:1\n", "new": "n\n", "app": "", "app/.wh.x": "-"},
	}
	for id, fs := range files {
		for p, content := range fs {
			full := filepath.Join(root, "mem", id, "fs", p)
			if content == "" {
				must(t, os.MkdirAll(full, 0o755))
				continue
			}
			must(t, os.MkdirAll(filepath.Dir(full), 0o755))
			if content == "-" {
				content = ""
			}
			must(t, os.WriteFile(full, []byte(content), 0o644))
		}
	}
	// mtimes: the copied-up /etc/passwd keeps a different size, so docker
	// diff's rules say C either way; set lower files older for realism.
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range []string{"base/fs/etc/passwd", "base/fs/bin/sh", "app/fs/app/x", "app/fs/app/y"} {
		must(t, os.Chtimes(filepath.Join(root, "mem", p), old, old))
	}
	d1, d2 := digest.FromString("base layer"), digest.FromString("app layer")
	c1, c2 := inspect.ChainID("", d1), inspect.ChainID(inspect.ChainID("", d1), d2)
	cfg := fmt.Sprintf(`{"created":"2024-01-01T00:00:00Z","architecture":"amd64","os":"linux",`+
		`"rootfs":{"type":"layers","diff_ids":[%q,%q]},`+
		`"history":[{"created_by":"/bin/sh -c #(nop) ADD file:base in / "},{"created_by":"/bin/sh -c echo x1 > /app/x"},{"created_by":"/bin/sh -c #(nop)  CMD [\"sh\"]","empty_layer":true}]}`, d1, d2)
	m := &memBackend{
		layers: []backend.Layer{
			{ChainID: c1, DiffID: d1, CacheID: "base", Size: int64(len("root:x:0:0\n") + len("#!sh\n"))},
			{ChainID: c2, DiffID: d2, Parent: c1, CacheID: "app", Size: int64(len("x1\n") + len("y\n"))},
		},
		lowers:  map[string][]string{"app": {"base"}, "c1-init": {"app", "base"}, "c1": {"c1-init", "app", "base"}},
		config:  []byte(cfg),
		imageID: digest.FromBytes([]byte(cfg)),
		tag:     "mem/app:1",
	}
	m.container = backend.Container{ID: strings.Repeat("c1", 32), Name: "memc", ImageRef: m.tag, ImageID: m.imageID,
		Driver: string(memName), Created: old, State: backend.State{Status: "exited", StartedAt: old, FinishedAt: old}}
	m.containers = []backend.Container{m.container}
	m.mount = backend.MountRecord{MountID: "c1", InitID: "c1-init", Parent: c2}
	return m
}

// TestMemoryBackend runs explain, diff, du and verify --quick on a store
// that only the test backend can read, through the CLI, the core and the
// features.
func TestMemoryBackend(t *testing.T) {
	root := t.TempDir()
	m := newMemStore(t, root)
	d := deps{backends: backend.NewRegistry(m), fs: layerfs.OS{}}
	cli := func(args ...string) (string, int) {
		var o, e bytes.Buffer
		code := runWith(d, append([]string{"dlayer", "--root", root, "--mountinfo", "none", "--daemon", "off"}, args...), &o, &e)
		if e.Len() > 0 {
			t.Logf("%v: stderr: %s", args, e.String())
		}
		return o.String(), code
	}

	out, code := cli("diff", "memc")
	if want := "C /app\nD /app/x\nC /etc\nC /etc/passwd\nA /new\n"; code != 0 || out != want {
		t.Errorf("diff: exit %d\n%s\nwant\n%s", code, out, want)
	}

	out, code = cli("--format", "json", "explain", "memc")
	var x struct {
		RWLayer struct {
			UpperDir  string   `json:"upper_dir"`
			LowerDirs []string `json:"lower_dirs"`
		} `json:"rw_layer"`
		Changes []struct {
			Path   string             `json:"path"`
			Kind   inspect.ChangeKind `json:"kind"`
			Origin *struct {
				Position int `json:"position"`
			} `json:"origin"`
		} `json:"changes"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &x) != nil {
		t.Fatalf("explain: exit %d: %s", code, out)
	}
	if x.RWLayer.UpperDir != filepath.Join(root, "mem", "c1", "fs") || len(x.RWLayer.LowerDirs) != 3 {
		t.Errorf("explain dirs: %+v", x.RWLayer)
	}
	kinds := map[string]inspect.ChangeKind{}
	for _, c := range x.Changes {
		kinds[c.Path] = c.Kind
		if c.Path == "/app/x" && (c.Origin == nil || c.Origin.Position != 2) {
			t.Errorf("/app/x: origin %+v, want layer 2", c.Origin)
		}
	}
	for p, k := range map[string]inspect.ChangeKind{"/etc/passwd": inspect.KindModified, "/new": inspect.KindAdded, "/app/x": inspect.KindWhiteout} {
		if kinds[p] != k {
			t.Errorf("explain %s: kind %q, want %q (all: %v)", p, kinds[p], k, kinds)
		}
	}

	out, code = cli("--format", "json", "du")
	var du struct {
		Images []struct {
			Size       int64 `json:"size"`
			SharedSize int64 `json:"shared_size"`
		} `json:"images"`
		Containers []struct {
			Name   string `json:"name"`
			SizeRw int64  `json:"size_rw"`
		} `json:"containers"`
		Orphans []any `json:"orphans"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &du) != nil {
		t.Fatalf("du: exit %d: %s", code, out)
	}
	wantImage := m.layers[0].Size + m.layers[1].Size
	if len(du.Images) != 1 || du.Images[0].Size != wantImage {
		t.Errorf("du images: %+v, want size %d", du.Images, wantImage)
	}
	if rw := int64(len("root:x:0:0\nweb:x:1:1\n") + len("n\n")); len(du.Containers) != 1 || du.Containers[0].SizeRw != rw {
		t.Errorf("du containers: %+v, want size_rw %d", du.Containers, rw)
	}
	if len(du.Orphans) != 0 {
		t.Errorf("du orphans: %v", du.Orphans)
	}

	out, code = cli("--format", "json", "verify", "--quick")
	var v struct {
		Findings []struct {
			Kind, Path, Message string
		} `json:"findings"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || len(v.Findings) != 0 {
		t.Errorf("verify --quick: exit %d, findings %+v\n%s", code, v.Findings, out)
	}
}
