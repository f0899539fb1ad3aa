package overlay

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/verify"
)

// verifyTrusting verifies the store at root with Trust{Prev: prev}.
func verifyTrusting(t *testing.T, root string, prev *verify.State) *verify.Report {
	t.Helper()
	st, err := inspect.OpenWith(root, inspect.Options{Backends: backend.NewRegistry(New())})
	must(t, err)
	r, err := verify.Run(context.Background(), st, verify.Options{Trust: &verify.Trust{Prev: prev}})
	must(t, err)
	return r
}

func findingNames(s *testStore, fs []verify.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Kind.String()+" "+layerName(s, f.Object)+" "+f.Path)
	}
	return out
}

// TestVerifyStateWholeTrees: on legacy overlay, whose layers are whole
// trees checked against the layer below, a run after one that recorded
// the store trusts every layer; a changed byte of a file the layers
// share (hardlinks: one inode) re-hashes each layer holding it; an entry
// put back into the middle layer's tree re-hashes the top layer too,
// whose own tree did not change but whose check reads the middle one's:
// the findings are those of a run without the state.
func TestVerifyStateWholeTrees(t *testing.T) {
	s, _ := verifiedStore(t)
	first := verifyTrusting(t, s.root, nil)
	if len(first.Findings) != 0 || len(first.Next.Layers) != 3 {
		t.Fatalf("first run: %q, %d layers recorded", findingNames(s, first.Findings), len(first.Next.Layers))
	}
	r := verifyTrusting(t, s.root, first.Next)
	if len(r.Findings) != 0 || r.Trust.LayersTrusted != 3 || r.Stats.LayersHashed != 0 {
		t.Fatalf("unchanged: %q %+v", findingNames(s, r.Findings), *r.Trust)
	}
	for name, c := range map[string]struct {
		tamper  func(s *testStore)
		rehash  int
		finding string
	}{
		"shared byte": {func(s *testStore) {
			f, err := os.OpenFile(filepath.Join(s.home, idL3, "root", "a"), os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteAt([]byte("A"), 0)
			must(t, errors.Join(err, f.Close()))
		}, 3, "content_mismatch L1 /a"},
		"below changed": {func(s *testStore) { write(t, filepath.Join(s.home, idL2, "root", "gone"), "g") }, 2, "whiteout_extra L3 /gone"},
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := verifiedStore(t)
			prev := verifyTrusting(t, s.root, nil).Next
			c.tamper(s)
			want := runVerify(t, s.root)
			got := verifyTrusting(t, s.root, prev)
			if !slices.Equal(findingNames(s, got.Findings), findingNames(s, want)) || !slices.Contains(findingNames(s, want), c.finding) {
				t.Errorf("with the state %q, without %q (want a %s)", findingNames(s, got.Findings), findingNames(s, want), c.finding)
			}
			if got.Trust.LayersRehashed != c.rehash {
				t.Errorf("%+v: want %d layers re-hashed", *got.Trust, c.rehash)
			}
		})
	}
}
