package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/mounts"
)

// ovCheckDU: dlayer du on the legacy overlay store gives Docker's numbers
// (every image's Size and SharedSize, every container's SizeRw, the
// size of its docker diff on this driver, and SizeRootFs, as
// /system/df), overlay/ and the whole root add up to du -sxB1 (the files
// every layer's root/ shares by hardlink counted once), every layer dir
// is charged to an owner, and no layer's size is said to differ from
// layerdb's (a layer's own files, not its whole root/).
func ovCheckDU(t *testing.T, root string, eng *ovEngine) {
	r := duJSON(t, root)
	checkDF(t, r, eng.df, "")
	for _, c := range r.Containers {
		t.Logf("%s: size_rw %d size_root_fs %d (upper dir and init layer disk usage %d)", c.Name, c.SizeRw, c.SizeRootFs, c.DiskUsage+c.InitDiskUsage)
	}
	checkDUTotals(t, r)
	if len(r.Orphans) != 0 {
		t.Errorf("orphans %+v", r.Orphans)
	}
	for _, l := range r.Layers {
		if l.MeasuredSize != l.Size || l.DiskUsage == 0 {
			t.Errorf("layer %s: measured %d, layerdb %d, disk usage %d", l.CacheID, l.MeasuredSize, l.Size, l.DiskUsage)
		}
	}
	if r.Summary.HardlinkedInodes == 0 || r.Summary.ExtraLinks == 0 {
		t.Errorf("no hardlinks counted once: %+v", r.Summary)
	}
	for _, f := range r.Findings {
		t.Errorf("unexpected finding: %+v", f)
	}
}

// ovCheckMounts: on the live root, dlayer mounts maps the running
// container's overlay mount, whose one lowerdir is the root/ its
// lower-id names, with no problem (exit 0); offline no mount lies in the
// store.
func ovCheckMounts(t *testing.T, v ovView, eng *ovEngine) {
	r, code := mountsJSON(t, v.root, "auto")
	if code != 0 || len(r.Findings) != 0 {
		t.Errorf("dlayer mounts: exit %d, findings %+v", code, r.Findings)
	}
	if !v.live {
		if len(r.Mounts) != 0 {
			t.Errorf("no mount lies in %s, dlayer mounts lists %+v", v.root, r.Mounts)
		}
		return
	}
	top := filepath.Base(filepath.Dir(eng.runningLow))
	if len(r.Mounts) != 1 {
		t.Fatalf("mounts %+v, want %s's", r.Mounts, eng.runningName)
	}
	m := r.Mounts[0]
	if m.UpperDir != eng.runningUp || strings.Join(m.LowerDirs, ":") != eng.runningLow || m.State != mounts.StateRunning ||
		m.Container == nil || m.Container.Name != eng.runningName || m.Container.Layer != "rw" || !m.Merged ||
		strings.Join(m.LowerLayers, ",") != top || strings.Join(m.StoreLowerLayers, ",") != top || len(m.Problems) != 0 {
		t.Errorf("%s's mount: %+v; docker inspect upper %s lower %s", eng.runningName, m, eng.runningUp, eng.runningLow)
	}
}

// ovCheckTamper: on the copy, a byte changed in a file of the top image
// layer's root/, which that root/ shares by hardlink with the layer that
// made it (COPY f.txt), is caught in that layer at its path (Docker's
// own check would catch it too); a file added to a dir the top layer
// only copied from the layer below is an extra file of the top layer.
func ovCheckTamper(t *testing.T, cp string, eng *ovEngine) {
	topRoot := filepath.Join(cp, "overlay", filepath.Base(filepath.Dir(eng.img.GraphDriver.Data["RootDir"])), "root")
	f, err := os.OpenFile(filepath.Join(topRoot, "data", "f.txt"), os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt([]byte("F"), 0)
	must(t, err)
	must(t, f.Close())
	must(t, os.WriteFile(filepath.Join(topRoot, "bin", "evil"), []byte("evil\n"), 0o755))
	out, errOut, code := runCLI("--root", cp, "--format", "json", "verify")
	var r verifyJSON
	if code != 1 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("verify of the tampered copy: exit %d (want 1): %s\n%s", code, errOut, out)
	}
	copyLayer, topLayer := layerOf(t, cp, 3), layerOf(t, cp, len(eng.img.RootFS.Layers))
	found := map[string]bool{}
	for _, f := range r.Findings {
		found[f.Kind+" "+f.Object+" "+f.Path] = true
	}
	for _, want := range []string{"content_mismatch " + copyLayer + " /data/f.txt", "extra_file " + topLayer + " /bin/evil"} {
		if !found[want] {
			t.Errorf("verify did not find %q: %+v", want, r.Findings)
		}
	}
}

// layerOf is the chain ID of layer n (1 = base) of ov:1, from dlayer layers.
func layerOf(t *testing.T, root string, n int) string {
	t.Helper()
	out, errOut, code := runCLI("--root", root, "--format", "json", "layers", "ov:1")
	var doc struct {
		Layers []struct {
			Position int    `json:"position"`
			ChainID  string `json:"chain_id"`
		} `json:"layers"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("dlayer layers: exit %d: %s", code, errOut)
	}
	for _, l := range doc.Layers {
		if l.Position == n {
			return l.ChainID
		}
	}
	t.Fatalf("ov:1 has no layer %d", n)
	return ""
}
