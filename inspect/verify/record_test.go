package verify

import (
	"os"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
)

// TestLayerRecordEachFile: each bad file of a layerdb entry is a finding
// of its own, at that file, whatever the others are.
func TestLayerRecordEachFile(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	mustDo(t, os.WriteFile(s.layerdb(1, "diff"), []byte("sha256:nope"), 0o644))
	mustDo(t, os.WriteFile(s.layerdb(1, "cache-id"), []byte("a/b"), 0o644))
	mustDo(t, os.WriteFile(s.layerdb(1, "size"), []byte("12k"), 0o644))
	r := s.run(t, Options{Quick: true})
	for _, c := range []struct {
		kind Kind
		file string
	}{{KindLayerUnreadable, "diff"}, {KindLayerUnreadable, "cache-id"}, {KindSizeMalformed, "size"}} {
		checkFinding(t, r, tamper{kind: c.kind, object: layerObj(1), path: func(s store) string { return s.layerdb(1, c.file) }}, s)
	}
}

// TestCacheIDNotALayerDir: a cache-id the driver cannot have as a layer
// dir (overlay2's l/) is a finding, though layerdb reads it.
func TestCacheIDNotALayerDir(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	mustDo(t, os.WriteFile(s.layerdb(0, "cache-id"), []byte("l"), 0o644))
	r := s.run(t, Options{Quick: true})
	checkFinding(t, r, tamper{kind: KindLayerUnreadable, object: layerObj(0), path: func(s store) string { return s.layerdb(0, "cache-id") }}, s)
}
