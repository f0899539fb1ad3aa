package containerd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// TestUncompress: gzip, zstd and plain tars are told apart by their magic
// bytes, as containerd's applier does, whatever the media type says; an
// encrypted layer is refused; a truncated gzip stream fails when read.
func TestUncompress(t *testing.T) {
	raw := bytes.Repeat([]byte("a tar's bytes\n"), 1000)
	var gz, zs bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(raw)
	w.Close()
	z, err := zstd.NewWriter(&zs)
	if err != nil {
		t.Fatal(err)
	}
	z.Write(raw)
	z.Close()
	for _, c := range []struct {
		name, mediaType string
		blob            []byte
	}{
		{"gzip", "application/vnd.oci.image.layer.v1.tar+gzip", gz.Bytes()},
		{"docker gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip", gz.Bytes()},
		{"zstd", "application/vnd.oci.image.layer.v1.tar+zstd", zs.Bytes()},
		{"zstd named gzip", "application/vnd.oci.image.layer.v1.tar+gzip", zs.Bytes()},
		{"plain", "application/vnd.oci.image.layer.v1.tar", raw},
	} {
		r, err := Uncompress(c.mediaType, bytes.NewReader(c.blob))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%s: read %d bytes, %v: want the %d bytes of the tar", c.name, len(got), err, len(raw))
		}
	}
	if _, err := Uncompress("application/vnd.oci.image.layer.v1.tar+gzip+encrypted", bytes.NewReader(gz.Bytes())); !errors.Is(err, backend.ErrMediaType) {
		t.Errorf("encrypted: %v, want ErrMediaType", err)
	}
	r, err := Uncompress("application/vnd.oci.image.layer.v1.tar+gzip", bytes.NewReader(gz.Bytes()[:gz.Len()/2]))
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if err == nil {
		t.Error("a truncated gzip blob read without error")
	}
}

// openLayerStore builds fixtures.BuildContainerdLayer with c and opens it.
func openLayerStore(t *testing.T, c fixtures.Compression) (*fixtures.ContainerdLayer, func() *verify.Report) {
	t.Helper()
	l, err := fixtures.BuildContainerdLayer(t.TempDir(), c)
	if err != nil {
		t.Fatal(err)
	}
	return l, func() *verify.Report {
		t.Helper()
		s, err := inspect.OpenWith(l.Root, inspect.Options{Backends: backend.NewRegistry(New(Config{})), Driver: "auto"})
		if err != nil {
			t.Fatal(err)
		}
		// re-read what has findings, as the CLI does: a real problem
		// stays a finding
		r, err := verify.Run(context.Background(), s, verify.Options{Recheck: verify.Recheck{Delays: []time.Duration{time.Millisecond, time.Millisecond}}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// kinds lists the findings' kinds and objects.
func kinds(r *verify.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, string(f.Kind)+" "+f.Object+" "+f.Path)
	}
	return out
}

// TestVerifyLayerBlob: verify over a containerd store whose one layer
// blob is gzip, zstd or a plain tar: the blob, config and manifest are
// re-hashed, the blob's tar hashes to the DiffID, and its entries (a
// setuid file, a hardlink, a symlink, a 2 MiB file streamed) match the
// snapshot's fs/.
func TestVerifyLayerBlob(t *testing.T) {
	for _, c := range []fixtures.Compression{fixtures.Gzip, fixtures.Zstd, fixtures.Uncompressed} {
		t.Run(string(c), func(t *testing.T) {
			_, run := openLayerStore(t, c)
			r := run()
			if len(r.Findings) != 0 || !r.Complete {
				t.Fatalf("findings %q, complete %v", kinds(r), r.Complete)
			}
			if r.Stats.Layers != 1 || r.Stats.LayersHashed != 1 || r.Stats.Blobs != 3 || r.Stats.BlobsHashed != 3 || r.Stats.Entries != 8 {
				t.Errorf("stats %+v: want 1 layer hashed, 3 blobs hashed, 8 entries", r.Stats)
			}
		})
	}
}

// TestVerifyLayerBlobTampered: each change is found and named, on a fresh
// store each: a file's bytes (same size and mtime), a setuid bit dropped,
// a file added to the snapshot, a byte of the blob, the snapshot dir
// removed.
func TestVerifyLayerBlobTampered(t *testing.T) {
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, l *fixtures.ContainerdLayer)
		want   []string // kind, object: "layer" or "blob", path
	}{
		{"content", func(t *testing.T, l *fixtures.ContainerdLayer) { flip(t, filepath.Join(l.FS, "etc", "os")) },
			[]string{"content_mismatch layer /etc/os", "diff_id_mismatch layer " + "FS"}},
		{"setuid dropped", func(t *testing.T, l *fixtures.ContainerdLayer) {
			must(t, os.Chmod(filepath.Join(l.FS, "bin", "tool"), 0o755))
		},
			[]string{"mode_mismatch layer /bin/tool"}},
		{"file added", func(t *testing.T, l *fixtures.ContainerdLayer) {
			must(t, os.WriteFile(filepath.Join(l.FS, "etc", "extra"), []byte("x"), 0o644))
		}, []string{"extra_file layer /etc/extra", "mtime_mismatch layer /etc"}},
		{"blob byte", func(t *testing.T, l *fixtures.ContainerdLayer) { flip(t, l.BlobPath) },
			[]string{"blob_digest_mismatch blob BLOB", "blob_malformed layer BLOB"}},
		{"blob grown", func(t *testing.T, l *fixtures.ContainerdLayer) {
			f, err := os.OpenFile(l.BlobPath, os.O_WRONLY|os.O_APPEND, 0)
			must(t, err)
			_, err = f.Write([]byte{0})
			must(t, err)
			must(t, f.Close())
		}, []string{"blob_size_mismatch blob META", "blob_digest_mismatch blob BLOB", "blob_malformed layer BLOB"}},
		{"snapshot dir removed", func(t *testing.T, l *fixtures.ContainerdLayer) { must(t, os.RemoveAll(filepath.Dir(l.FS))) },
			[]string{"cache_dir_missing layer DIR"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, run := openLayerStore(t, fixtures.Gzip)
			c.tamper(t, l)
			r := run()
			var got, want []string
			for _, f := range r.Findings {
				obj := "layer"
				if f.ObjectType == verify.ObjectBlob {
					obj = "blob"
				}
				if (obj == "layer" && f.Object != l.Chain.String()) || (obj == "blob" && f.Object != l.Blob.String()) {
					t.Errorf("%s: about %s", f.Kind, f.Object)
				}
				if len(f.Affects.Images) != 1 || f.Affects.Images[0] != "one:1" {
					t.Errorf("%s: affects %v, want one:1", f.Kind, f.Affects.Images)
				}
				got = append(got, string(f.Kind)+" "+obj+" "+f.Path)
			}
			for _, w := range c.want {
				w = replaceAll(w, map[string]string{"FS": l.FS, "BLOB": l.BlobPath, "DIR": filepath.Dir(l.FS),
					"META": filepath.Join(l.ContainerdRoot, "io.containerd.metadata.v1.bolt", "meta.db", "v1", "moby", "content", "blob", l.Blob.String())})
				want = append(want, w)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("findings %q, want %q", got, want)
			}
		})
	}
}

