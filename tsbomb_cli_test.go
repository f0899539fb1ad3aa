package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
)

// TestVerifyTarSplitBomb: a tar-split.json.gz that inflates to 256 MiB of
// white space (a 250 KB file) is a finding naming its layer, found after a
// bounded read, and the other layers are still verified.
func TestVerifyTarSplitBomb(t *testing.T) {
	engine.NeedRoot(t, verifyNeedsRoot)
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	base := b.Image("demo/base:1").Layers[1]
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	block := bytes.Repeat([]byte(" "), 1<<20)
	for range 256 {
		if _, err := w.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	p := filepath.Join(b.Root, "image", "overlay2", "layerdb", "sha256", base.ChainID.Encoded(), "tar-split.json.gz")
	must(t, os.WriteFile(p, z.Bytes(), 0o644))
	out, errOut, code := runCLI("--root", b.Root, "--format", "json", "verify")
	var r verifyJSON
	if code != 1 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	found := false
	for _, f := range r.Findings {
		if f.Kind == "tar_split_malformed" && f.Object == base.ChainID.String() && strings.Contains(f.Message, "too large") {
			found = true
		}
	}
	if !found || r.Stats.LayersHashed < 2 {
		t.Errorf("no bomb finding on layer %s, or the others were not verified (%d hashed): %+v", base.ChainID, r.Stats.LayersHashed, r.Findings)
	}
}
