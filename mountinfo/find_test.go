package mountinfo

import (
	"strings"
	"testing"
)

func TestFindOverlayByUpper(t *testing.T) {
	docker := readSample(t, "docker-overlay2-handmade.mountinfo")
	host := readSample(t, "self-host.mountinfo")
	kernel := readSample(t, "overlay-kernel618.mountinfo")
	tests := []struct {
		name       string
		mounts     []Mount
		upper      string
		home       string
		wantID     int // 0: not found
		wantLowers int
	}{
		{"relative lowerdirs, absolute query", docker, dHome + "/" + id1 + "/diff", dHome, 1021, 80},
		{"relative lowerdirs, relative query", docker, id1 + "/diff", dHome, 1021, 80},
		{"relative, no home: compared as given", docker, id1 + "/diff", "", 1021, 80},
		{"relative, wrong home", docker, dHome + "/" + id1 + "/diff", "/srv/docker/overlay2", 0, 0},
		{"absolute options", docker, dHome + "/" + id2 + "/diff", dHome, 1033, 3},
		{"absolute options, no home", docker, dHome + "/" + id2 + "/diff/", "", 1033, 3},
		{"unknown upper", docker, dHome + "/nope/diff", dHome, 0, 0},
		{"empty upper", docker, "", dHome, 0, 0},
		{"real Docker 20.10 mount", host, eng + "/overlay2/" + engID + "/diff", eng + "/overlay2", 49, 5},
		{"real relative mount", kernel, capT + "/rel/id1/diff", capT + "/rel", 101, 2},
		{"real mount, space in path", kernel, capT + "/sp ace/up", "", 65, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, o, ok := FindOverlayByUpper(tt.mounts, tt.upper, tt.home)
			if tt.wantID == 0 {
				if ok {
					t.Fatalf("found mount %d, want none", m.MountID)
				}
				return
			}
			if !ok || m.MountID != tt.wantID || len(o.LowerDirs) != tt.wantLowers {
				t.Fatalf("got mount %d (ok %v) with %d lowers, want %d with %d",
					m.MountID, ok, len(o.LowerDirs), tt.wantID, tt.wantLowers)
			}
			if tt.home != "" && o.Relative() {
				t.Errorf("returned overlay not resolved: %+v", o)
			}
		})
	}
	_, o, _ := FindOverlayByUpper(docker, id1+"/diff", dHome)
	if !strings.HasPrefix(o.LowerDirs[0], dHome+"/l/") || o.WorkDir != dHome+"/"+id1+"/work" {
		t.Errorf("resolved paths: lower %q work %q", o.LowerDirs[0], o.WorkDir)
	}
}

func TestFindByMountPoint(t *testing.T) {
	host := readSample(t, "self-host.mountinfo")
	kernel := readSample(t, "overlay-kernel618.mountinfo")
	tests := []struct {
		name   string
		mounts []Mount
		path   string
		wantID int // 0: not found
	}{
		{"root", host, "/", 27},
		{"stacked: the top one", host, "/dev/pts", 29},
		{"stacked tmpfs", host, "/dev/shm", 30},
		{"trailing slash", host, "/sys/fs/cgroup/", 31},
		{"stacked overlays", kernel, capT + "/m1", 97},
		{"decoded path", kernel, capT + "/sp ace/m", 65},
		{"not a mount point", host, "/tmp", 0},
		{"escaped form does not match", kernel, capT + `/sp\040ace/m`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := FindByMountPoint(tt.mounts, tt.path)
			if tt.wantID == 0 {
				if ok {
					t.Fatalf("found mount %d, want none", m.MountID)
				}
				return
			}
			if !ok || m.MountID != tt.wantID {
				t.Fatalf("got mount %d (ok %v), want %d", m.MountID, ok, tt.wantID)
			}
		})
	}
}
