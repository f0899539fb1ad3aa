package whose

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

// TestStackedOnIsInUse: a layer dir whose layerdb record is damaged is
// named by no record, but the lower lists of the layers and containers on
// it still name it: whose says it is in use and advises nothing, never
// that deleting it is safe or merely cautious.
func TestStackedOnIsInUse(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	l := b.Image("demo/base:1").Layers[0]
	if err := os.WriteFile(filepath.Join(b.Root, "image", "overlay2", "layerdb", "sha256", l.ChainID.Encoded(), "cache-id"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := inspect.Open(b.Root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"overlay2/" + l.CacheID, "overlay2/" + l.CacheID + "/diff/etc/passwd"} {
		a, err := Ask(s, p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Owner.Kind != OwnerUnaccounted || a.Verdict.Safe != SafeNo || a.Verdict.Instead != "" {
			t.Errorf("%s: owner %s, verdict %+v; want unaccounted, not safe, no command", p, a.Owner.Kind, a.Verdict)
		}
	}
}
