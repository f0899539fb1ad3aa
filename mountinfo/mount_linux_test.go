//go:build linux

package mountinfo

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
)

// TestRealOverlayMounts mounts overlays the way Docker's overlay2 driver
// does, reads them back from /proc/self/mountinfo and checks what the
// kernel shows. It needs root and skips without it.
func TestRealOverlayMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting overlay needs root: run `go test` as root to exercise real mounts")
	}
	// A space in every path checks the \040 decoding on the way back.
	home := filepath.Join(t.TempDir(), "docker root", "overlay2")
	mkdirs(t, home, "lay1/diff", "lay2/diff", "we:ird,dir/diff", "l")
	for link, target := range map[string]string{"AAA": "../lay1/diff", "BBB": "../lay2/diff"} {
		if err := os.Symlink(target, filepath.Join(home, "l", link)); err != nil {
			t.Fatal(err)
		}
	}
	// Relative options are resolved against the working directory, as in
	// Docker's mountFrom re-exec.
	t.Chdir(home)

	abs := func(p string) string { return filepath.Join(home, p) }
	tests := []struct {
		id, data string
		want     Overlay // Raw not compared; UUID/RedirectDir/Index copied from got
		optional bool    // skip when the kernel rejects the options
	}{
		{id: "abs", data: "lowerdir=" + abs("l/AAA") + ":" + abs("l/BBB") +
			",upperdir=" + abs("abs/diff") + ",workdir=" + abs("abs/work"),
			want: Overlay{LowerDirs: []string{abs("l/AAA"), abs("l/BBB")},
				UpperDir: abs("abs/diff"), WorkDir: abs("abs/work")}},
		{id: "rel", data: "lowerdir=l/AAA:l/BBB,upperdir=rel/diff,workdir=rel/work",
			want: Overlay{LowerDirs: []string{"l/AAA", "l/BBB"}, UpperDir: "rel/diff", WorkDir: "rel/work"}},
		{id: "ux", data: "lowerdir=l/AAA,upperdir=ux/diff,workdir=ux/work,userxattr",
			want: Overlay{LowerDirs: []string{"l/AAA"}, UpperDir: "ux/diff", WorkDir: "ux/work", UserXattr: true}},
		{id: "ix", data: "index=off,lowerdir=l/AAA,upperdir=ix/diff,workdir=ix/work",
			want: Overlay{LowerDirs: []string{"l/AAA"}, UpperDir: "ix/diff", WorkDir: "ix/work"}},
		{id: "esc", data: `lowerdir=we\:ird\,dir/diff:l/BBB,upperdir=esc/diff,workdir=esc/work`,
			want: Overlay{LowerDirs: []string{"we:ird,dir/diff", "l/BBB"}, UpperDir: "esc/diff", WorkDir: "esc/work"}},
		{id: "add", data: "lowerdir+=we:ird,lowerdir+=l/BBB,upperdir=add/diff,workdir=add/work",
			want: Overlay{LowerDirs: []string{"we:ird", "l/BBB"}, UpperDir: "add/diff", WorkDir: "add/work",
				AddForm: true}, optional: true},
	}
	mkdirs(t, home, "we:ird")
	var mounted []int
	for i, tt := range tests {
		mkdirs(t, home, tt.id+"/diff", tt.id+"/work", tt.id+"/merged")
		err := syscall.Mount("overlay", tt.id+"/merged", "overlay", 0, tt.data)
		switch {
		case err == nil:
			target := abs(tt.id + "/merged")
			t.Cleanup(func() { _ = syscall.Unmount(target, syscall.MNT_DETACH) })
			mounted = append(mounted, i)
		case i == 0 && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENODEV)):
			t.Skipf("cannot mount overlay here: %v", err)
		case tt.optional:
			t.Logf("%s: kernel refused %q: %v", tt.id, tt.data, err)
		default:
			t.Fatalf("mount %s: %v", tt.id, err)
		}
	}

	mounts, err := ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range mounted {
		tt := tests[i]
		m, ok := FindByMountPoint(mounts, abs(tt.id+"/merged"))
		if !ok {
			t.Errorf("%s: no mount at %s", tt.id, abs(tt.id+"/merged"))
			continue
		}
		t.Logf("%s: mounted with %q, kernel shows %q", tt.id, tt.data, m.SuperOptionsRaw)
		got, err := m.Overlay()
		if err != nil {
			t.Errorf("%s: %v", tt.id, err)
			continue
		}
		// These depend on the kernel's defaults and build options.
		tt.want.Raw, tt.want.UUID, tt.want.RedirectDir, tt.want.Index =
			got.Raw, got.UUID, got.RedirectDir, got.Index
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: kernel shows %q\n got %+v\nwant %+v", tt.id, m.SuperOptionsRaw, got, tt.want)
		}
		if tt.id == "ix" && got.Index != "" && got.Index != "off" {
			t.Errorf("ix: index=%q", got.Index)
		}
		fm, fo, ok := FindOverlayByUpper(mounts, abs(tt.id+"/diff"), home)
		if !ok || fm.MountID != m.MountID || fo.Relative() {
			t.Errorf("%s: FindOverlayByUpper: mount %d ok %v %+v", tt.id, fm.MountID, ok, fo)
		}
		for _, d := range fo.LowerDirs {
			if _, err := os.Stat(d); err != nil {
				t.Errorf("%s: resolved lower dir: %v", tt.id, err)
			}
		}
	}
}

// mkdirs creates each dir under base.
func mkdirs(t *testing.T, base string, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}
