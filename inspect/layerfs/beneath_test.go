package layerfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestBeneath(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "containers", "a"), 0o755))
	must(os.WriteFile(filepath.Join(root, "containers", "a", "config.v2.json"), []byte("{}\n"), 0o644))
	must(os.WriteFile(filepath.Join(outside, "config.v2.json"), []byte("planted"), 0o644))
	must(os.Symlink(outside, filepath.Join(root, "containers", "b")))
	must(os.Symlink("a/config.v2.json", filepath.Join(root, "containers", "link")))
	must(syscall.Mkfifo(filepath.Join(root, "containers", "fifo"), 0o644))
	must(os.WriteFile(filepath.Join(root, "big"), make([]byte, 100), 0o644))
	// root given through a symlink: resolved once, up front
	viaLink := filepath.Join(t.TempDir(), "root")
	must(os.Symlink(root, viaLink))
	b, err := OpenBeneath(viaLink)
	must(err)
	defer b.Close()
	at := func(p ...string) string { return filepath.Join(append([]string{viaLink}, p...)...) }

	if got, err := b.ReadFile(at("containers", "a", "config.v2.json"), 1<<10); err != nil || string(got) != "{}\n" {
		t.Errorf("ReadFile: %q %v", got, err)
	}
	_, err = b.ReadFile(at("containers", "b", "config.v2.json"), 1<<10)
	if !errors.Is(err, ErrSymlinkInPath) || !strings.Contains(err.Error(), outside) {
		t.Errorf("symlinked dir: %v", err)
	}
	if _, err := b.ReadDir(at("containers", "b")); !errors.Is(err, ErrSymlinkInPath) {
		t.Errorf("ReadDir of a symlinked dir: %v", err)
	}
	if _, err := b.Lstat(at("containers", "b", "config.v2.json")); !errors.Is(err, ErrSymlinkInPath) {
		t.Errorf("Lstat through a symlinked dir: %v", err)
	}
	if fi, err := b.Lstat(at("containers", "b")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat of the link itself: %v %v", fi, err)
	}
	if _, err := b.ReadFile(at("containers", "link"), 1<<10); !errors.Is(err, ErrNotRegular) {
		t.Errorf("final symlink: %v", err)
	}
	if _, err := b.ReadFile(at("containers", "fifo"), 1<<10); !errors.Is(err, ErrNotRegular) {
		t.Errorf("fifo: %v (it must be refused without being opened, or this test hangs)", err)
	}
	if _, err := b.ReadFile(at("big"), 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("size cap before reading: %v", err)
	}
	if _, err := b.ReadFile(filepath.Join(outside, "config.v2.json"), 1<<10); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("outside path: %v", err)
	}
	if _, err := b.ReadFile(at("containers", "..", "..", "etc", "passwd"), 1<<10); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("dot-dot: %v", err)
	}
	ents, err := b.ReadDir(at("containers"))
	if err != nil || len(ents) != 4 || ents[0].Name() != "a" {
		t.Errorf("ReadDir: %v %v", ents, err)
	}
	if _, err := b.Lstat(at("nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}
