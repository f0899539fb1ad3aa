package du

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

func auditDriver(t *testing.T, root, driver string) *Report {
	t.Helper()
	s, err := inspect.Open(root, fixtures.Backends(), driver)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Audit(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The aufs twin of the demo store has the same Docker numbers, and every
// byte of it is charged.
func TestAuditAUFSTwin(t *testing.T) {
	b := build(t, fixtures.Demo())
	dst := filepath.Join(t.TempDir(), "aufs")
	if _, err := fixtures.AUFSTwin(b.Root, dst, fixtures.TwinOptions{}); err != nil {
		t.Fatal(err)
	}
	ov, au := audit(t, b.Root, Options{}), audit(t, dst, Options{})
	if au.Driver != "aufs" || au.DriverDir != filepath.Join(dst, "aufs") {
		t.Fatalf("driver %s dir %s", au.Driver, au.DriverDir)
	}
	if len(au.Findings) != 0 || len(au.Orphans) != 0 || len(au.InactiveDriver) != 0 {
		t.Errorf("clean twin: findings %+v orphans %+v inactive %+v", au.Findings, au.Orphans, au.InactiveDriver)
	}
	for _, bl := range b.Layers() {
		l := layerByCache(au, bl.CacheID)
		if l == nil {
			t.Fatalf("layer %s not reported", bl.ChainID)
		}
		content := filepath.Join(dst, "aufs/diff", bl.CacheID)
		want := refDiskUsage(t, content) + refDiskUsage(t, filepath.Join(dst, "aufs/layers", bl.CacheID)) + refDiskUsage(t, filepath.Join(dst, "aufs/mnt", bl.CacheID))
		if l.Size != bl.Size || l.MeasuredSize != bl.Size || refDockerSize(t, content) != bl.Size || l.DiskUsage != want || l.Dir != content {
			t.Errorf("layer %s: %+v; built size %d, disk usage of its three entries %d", bl.ChainID, l, bl.Size, want)
		}
	}
	for _, im := range ov.Images {
		a := imageByID(au, string(im.ID))
		if a.Size != im.Size || a.SharedSize != im.SharedSize || a.UniqueSize != im.UniqueSize || a.Containers != im.Containers {
			t.Errorf("image %s: aufs %+v, overlay2 %+v", im.ID, a, im)
		}
	}
	for _, bc := range b.Containers {
		c, o := containerByName(au, bc.Name), containerByName(ov, bc.Name)
		if c.SizeRw != bc.SizeRw || c.SizeRw != o.SizeRw || c.SizeRootFs != o.SizeRootFs || c.InitSize != o.InitSize {
			t.Errorf("%s: aufs %+v, overlay2 %+v", bc.Name, c, o)
		}
	}
	names := map[string]bool{}
	for _, d := range au.Bookkeeping {
		names[d.Name] = true
	}
	for _, n := range []string{".", "diff/.", "layers/.", "mnt/."} {
		if !names[n] {
			t.Errorf("bookkeeping lacks %s: %+v", n, au.Bookkeeping)
		}
	}
	checkTotals(t, au)
}

// A mixed root: each driver audits its own, the other's dirs are one
// category, and the totals still add up to du's.
func TestAuditMixedRoot(t *testing.T) {
	b := build(t, fixtures.Demo())
	tw, err := fixtures.AUFSTwin(b.Root, b.Root, fixtures.TwinOptions{Suffix: "-aufs"})
	if err != nil {
		t.Fatal(err)
	}
	for _, driver := range []string{"overlay2", "aufs"} {
		t.Run(driver, func(t *testing.T) {
			r := auditDriver(t, b.Root, driver)
			if len(r.Findings) != 0 || len(r.Orphans) != 0 || len(r.Containers) != len(b.Containers) {
				t.Errorf("findings %+v orphans %+v, %d containers", r.Findings, r.Orphans, len(r.Containers))
			}
			other := map[string]string{"overlay2": "aufs", "aufs": "overlay2"}[driver]
			inactive := map[string]bool{}
			for _, d := range r.InactiveDriver {
				inactive[d.Name] = true
				if d.Why == "" || !strings.Contains(d.Why, "--driver "+other) {
					t.Errorf("inactive %s: why %q", d.Name, d.Why)
				}
			}
			if !inactive[other] || len(r.OtherDrivers) != 1 || r.OtherDrivers[0] != other {
				t.Errorf("inactive %v, other drivers %v", inactive, r.OtherDrivers)
			}
			for _, bc := range b.Containers {
				id := bc.ID
				if driver == "overlay2" {
					id = tw.Containers[bc.ID]
				}
				if !inactive["containers/"+id] {
					t.Errorf("containers/%s of the other driver not inactive: %v", id, inactive)
				}
			}
			if r.Summary.InactiveDriver.DiskUsage == 0 {
				t.Errorf("inactive group empty: %+v", r.Summary.InactiveDriver)
			}
			checkTotals(t, r)
		})
	}
}
