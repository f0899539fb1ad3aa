package mounts

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/mountinfo"
)

// aufsRoot writes the parts of a Docker ≤ 23 aufs data root that mounts
// are matched with: image/aufs/layerdb/mounts/<ctr>/{mount-id,init-id},
// containers/<ctr>/config.v2.json, aufs/layers/<id> (parents nearest
// first) and aufs/diff/<id>.
func aufsRoot(t *testing.T, layers []string, ctrs map[string]struct{ mountID, status string }) string {
	t.Helper()
	root := t.TempDir()
	put := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, l := range layers {
		var parents []string
		for j := i - 1; j >= 0; j-- {
			parents = append(parents, layers[j])
		}
		put("aufs/layers/"+l, strings.Join(parents, "\n"))
		put("aufs/diff/"+l+"/f", "")
	}
	top := layers[len(layers)-1]
	for id, c := range ctrs {
		put("image/aufs/layerdb/mounts/"+id+"/mount-id", c.mountID)
		put("image/aufs/layerdb/mounts/"+id+"/init-id", c.mountID+"-init")
		put("aufs/layers/"+c.mountID+"-init", top+"\n"+strings.Join(reverse(layers[:len(layers)-1]), "\n"))
		put("aufs/layers/"+c.mountID, c.mountID+"-init\n"+top+"\n"+strings.Join(reverse(layers[:len(layers)-1]), "\n"))
		put("aufs/diff/"+c.mountID+"/.wh..wh.aufs", "")
		running := c.status == "running"
		started := "0001-01-01T00:00:00Z"
		if c.status != "created" {
			started = "2019-03-01T10:00:00Z"
		}
		put("containers/"+id+"/config.v2.json", fmt.Sprintf(`{"ID":%q,"Name":"/%s","Driver":"aufs","Image":"sha256:%s",`+
			`"Created":"2019-03-01T09:00:00Z","State":{"Running":%v,"StartedAt":%q}}`, id, c.status, strings.Repeat("1", 64), running, started))
	}
	return root
}

func reverse(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[len(xs)-1-i] = x
	}
	return out
}

// openAufs opens an aufs data root.
func openAufs(t *testing.T, root string) *inspect.Store {
	t.Helper()
	s, err := inspect.Open(root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMountsAufs(t *testing.T) {
	h := func(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }
	l0, l1 := h("base"), h("app")
	runID, runMount, exID, exMount := h("run-ctr"), h("run-mount-x"), h("exited-ctr"), h("exited-mnt")
	root := aufsRoot(t, []string{l0, l1}, map[string]struct{ mountID, status string }{
		runID: {runMount, "running"}, exID: {exMount, "exited"}})
	s := openAufs(t, root)
	diff := func(id string) string { return filepath.Join(root, "aufs", "diff", id) }

	// The running container shows si= only (brs=1); sysfs has its branches.
	sys := t.TempDir()
	si := filepath.Join(sys, "fs", "aufs", "si_9a8b7c")
	if err := os.MkdirAll(si, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, b := range []string{diff(runMount) + "=rw", diff(runMount+"-init") + "=ro+wh", diff(l1) + "=ro+wh", diff(l0) + "=ro+wh"} {
		if err := os.WriteFile(filepath.Join(si, fmt.Sprintf("br%d", i)), []byte(b+"\n"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	line := func(id int, mp, opts string) string {
		return fmt.Sprintf("%d 24 0:%d / %s rw,relatime shared:%d - aufs none rw,relatime,%s", id, id, kesc(mp), id, opts)
	}
	tb := table(t, "mi", "mnt:[1]",
		line(421, filepath.Join(root, "aufs", "mnt", runMount), "si=9a8b7c,dio,dirperm1"),
		// the exited one with brs=0, a layer missing from its branches.
		line(449, filepath.Join(root, "aufs", "mnt", exMount), "si=1f2e,dio,dirperm1,br:"+
			diff(exMount)+"=rw:"+diff(exMount+"-init")+"=ro+wh:"+diff(l0)+"=ro+wh"),
		// another host's aufs: not this store's.
		line(460, "/var/lib/docker/aufs/mnt/"+h("other"), "si=77"))
	r, err := Map(s, Options{Tables: []mountinfo.Table{tb}, SysRoot: sys})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Mounts) != 2 {
		t.Fatalf("mounts %+v", r.Mounts)
	}
	run, ex := mountAt(r, filepath.Join(root, "aufs", "mnt", runMount)), mountAt(r, filepath.Join(root, "aufs", "mnt", exMount))
	if run == nil || ex == nil {
		t.Fatalf("mounts %+v", r.Mounts)
	}
	if run.Driver != "aufs" || !run.Merged || run.LayerID != runMount || run.State != StateRunning ||
		run.Container.ID != runID || run.UpperDir != diff(runMount) || len(run.Branches) != 4 || len(run.Problems) != 0 {
		t.Errorf("running: %+v", run)
	}
	if want := runMount + "-init " + l1 + " " + l0; strings.Join(run.LowerLayers, " ") != want || strings.Join(run.StoreLowerLayers, " ") != want {
		t.Errorf("running lowers %v store %v", run.LowerLayers, run.StoreLowerLayers)
	}
	if ex.State != StateStopped || ex.Container.ID != exID || !slices.Equal(ex.Problems, []Problem{Leaked, LowerMismatch}) {
		t.Errorf("exited: %s %v", ex.State, ex.Problems)
	}
	if len(r.Findings) != 2 || len(r.Warnings) != 0 {
		t.Errorf("findings %+v warnings %+v", r.Findings, r.Warnings)
	}

	// Without sysfs the si-only mount is still placed by its mount point,
	// with a warning that its branches are unknown.
	r, err = Map(s, Options{Tables: []mountinfo.Table{tb}, SysRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	run = mountAt(r, filepath.Join(root, "aufs", "mnt", runMount))
	if run == nil || run.State != StateRunning || run.UpperDir != "" || len(r.Warnings) != 1 ||
		r.Warnings[0].Kind != "aufs_branches_unknown" || r.Warnings[0].Path != "mi:1" {
		t.Errorf("no sysfs: %+v warnings %+v", run, r.Warnings)
	}
}
