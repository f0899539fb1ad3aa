package e2e

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/clitest"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/storage"
	"golang.org/x/sys/unix"
)

// The verify scenario's image: layer 1 the busybox import (names "./…"),
// 2 files of every type, 3 a COPY, 4 a whiteout and an opaque dir, 5 on
// top — so layers 2 and 4 are lower layers of every container.
const verifyDockerfile = `FROM verify-base:1
RUN mkdir -p /data/sub /data/opq && echo hello > /data/a && echo b > /data/sub/b && echo gone > /data/gone && echo o > /data/opq/o && echo tool > /data/tool && chmod 755 /data/tool && ln /data/a /data/a.hard && ln -s a /data/a.sym && mkfifo /data/fifo
COPY f.txt /data/f.txt
RUN rm /data/gone && rm -rf /data/opq && mkdir /data/opq && echo n > /data/opq/n
RUN echo top > /data/top
CMD ["sleep", "3600"]
`

// verifyJSON is the part of `dlayer verify --format json` the tests read.
type verifyJSON = clitest.VerifyJSON

// layerFacts are what the tampers need of one layer of verify:1.
type layerFacts struct {
	chain   digest.Digest
	cacheID string
	link    string
}

func TestVerifyE2E(t *testing.T) {
	e := engine.ForTest(t, "")
	if _, err := e.ImportBusybox("verify-base:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build("verify:1", verifyDockerfile, map[string]string{"f.txt": "file\n"}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"create", "--network", "none", "--name", "v-created", "verify:1"},
		{"run", "--network", "none", "--name", "v-ran", "verify:1", "sh", "-c", "echo x >> /data/a"}} {
		if out, err := e.Docker(args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	root := e.Root()
	t.Run("live store is clean", func(t *testing.T) {
		// The daemon writes elsewhere (containers/, network/) when it likes;
		// the image and layer stores are quiet while it is idle.
		sum := func() string {
			return treeSum(t, filepath.Join(root, "image")) + treeSum(t, filepath.Join(root, "overlay2"))
		}
		before := sum()
		wantClean(t, root)
		if sum() != before {
			t.Fatal("verify changed the live image or layer store")
		}
	})
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	before := treeSum(t, root) // the whole root, now that nothing else writes there
	wantClean(t, root)

	s, err := inspect.Open(root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	imgID, layers := e2eImageLayers(t, s, "verify:1")
	if len(layers) != 5 {
		t.Fatalf("verify:1 has %d layers, want 5", len(layers))
	}
	diff := func(cp string, i int, rel string) string {
		return filepath.Join(cp, "overlay2", layers[i].cacheID, "diff", rel)
	}
	ldb := func(cp string, i int, name string) string {
		return filepath.Join(cp, "image/overlay2/layerdb/sha256", layers[i].chain.Encoded(), name)
	}
	if _, err := unix.Lgetxattr(diff(root, 3, "data/opq"), "trusted.overlay.opaque", make([]byte, 8)); err != nil {
		t.Fatalf("layer 4 of verify:1 has no opaque dir (the engine used a naive diff?): %v", err)
	}

	L2, L4 := layers[1].chain.String(), layers[3].chain.String()
	for _, tc := range []struct {
		name       string
		do         func(t *testing.T, cp string)
		kind, obj  string
		path       func(cp string) string
		notOpened  string // a file (relative to the copy) that must never be opened
		objIsImage bool
	}{
		{name: "byte changed in a lower layer", kind: "content_mismatch", obj: L2, path: rel("/data/sub/b"),
			do: func(t *testing.T, cp string) { rewriteKeepTime(t, diff(cp, 1, "data/sub/b"), "c\n") }},
		{name: "file truncated", kind: "size_mismatch", obj: L2, path: rel("/data/tool"),
			do: func(t *testing.T, cp string) { must(t, os.Truncate(diff(cp, 1, "data/tool"), 2)) }},
		{name: "setuid added", kind: "mode_mismatch", obj: L2, path: rel("/data/tool"),
			do: func(t *testing.T, cp string) { must(t, unix.Chmod(diff(cp, 1, "data/tool"), 0o4755)) }},
		{name: "file added to a lower layer", kind: "extra_file", obj: L2, path: rel("/data/evil"),
			do: func(t *testing.T, cp string) { must(t, os.WriteFile(diff(cp, 1, "data/evil"), []byte("x\n"), 0o755)) }},
		{name: "whiteout device removed", kind: "whiteout_missing", obj: L4, path: rel("/data/gone"),
			do: func(t *testing.T, cp string) { must(t, os.Remove(diff(cp, 3, "data/gone"))) }},
		{name: "opaque xattr removed", kind: "opaque_missing", obj: L4, path: rel("/data/opq"),
			do: func(t *testing.T, cp string) {
				must(t, unix.Lremovexattr(diff(cp, 3, "data/opq"), "trusted.overlay.opaque"))
			}},
		{name: "tar-split truncated", kind: "tar_split_malformed", obj: L2, path: func(cp string) string { return ldb(cp, 1, "tar-split.json.gz") },
			do: func(t *testing.T, cp string) {
				fi, err := os.Stat(ldb(cp, 1, "tar-split.json.gz"))
				must(t, err)
				must(t, os.Truncate(ldb(cp, 1, "tar-split.json.gz"), fi.Size()/2))
			}},
		{name: "image config edited", kind: "image_id_mismatch", obj: imgID.String(), objIsImage: true,
			path: func(cp string) string {
				return filepath.Join(cp, "image/overlay2/imagedb/content/sha256", imgID.Encoded())
			},
			do: func(t *testing.T, cp string) {
				p := filepath.Join(cp, "image/overlay2/imagedb/content/sha256", imgID.Encoded())
				b, err := os.ReadFile(p)
				must(t, err)
				must(t, os.WriteFile(p, append(b, '\n'), 0o600))
			}},
		{name: "layerdb diff edited", kind: "layer_diff_mismatch", obj: L2, path: func(cp string) string { return ldb(cp, 1, "diff") },
			do: func(t *testing.T, cp string) {
				must(t, os.WriteFile(ldb(cp, 1, "diff"), []byte(digest.FromString("forged")), 0o644))
			}},
		{name: "cache dir removed", kind: "cache_dir_missing", obj: L2, path: func(cp string) string { return filepath.Join(cp, "overlay2", layers[1].cacheID) },
			do: func(t *testing.T, cp string) { must(t, os.RemoveAll(filepath.Join(cp, "overlay2", layers[1].cacheID))) }},
		{name: "l/ link broken", kind: "link_broken", obj: L2, path: func(cp string) string { return filepath.Join(cp, "overlay2/l", layers[1].link) },
			do: func(t *testing.T, cp string) { must(t, os.Remove(filepath.Join(cp, "overlay2/l", layers[1].link))) }},
		{name: "tar-split entry ../../etc/passwd", kind: "tar_split_unsafe_name", obj: L2, path: rel("../../etc/passwd"),
			notOpened: "overlay2/etc/passwd", // where diff/../../etc/passwd leads
			do: func(t *testing.T, cp string) {
				must(t, os.MkdirAll(filepath.Join(cp, "overlay2/etc"), 0o755))
				must(t, os.WriteFile(filepath.Join(cp, "overlay2/etc/passwd"), []byte("hello\n"), 0o644))
				renameTarSplitEntry(t, ldb(cp, 1, "tar-split.json.gz"), "data/a", "../../etc/passwd")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := filepath.Join(t.TempDir(), "copy")
			if out, err := exec.Command("cp", "-a", root, cp).CombinedOutput(); err != nil {
				t.Fatalf("cp -a: %v\n%s", err, out)
			}
			tc.do(t, cp)
			var w *inotify
			if tc.notOpened != "" {
				w = watchOpens(t, filepath.Join(cp, tc.notOpened))
			}
			out, errOut, code := runCLI("--root", cp, "--format", "json", "verify")
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
			}
			if w != nil && w.count() != 0 {
				t.Fatalf("%s was opened", tc.notOpened)
			}
			var r verifyJSON
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			want := tc.path(cp)
			var got []string
			for _, f := range r.Findings {
				got = append(got, fmt.Sprintf("%s %s %s", f.Kind, f.Object, f.Path))
				if f.Kind == tc.kind && f.Object == tc.obj && f.Path == want {
					if !slices.Contains(f.Affects.Images, "verify:1") || (!tc.objIsImage && len(f.Affects.Containers) != 2) {
						t.Errorf("affects %+v: want verify:1 and both containers", f.Affects)
					}
					return
				}
			}
			t.Fatalf("no %s on %s at %s; findings:\n%s", tc.kind, tc.obj, want, strings.Join(got, "\n"))
		})
	}
	t.Run("prom", func(t *testing.T) { checkProm(t, root) })
	if after := treeSum(t, root); after != before {
		t.Fatalf("the original store changed: tree checksum %s before, %s after", before, after)
	}
}

func rel(p string) func(string) string { return func(string) string { return p } }

func must(t testing.TB, err error) {
	t.Helper()
	clitest.Must(t, err)
}

func wantClean(t *testing.T, root string) {
	t.Helper()
	out, errOut, code := runCLI("--root", root, "--format", "json", "verify")
	var r verifyJSON
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || len(r.Findings) != 0 || r.Stats.LayersHashed == 0 {
		t.Fatalf("clean store: exit %d\n%s\n%s", code, out, errOut)
	}
}

// e2eImageLayers returns the ID of the image tagged tag and its layers,
// base first (link only on overlay2).
func e2eImageLayers(t *testing.T, s *inspect.Store, tag string) (digest.Digest, []layerFacts) {
	tags, err := s.Tags()
	must(t, err)
	for id, ts := range tags {
		if !slices.Contains(ts, tag) {
			continue
		}
		img, err := s.Image(id)
		must(t, err)
		var out []layerFacts
		for _, c := range inspect.ChainIDs(img.Config.RootFS.DiffIDs) {
			l, err := s.Layer(c)
			must(t, err)
			link, err := s.Graph().Link(l.CacheID)
			must(t, err)
			out = append(out, layerFacts{chain: c, cacheID: l.CacheID, link: link})
		}
		return id, out
	}
	t.Fatal("no image " + tag)
	return "", nil
}

// rewriteKeepTime changes a file's content and puts its mtime back, as a
// careful attacker would.
func rewriteKeepTime(t *testing.T, p, data string) {
	var st unix.Stat_t
	must(t, unix.Lstat(p, &st))
	must(t, os.WriteFile(p, []byte(data), 0o644))
	must(t, unix.UtimesNano(p, []unix.Timespec{st.Atim, st.Mtim}))
}

// renameTarSplitEntry renames the file entry from to to in a tar-split file.
func renameTarSplitEntry(t *testing.T, p, from, to string) {
	f, err := os.Open(p)
	must(t, err)
	gz, err := gzip.NewReader(f)
	must(t, err)
	var out strings.Builder
	zw := gzip.NewWriter(&nopWriter{&out})
	enc := json.NewEncoder(zw)
	dec := json.NewDecoder(gz)
	found := false
	for {
		var e storage.Entry
		if err := dec.Decode(&e); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if e.Type == storage.FileType && e.GetName() == from {
			e.Name, e.NameRaw, found = to, nil, true
		}
		must(t, enc.Encode(e))
	}
	f.Close()
	must(t, zw.Close())
	if !found {
		t.Fatalf("%s: no file entry %s", p, from)
	}
	must(t, os.WriteFile(p, []byte(out.String()), 0o644))
}

type nopWriter struct{ b *strings.Builder }

func (w *nopWriter) Write(p []byte) (int, error) { return w.b.Write(p) }