func replaceAll(s string, r map[string]string) string {
	for k, v := range r {
		if len(s) >= len(k) && s[len(s)-len(k):] == k {
			return s[:len(s)-len(k)] + v
		}
	}
	return s
}

// flip flips a bit of the first byte of p, keeping its size and mtime.
func flip(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Stat(p)
	must(t, err)
	b, err := os.ReadFile(p)
	must(t, err)
	b[len(b)/2] ^= 1
	must(t, os.WriteFile(p, b, fi.Mode().Perm()))
	must(t, os.Chtimes(p, fi.ModTime(), fi.ModTime()))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestVerifyLayerBlobHostileTar: a layer blob's tar naming a path outside
// the layer, or a path twice, is a finding about the layer (never opened
// outside the snapshot), with the blob's kinds, not tar-split's.
func TestVerifyLayerBlobHostileTar(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "escape")
	must(t, os.WriteFile(outside, []byte("outside\n"), 0o644))
	l, err := fixtures.BuildContainerdLayerWith(dir, fixtures.Gzip, []fixtures.TarFile{
		{Name: "../../../escape", Body: "outside\n"}, {Name: "etc/os", Body: "two\n"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := inspect.OpenWith(l.Root, inspect.Options{Backends: backend.NewRegistry(New(Config{})), Driver: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := verify.Run(context.Background(), s, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	t.Logf("findings: %q", kinds(r))
	for _, f := range r.Findings {
		got[string(f.Kind)+" "+f.Path] = true
		if f.DockerDetects || f.Object != l.Chain.String() {
			t.Errorf("%+v", f)
		}
	}
	for _, w := range []string{"layer_tar_unsafe_name ../../../escape", "layer_tar_duplicate etc/os", "content_mismatch /etc/os"} {
		if !got[w] {
			t.Errorf("no %s among %q", w, kinds(r))
		}
	}
	for k := range got {
		if strings.HasPrefix(k, "tar_split_") {
			t.Errorf("a tar-split kind for a blob layer: %s", k)
		}
	}
}

// TestVerifyUnusedLayerSnapshot: a committed snapshot keyed by a ChainID
// that no image holds any more (its image removed, containerd's garbage
// collection not yet run) has no blob to be checked against, and nothing
// depends on it: no finding.
func TestVerifyUnusedLayerSnapshot(t *testing.T) {
	l, run := openLayerStore(t, fixtures.Gzip)
	key := digest.FromString("an unused layer").String()
	backendKey := "moby/9/" + key
	update := func(p string, fill func(*bolt.Tx) error) {
		db, err := bolt.Open(p, 0o600, nil)
		must(t, err)
		must(t, db.Update(fill))
		must(t, db.Close())
	}
	update(filepath.Join(l.ContainerdRoot, "io.containerd.metadata.v1.bolt", "meta.db"), func(tx *bolt.Tx) error {
		b, err := tx.Bucket([]byte("v1")).Bucket([]byte("moby")).Bucket([]byte("snapshots")).Bucket([]byte("overlayfs")).CreateBucket([]byte(key))
		if err != nil {
			return err
		}
		return b.Put([]byte("name"), []byte(backendKey))
	})
	home := filepath.Join(l.ContainerdRoot, "io.containerd.snapshotter.v1.overlayfs")
	update(filepath.Join(home, "metadata.db"), func(tx *bolt.Tx) error {
		b, err := tx.Bucket([]byte("v1")).Bucket([]byte("snapshots")).CreateBucket([]byte(backendKey))
		if err != nil {
			return err
		}
		b.Put([]byte("id"), binary.AppendUvarint(nil, 2))
		return b.Put([]byte("kind"), []byte{byte(KindCommitted)})
	})
	must(t, os.MkdirAll(filepath.Join(home, "snapshots", "2", "fs"), 0o755))
	r := run()
	if len(r.Findings) != 0 || r.Stats.Layers != 2 || r.Stats.LayersHashed != 1 {
		t.Errorf("findings %q, stats %+v: want none, 2 layers, 1 hashed", kinds(r), r.Stats)
	}
}
