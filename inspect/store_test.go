package inspect

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect/layerfs"
)

// deniedFS refuses to list one directory or stat below it, as the kernel
// does for a user without the permission.
type deniedFS struct {
	layerfs.Opener
	dir string
}

func (d deniedFS) ReadDir(p string) ([]fs.DirEntry, error) {
	if p == d.dir {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
	}
	return d.Opener.ReadDir(p)
}

func (d deniedFS) Lstat(p string) (fs.FileInfo, error) {
	if strings.HasPrefix(p, d.dir+"/") {
		return nil, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrPermission}
	}
	return d.Opener.Lstat(p)
}

// TestOpenSaysWhatTheRootIs: a root dlayer does not read gets a precise
// answer, never "not a Docker data root" when it is one.
func TestOpenSaysWhatTheRootIs(t *testing.T) {
	mk := func(dirs ...string) string {
		root := t.TempDir()
		for _, d := range dirs {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	for _, tc := range []struct {
		name  string
		root  string
		fs    layerfs.Opener
		is    error
		words string
	}{
		{"devicemapper", mk("image/devicemapper/layerdb", "devicemapper"), nil, ErrUnsupportedDriver, "holds a devicemapper store (image/devicemapper), which dlayer does not read"},
		{"btrfs and zfs", mk("image/btrfs", "image/zfs"), nil, ErrUnsupportedDriver, "holds a btrfs and a zfs store"},
		{"docker 1.9", mk("graph/0123", "repositories-aufs"), nil, ErrUnsupportedDriver, "a Docker < 1.10 store"},
		{"nothing", mk("tmp"), nil, ErrNotDataRoot, "not a Docker data root: no image/overlay2 or image/aufs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenWith(tc.root, Options{Backends: fixtures.Backends(), FS: tc.fs})
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.words) {
				t.Errorf("err = %v, want %v saying %q", err, tc.is, tc.words)
			}
		})
	}
	// a root the user cannot read (mode 0700, owned by root): neither
	// its listing nor anything below it can be stat-ed
	root := mk("image/overlay2")
	_, err := OpenWith(root, Options{Backends: fixtures.Backends(), FS: deniedFS{layerfs.OS{}, root}})
	if !errors.Is(err, fs.ErrPermission) || errors.Is(err, ErrNotDataRoot) || !strings.Contains(err.Error(), "needs root") {
		t.Errorf("unreadable root: %v", err)
	}
}
