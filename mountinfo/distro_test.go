package mountinfo

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Overlay mounts of the distribution samples (see testdata/README.md):
// what each kernel prints for Docker's overlay2 and how it decodes.
func TestDistroOverlaySamples(t *testing.T) {
	const (
		capRoot = "/tmp/mi-cap.k3v9/docker data\tx\\y/overlay2"
		rl      = "/home/alice/.local/share/docker/overlay2"
	)
	tests := []struct {
		file   string
		line   int
		check  func(t *testing.T, m Mount, o Overlay)
		mounts int
	}{
		{"centos7-overlay2.mountinfo", 6, func(t *testing.T, m Mount, o Overlay) {
			// RHEL 7's 3.10 kernel: SELinux "seclabel" among the super
			// options, nothing after workdir=.
			if len(o.LowerDirs) != 6 || o.Relative() || !reflect.DeepEqual(o.Other, []Option{{"seclabel", "", false}}) {
				t.Errorf("got %+v", o)
			}
			if m.Shared != 124 || m.Propagation() != "shared" {
				t.Errorf("propagation %v", m.OptionalFields)
			}
		}, 9},
		{"debian12-overlay2.mountinfo", 5, func(t *testing.T, m Mount, o Overlay) {
			// 78 layers: Docker mounted from the driver home with
			// relative l/ names, so the options fit in a page.
			if len(o.LowerDirs) != 78 || !o.Relative() || !strings.HasPrefix(o.LowerDirs[0], "l/") {
				t.Errorf("got %d lowers, relative %v", len(o.LowerDirs), o.Relative())
			}
			if len(m.SuperOptionsRaw) > 4096 {
				t.Errorf("relative form is %d bytes: Docker keeps it under a page", len(m.SuperOptionsRaw))
			}
			r := o.Resolve(dHome)
			if r.Relative() || r.UpperDir != filepath.Join(dHome, strings.Split(o.UpperDir, "/")[0], "diff") {
				t.Errorf("resolved: %+v", r)
			}
		}, 7},
		{"debian12-overlay2.mountinfo", 6, func(t *testing.T, m Mount, o Overlay) {
			if len(o.LowerDirs) != 3 || o.Relative() || !strings.HasPrefix(o.LowerDirs[0], dHome+"/l/") {
				t.Errorf("got %+v", o)
			}
		}, 7},
		{"rootless-userxattr.mountinfo", 3, func(t *testing.T, m Mount, o Overlay) {
			if !o.UserXattr || o.RedirectDir != "nofollow" || !strings.HasPrefix(o.UpperDir, rl+"/") || len(o.LowerDirs) != 4 {
				t.Errorf("got %+v", o)
			}
			if m.Propagation() != "private" {
				t.Errorf("propagation %q", m.Propagation())
			}
		}, 4},
		{"rootless-userxattr.mountinfo", 1, func(t *testing.T, m Mount, o Overlay) {
			// rootlesskit's own root: lowerdir=/ with master:1.
			if !reflect.DeepEqual(o.LowerDirs, []string{"/"}) || m.Master != 1 || m.Propagation() != "private,slave" {
				t.Errorf("got %+v %v", o, m.OptionalFields)
			}
		}, 4},
		{"index-off.mountinfo", 2, func(t *testing.T, m Mount, o Overlay) {
			if o.Index != "off" || len(o.LowerDirs) != 2 {
				t.Errorf("got %+v", o)
			}
		}, 2},
		{"overlay-newapi-kernel618.mountinfo", 1, func(t *testing.T, m Mount, o Overlay) {
			// Captured: 60 lowerdir+= options, 5.8 KB of options (more
			// than mount(2) could pass), paths with \040 \011 \134.
			if len(m.SuperOptionsRaw) <= 4096 || !o.AddForm || len(o.LowerDirs) != 60 {
				t.Fatalf("%d bytes, add form %v, %d lowers", len(m.SuperOptionsRaw), o.AddForm, len(o.LowerDirs))
			}
			if o.LowerDirs[59] != capRoot+"/l/AAAAAAAAAAAAAAAAAAAA000059" {
				t.Errorf("last lower %q", o.LowerDirs[59])
			}
			// upperdir= was given with the backslash quoted for overlay
			// ("\\\\"), which the kernel shows as \134\134.
			if o.UpperDir != capRoot+"/"+strings.Repeat("f", 64)+"/diff" || m.Source != "none" {
				t.Errorf("upper %q source %q", o.UpperDir, m.Source)
			}
			if m.MountPoint != capRoot+"/"+strings.Repeat("f", 64)+"/merged" {
				t.Errorf("mount point %q", m.MountPoint)
			}
		}, 2},
		{"overlay-newapi-kernel618.mountinfo", 2, func(t *testing.T, m Mount, o Overlay) {
			if !o.Relative() || !o.UserXattr || o.RedirectDir != "nofollow" || len(o.LowerDirs) != 5 {
				t.Errorf("got %+v", o)
			}
		}, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s:%d", tt.file, tt.line), func(t *testing.T) {
			mounts := readSample(t, tt.file)
			if len(mounts) != tt.mounts {
				t.Fatalf("%d mounts, want %d", len(mounts), tt.mounts)
			}
			m := mounts[tt.line-1]
			o, err := m.Overlay()
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m, o)
		})
	}
}

// The aufs samples: every aufs mount parses; the si-only ones name no
// branches until sysfs is read.
func TestDistroAufsSamples(t *testing.T) {
	for file, want := range map[string][]int{ // branches per aufs mount; 0: si only
		"ubuntu1804-aufs.mountinfo":      {0, 0},
		"ubuntu1804-aufs-brs0.mountinfo": {5, 3},
		"aufs-handmade.mountinfo":        {0},
	} {
		var got []int
		for _, m := range readSample(t, file) {
			a, err := m.Aufs()
			if err == ErrNotAufs {
				continue
			}
			if err != nil {
				t.Fatalf("%s:%d: %v", file, m.Line, err)
			}
			got = append(got, len(a.Branches))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: branches %v, want %v", file, got, want)
		}
	}
}
