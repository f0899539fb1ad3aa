package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/dlayer/dlayer/fixtures/clitest"
	"golang.org/x/sys/unix"
)

// treeSum hashes everything about a tree that a write could change: each
// entry's name, type, mode, owner, size, mtime, ctime, device, xattrs,
// link target and content.
func treeSum(t *testing.T, root string) string {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %o %d:%d %d %d.%d %d.%d %d\n", p, st.Mode, st.Uid, st.Gid, st.Size,
			st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec, st.Rdev)
		buf := make([]byte, 4096)
		if n, err := unix.Llistxattr(p, buf); err == nil {
			fmt.Fprintf(h, "x %q\n", buf[:n])
		}
		switch {
		case st.Mode&unix.S_IFMT == unix.S_IFLNK:
			target, _ := os.Readlink(p)
			fmt.Fprintf(h, "-> %s\n", target)
		case st.Mode&unix.S_IFMT == unix.S_IFREG:
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(h, f)
			f.Close()
			return err
		}
		return nil
	})
	must(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// inotify counts opens and reads of one file.
type inotify struct{ fd int }

func watchOpens(t *testing.T, p string) *inotify {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	must(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	_, err = unix.InotifyAddWatch(fd, p, unix.IN_OPEN|unix.IN_ACCESS)
	must(t, err)
	return &inotify{fd}
}

func (w *inotify) count() int {
	buf := make([]byte, 4096)
	n, _ := unix.Read(w.fd, buf)
	return max(n, 0) / unix.SizeofInotifyEvent
}

// checkProm writes metrics of a clean and of a tampered store and parses
// them as node_exporter's textfile collector does.
func checkProm(t *testing.T, root string) {
	file := filepath.Join(t.TempDir(), "dlayer.prom")
	if _, errOut, code := runCLI("--root", root, "verify", "--quiet", "--prom", file); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	fams := clitest.ParseProm(t, file)
	if v := clitest.GaugeValue(fams, "dlayer_verify_layers_hashed", nil); v < 5 {
		t.Errorf("layers_hashed %v", v)
	}
	if v := clitest.GaugeValue(fams, "dlayer_verify_findings", map[string]string{"kind": "content_mismatch"}); v != 0 {
		t.Errorf("findings{content_mismatch} = %v on a clean store", v)
	}
}
