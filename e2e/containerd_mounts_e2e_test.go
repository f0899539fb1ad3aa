package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect/mounts"
)

// TestContainerdMountsE2E: dlayer mounts on Docker 29's containerd image
// store. Every running container's rootfs mount
// (<data root>/rootfs/overlayfs/<id>) maps to the container and to its
// snapshot (the upper dir's snapshots/<n>), its lowers agreeing with the
// snapshot chain, with no finding; then a stopped container's rootfs
// mounted again by hand at its own mount point (upper: its snapshot's fs/)
// is flagged leaked, and a running container whose rootfs was unmounted
// (umount -l) is flagged running_not_mounted. The hand mount is beneath the test engine's data
// root and unmounted (its mount point removed) at cleanup.
func TestContainerdMountsE2E(t *testing.T) {
	e := engine.ForTestWith(t, "", engine.Options{Kind: engine.Docker29})
	if _, err := e.ImportBusybox("c8m-base:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build("c8m:1", "FROM c8m-base:1\nRUN echo layer > /layer\n", nil); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"run", "-d", "--network", "none", "--name", "c8m-run1", "c8m:1", "sleep", "3600"},
		{"run", "-d", "--network", "none", "--name", "c8m-run2", "c8m-base:1", "sleep", "3600"},
		{"run", "--network", "none", "--name", "c8m-stopped", "c8m:1", "sh", "-c", "echo s > /s"},
	} {
		if out, err := e.Docker(args...); err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
	}
	root := e.Root()
	ids := map[string]string{}
	for _, n := range []string{"c8m-run1", "c8m-run2", "c8m-stopped"} {
		j, err := e.InspectContainer(n)
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = j.ID
	}

	r, code := mountsJSON(t, root, "auto")
	if code != 0 || len(r.Findings) != 0 {
		t.Fatalf("mounts: exit %d, findings %+v", code, r.Findings)
	}
	for _, n := range []string{"c8m-run1", "c8m-run2"} {
		x := explainJSON(t, root, "off", n)
		m := findMount(r, filepath.Join(root, "rootfs", "overlayfs", ids[n]))
		switch {
		case m == nil:
			t.Errorf("%s: no mount at its rootfs in %+v", n, r.Mounts)
		case m.Container == nil || m.Container.ID != ids[n] || m.Container.Layer != mounts.RoleRW || m.State != mounts.StateRunning || !m.Merged:
			t.Errorf("%s: mount %+v, container %+v", n, m, m.Container)
		case m.UpperDir != x.RWLayer.UpperDir || m.LayerID != filepath.Base(filepath.Dir(x.RWLayer.UpperDir)):
			t.Errorf("%s: mount upper %s (layer %s), explain's %s", n, m.UpperDir, m.LayerID, x.RWLayer.UpperDir)
		case m.StoreLowerLayers == nil || strings.Join(m.LowerLayers, ":") != strings.Join(m.StoreLowerLayers, ":"):
			t.Errorf("%s: mounted lowers %v, snapshot chain %v", n, m.LowerLayers, m.StoreLowerLayers)
		}
	}

	// The stopped container's rootfs, mounted again by hand.
	x := explainJSON(t, root, "off", "c8m-stopped")
	target := filepath.Join(root, "rootfs", "overlayfs", ids["c8m-stopped"])
	if err := os.Mkdir(target, 0o711); err != nil {
		t.Fatal(err)
	}
	data := "lowerdir=" + strings.Join(x.RWLayer.LowerDirs, ":") + ",upperdir=" + x.RWLayer.UpperDir + ",workdir=" + x.RWLayer.WorkDir
	if err := syscall.Mount("overlay", target, "overlay", 0, data); err != nil {
		t.Fatalf("mount -t overlay -o %s %s: %v", data, target, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(target, syscall.MNT_DETACH); err != nil {
			t.Errorf("umount %s: %v", target, err)
		}
		if err := os.Remove(target); err != nil {
			t.Errorf("rmdir %s: %v", target, err)
		}
	})
	r, code = mountsJSON(t, root, "auto")
	m := findMount(r, target)
	if code != 1 || m == nil || m.Container == nil || m.Container.ID != ids["c8m-stopped"] || m.State != mounts.StateStopped {
		t.Fatalf("hand mount: exit %d, mount %+v", code, m)
	}
	if len(r.Findings) != 1 || r.Findings[0].Kind != "leaked_mount" || r.Findings[0].Path != target {
		t.Errorf("hand mount: findings %+v", r.Findings)
	}

	// A running container whose rootfs is gone (umount -l): missing.
	run2 := filepath.Join(root, "rootfs", "overlayfs", ids["c8m-run2"])
	if err := syscall.Unmount(run2, syscall.MNT_DETACH); err != nil {
		t.Fatalf("umount -l %s: %v", run2, err)
	}
	r, code = mountsJSON(t, root, "auto")
	var missing []string
	for _, f := range r.Findings {
		if f.Kind == "running_not_mounted" {
			missing = append(missing, f.Path)
		}
	}
	if code != 1 || len(missing) != 1 || missing[0] != run2 {
		t.Errorf("unmounted running container: exit %d, findings %+v", code, r.Findings)
	}
}

// findMount is the mount at mount point p.
func findMount(r *mounts.Report, p string) *mounts.Mount {
	for i := range r.Mounts {
		if r.Mounts[i].MountPoint == p {
			return &r.Mounts[i]
		}
	}
	return nil
}
