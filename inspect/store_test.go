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

// TestBrokenConfigIsNamed: a container whose config.v2.json cannot be
// parsed is not "not found": the error names the file and the cause, and
// the finding says the path once.
func TestBrokenConfigIsNamed(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	web := b.Container("web")
	p := filepath.Join(b.Root, "containers", web.ID, "config.v2.json")
	if err := os.WriteFile(p, []byte("{bad"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(b.Root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.FindContainer(web.ID[:12])
	if !errors.Is(err, ErrUnreadable) || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "invalid character") {
		t.Errorf("FindContainer: %v", err)
	}
	_, finds, _ := s.Containers()
	if len(finds) != 1 || finds[0].Path != p || strings.Contains(finds[0].Message, p) {
		t.Errorf("findings: %+v", finds)
	}
}
