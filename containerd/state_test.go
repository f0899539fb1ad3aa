package containerd

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/verify"
)

// runTrusting verifies the containerd store at root with Trust{Prev: prev}.
func runTrusting(t *testing.T, root string, prev *verify.State) *verify.Report {
	t.Helper()
	s, err := inspect.OpenWith(root, inspect.Options{Backends: backend.NewRegistry(New(Config{})), Driver: "auto"})
	must(t, err)
	r, err := verify.Run(context.Background(), s, verify.Options{Trust: &verify.Trust{Prev: prev}})
	must(t, err)
	return r
}

// TestVerifyStateBlobs: on the containerd image store, a run after one
// that recorded the store re-hashes neither the layer nor any content
// blob (their stat is the record's); a byte of the snapshot's file, or
// of the layer blob, is caught with the findings of a run without the
// state, and what has findings is not recorded.
func TestVerifyStateBlobs(t *testing.T) {
	l, _ := openLayerStore(t, fixtures.Gzip)
	first := runTrusting(t, l.Root, nil)
	if len(first.Findings) != 0 || len(first.Next.Layers) != 1 || len(first.Next.Blobs) != 3 {
		t.Fatalf("first run: %q, recorded %d layers and %d blobs, want 1 and 3", kinds(first), len(first.Next.Layers), len(first.Next.Blobs))
	}
	r := runTrusting(t, l.Root, first.Next)
	if len(r.Findings) != 0 || r.Trust.LayersTrusted != 1 || r.Trust.BlobsTrusted != 3 || r.Stats.LayersHashed != 0 || r.Stats.BlobsHashed != 0 {
		t.Fatalf("unchanged: %q %+v %+v: nothing re-hashed", kinds(r), *r.Trust, r.Stats)
	}
	for name, tamper := range map[string]func(t *testing.T, l *fixtures.ContainerdLayer){
		"fs byte":   func(t *testing.T, l *fixtures.ContainerdLayer) { flip(t, filepath.Join(l.FS, "etc", "os")) },
		"blob byte": func(t *testing.T, l *fixtures.ContainerdLayer) { flip(t, l.BlobPath) },
		"fs added": func(t *testing.T, l *fixtures.ContainerdLayer) {
			must(t, os.WriteFile(filepath.Join(l.FS, "etc", "extra"), []byte("x"), 0o644))
		},
	} {
		t.Run(name, func(t *testing.T) {
			l, run := openLayerStore(t, fixtures.Gzip)
			prev := runTrusting(t, l.Root, nil).Next
			tamper(t, l)
			want := run()
			got := runTrusting(t, l.Root, prev)
			if len(want.Findings) == 0 || !slices.Equal(kinds(got), kinds(want)) {
				t.Errorf("with the state %q, without %q", kinds(got), kinds(want))
			}
			for _, rec := range got.Next.Layers {
				t.Errorf("the layer with findings is recorded: %+v", rec)
			}
			for _, b := range got.Next.Blobs {
				if b.Digest == l.Blob && name == "blob byte" {
					t.Errorf("the changed blob is recorded: %+v", b)
				}
			}
		})
	}
}
