package layerfs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenFileRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o644)
	os.Symlink("f", filepath.Join(dir, "link"))
	unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644)
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, _, _ := d.Lstat("f")
	f, err := d.OpenFile("f", st)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "data" {
		t.Errorf("read %q", b)
	}
	for _, name := range []string{"link", "fifo"} {
		st, _, _ := d.Lstat(name)
		if _, err := d.OpenFile(name, st); !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// replaced between stat and open: the new file is refused
	os.Remove(filepath.Join(dir, "f"))
	os.WriteFile(filepath.Join(dir, "f"), []byte("other"), 0o644)
	if _, err := d.OpenFile("f", st); !errors.Is(err, ErrChanged) {
		t.Errorf("replaced file: %v", err)
	}
	// a symlink where a regular file was stat-ed is never followed
	os.Remove(filepath.Join(dir, "f"))
	os.Symlink("/etc/passwd", filepath.Join(dir, "f"))
	if _, err := d.OpenFile("f", st); err == nil {
		t.Error("opened through a symlink")
	}
}

func TestSubAndNames(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.Symlink("sub", filepath.Join(dir, "link"))
	d, _ := OpenDir(dir)
	defer d.Close()
	if s, err := d.Sub("sub"); err != nil {
		t.Error(err)
	} else {
		s.Close()
	}
	for _, bad := range []string{"link", "..", "a/b", ""} {
		if _, err := d.Sub(bad); err == nil {
			t.Errorf("Sub(%q) succeeded", bad)
		}
	}
	if _, err := OpenDir(filepath.Join(dir, "link")); err == nil {
		t.Error("OpenDir followed a symlink")
	}
	names, _ := d.Names()
	if len(names) != 2 {
		t.Errorf("names %v", names)
	}
	if target, err := d.Readlink("link"); err != nil || target != "sub" {
		t.Errorf("readlink %q %v", target, err)
	}
}

func TestReadSmallFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("sha256:abc\n"), 0o644)
	if s, err := ReadSmallFile(p, 100); err != nil || s != "sha256:abc" {
		t.Errorf("%q %v", s, err)
	}
	if _, err := ReadSmallFile(p, 5); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), p) {
		t.Errorf("over the limit: %v", err)
	}
	os.Symlink(p, filepath.Join(dir, "link"))
	if _, err := ReadSmallFile(filepath.Join(dir, "link"), 100); err == nil {
		t.Error("read through a symlink")
	}
	if _, err := ReadSmallFile(dir, 100); err == nil {
		t.Error("read a directory")
	}
	if _, err := ReadSmallFile(filepath.Join(dir, "none"), 100); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}
