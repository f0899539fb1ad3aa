package du

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
)

// TestAuditDamage damages the demo store in every way the audit reports
// and checks each finding, the orphans with their exact sizes and reasons,
// and that the totals still equal du.
func TestAuditDamage(t *testing.T) {
	b := build(t, fixtures.Demo())
	ov := filepath.Join(b.Root, "overlay2")
	orphan := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	writeFile(t, filepath.Join(ov, orphan, "diff", "a"), strings.Repeat("a", 1000))
	writeFile(t, filepath.Join(ov, orphan, "diff", "sub", "b"), strings.Repeat("b", 24))
	writeFile(t, filepath.Join(ov, orphan, "link"), "ZZZZZZZZZZZZZZZZZZZZZZZZZZ")
	writeFile(t, filepath.Join(ov, "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210-init", "diff", ".dockerenv"), "")
	writeFile(t, filepath.Join(ov, "aaaa-removing", "diff", "x"), "xyz")
	writeFile(t, filepath.Join(ov, "junk"), "0123456789")
	// a layer of demo/base:1 (and so of demo/app:2) loses its dir
	gone := b.Image("demo/base:1").Layers[1]
	if err := os.RemoveAll(filepath.Join(ov, gone.CacheID)); err != nil {
		t.Fatal(err)
	}
	// the top layer of demo/app:2 loses its short link; l/ gets a dangling one
	top := b.Image("demo/app:2").Layers[3]
	if err := os.Remove(filepath.Join(ov, "l", top.Link)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../"+strings.Repeat("9", 64)+"/diff", filepath.Join(ov, "l", "AAAAAAAAAAAAAAAAAAAAAAAAAA")); err != nil {
		t.Fatal(err)
	}
	// a file appears in a layer of demo/app:2 after it was extracted
	own := b.Image("demo/app:2").Layers[3]
	writeFile(t, filepath.Join(ov, own.CacheID, "diff", "planted"), "12345")
	ldb := filepath.Join(b.Root, "image", "overlay2", "layerdb")
	writeFile(t, filepath.Join(ldb, "tmp", "write-set-123", "diff"), "x")
	if err := os.Mkdir(filepath.Join(ldb, "sha256", strings.Repeat("b", 64)+"-1234-removing"), 0o700); err != nil {
		t.Fatal(err)
	}

	r := audit(t, b.Root, Options{})
	orphans := map[string]Dir{}
	for _, d := range r.Orphans {
		orphans[d.Name] = d
	}
	o := orphans[orphan]
	if o.Size != 1000+24+26 || o.DiskUsage != refDiskUsage(t, filepath.Join(ov, orphan)) || !strings.Contains(o.Why, "no layerdb layer") {
		t.Errorf("hand-made orphan: %+v (want size 1050: its files and its link file)", o)
	}
	if d := orphans["junk"]; d.Size != 10 || !strings.Contains(d.Why, "stray file") {
		t.Errorf("stray file: %+v", d)
	}
	for name, why := range map[string]string{
		"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210-init": "init layer of a container that no longer exists",
		"aaaa-removing": "interrupted removal",
	} {
		if d, ok := orphans[name]; !ok || !strings.Contains(d.Why, why) {
			t.Errorf("orphan %s: %+v, want why %q", name, d, why)
		}
	}
	if len(r.Orphans) != 4 || r.Summary.Orphans.Reclaimable.Size != 1050+10+3 {
		t.Errorf("orphans %d, reclaimable %+v", len(r.Orphans), r.Summary.Orphans.Reclaimable)
	}
	l := layerByCache(r, gone.CacheID)
	if l == nil || !l.Missing || l.MeasuredSize != -1 {
		t.Errorf("missing layer: %+v", l)
	}
	if im := imageByID(r, string(b.Image("demo/app:2").ID)); len(im.MissingLayers) != 1 || im.MissingLayers[0] != gone.ChainID {
		t.Errorf("demo/app:2 missing layers %v", im.MissingLayers)
	}
	f := findingKinds(r)
	want := map[string]string{
		"layer_dir_missing":    "it breaks images demo/app:2, demo/base:1; and containers batch, fresh, web",
		"link_missing":         top.Link,
		"removing_leftover":    "aaaa-removing",
		"layerdb_tmp_leftover": "write-set-123",
		"layerdb_removing":     "-1234-removing",
		"layer_size_mismatch":  fmt.Sprintf("the store records %d bytes, but", own.Size),
	}
	for kind, text := range want {
		if len(f[kind]) != 1 || !strings.Contains(f[kind][0].Message+f[kind][0].Path, text) {
			t.Errorf("%s: %+v, want one mentioning %q", kind, f[kind], text)
		}
	}
	// the hand-made link dangles, and so does the missing layer's, which
	// says whose it was
	if d := f["dangling_link"]; len(d) != 2 || !strings.Contains(d[0].Message+d[1].Message, string(gone.ChainID)+", which is missing") {
		t.Errorf("dangling links: %+v", d)
	}
	checkTotals(t, r)
}

// TestHardlinkAcrossDirs: an inode with names in a layer and in an orphan
// is charged once, to the layer; the orphan's Docker size still counts it
// (it is in the orphan's tree), and the totals equal du.
func TestHardlinkAcrossDirs(t *testing.T) {
	b := build(t, fixtures.Demo())
	dir := filepath.Join(b.Root, "overlay2", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	linkIntoLayer(t, b, dir)
	r := audit(t, b.Root, Options{})
	base := layerByCache(r, b.Image("demo/base:1").Layers[0].CacheID)
	if want := refDiskUsage(t, filepath.Join(b.Root, "overlay2", base.CacheID)); base.DiskUsage != want {
		t.Errorf("layer disk usage %d, want %d (the shared inode stays with the layer)", base.DiskUsage, want)
	}
	o := r.Orphans[0]
	var st os.FileInfo
	st, _ = os.Stat(filepath.Join(dir, "diff", "passwd"))
	if o.Size != 10+st.Size() {
		t.Errorf("orphan size %d, want %d", o.Size, 10+st.Size())
	}
	if o.DiskUsage >= refDiskUsage(t, dir) {
		t.Errorf("orphan disk usage %d: the linked inode must not be charged to it", o.DiskUsage)
	}
	checkTotals(t, r)
}
