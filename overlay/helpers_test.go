package overlay

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// The hand-made store of the tests: three image layers as moby's
// ApplyDiff leaves them (each root/ a hardlinked copy of its parent's,
// with the layer's changes), a container's rw and init layers over the
// top one, as moby's Create leaves them.
//
//	L1 (base)  /a  /d/x  /s -> a  /gone  /keep  /dev0 (fifo)
//	L2         hardlinks a, d/x; re-creates s and dev0 as the copy does;
//	           deletes /gone; replaces /keep; adds /new, /d/y
//	L3         hardlinks everything of L2; re-points /s -> new
const (
	idL1 = "1111111111111111111111111111111111111111111111111111111111111111"
	idL2 = "2222222222222222222222222222222222222222222222222222222222222222"
	idL3 = "3333333333333333333333333333333333333333333333333333333333333333"
	idM  = "4444444444444444444444444444444444444444444444444444444444444444"
)

type testStore struct {
	root   string
	home   string
	chains []digest.Digest // L1, L2, L3
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(s), 0o644))
}

// chainID is ChainID(parent, diff) (DESIGN.md "layerdb").
func chainID(parent, diff digest.Digest) digest.Digest {
	if parent == "" {
		return diff
	}
	return digest.NewDigestFromEncoded(digest.SHA256, fmt.Sprintf("%x", sha256.Sum256([]byte(string(parent)+" "+string(diff)))))
}

// layerRecord writes layerdb/sha256/<chain>/ for cache id.
func layerRecord(t *testing.T, root string, parent digest.Digest, n int, cache string) digest.Digest {
	t.Helper()
	diff := digest.NewDigestFromEncoded(digest.SHA256, strings.Repeat(fmt.Sprintf("%x", n), 64))
	chain := chainID(parent, diff)
	dir := filepath.Join(root, "image", "overlay", "layerdb", "sha256", chain.Encoded())
	write(t, filepath.Join(dir, "diff"), string(diff))
	write(t, filepath.Join(dir, "cache-id"), cache)
	write(t, filepath.Join(dir, "size"), "0")
	if parent != "" {
		write(t, filepath.Join(dir, "parent"), string(parent))
	}
	return chain
}

// copyRoot copies src to dst as moby's DirCopy in Hardlink mode does:
// regular files hardlinked, dirs made anew, symlinks and FIFOs
// re-created with the same metadata (mtime included).
func copyRoot(t *testing.T, src, dst string) {
	t.Helper()
	must(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		switch {
		case fi.Mode().IsRegular():
			return os.Link(p, to)
		case fi.IsDir():
			return os.MkdirAll(to, fi.Mode().Perm())
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, to); err != nil {
				return err
			}
		case fi.Mode()&fs.ModeNamedPipe != 0:
			if err := unix.Mkfifo(to, st.Mode&0o7777); err != nil {
				return err
			}
			if err := os.Chmod(to, fi.Mode().Perm()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("copyRoot: %s: unexpected type %v", p, fi.Mode())
		}
		ts := []unix.Timespec{st.Atim, st.Mtim}
		return unix.UtimesNanoAt(unix.AT_FDCWD, to, ts, unix.AT_SYMLINK_NOFOLLOW)
	}))
}

// newStore builds the test store in a fresh temp dir.
func newStore(t *testing.T) *testStore {
	t.Helper()
	s := &testStore{root: t.TempDir()}
	s.home = filepath.Join(s.root, "overlay")
	r1 := filepath.Join(s.home, idL1, "root")
	write(t, filepath.Join(r1, "a"), "a")
	write(t, filepath.Join(r1, "d", "x"), "x")
	write(t, filepath.Join(r1, "gone"), "g")
	write(t, filepath.Join(r1, "keep"), "k")
	must(t, os.Symlink("a", filepath.Join(r1, "s")))
	must(t, unix.Mkfifo(filepath.Join(r1, "dev0"), 0o600))

	r2 := filepath.Join(s.home, idL2, "root")
	copyRoot(t, r1, r2)
	must(t, os.Remove(filepath.Join(r2, "gone")))
	must(t, os.Remove(filepath.Join(r2, "keep")))
	write(t, filepath.Join(r2, "keep"), "k2")
	write(t, filepath.Join(r2, "new"), "n")
	write(t, filepath.Join(r2, "d", "y"), "y")

	r3 := filepath.Join(s.home, idL3, "root")
	copyRoot(t, r2, r3)
	must(t, os.Remove(filepath.Join(r3, "s")))
	must(t, os.Symlink("new", filepath.Join(r3, "s")))

	c1 := layerRecord(t, s.root, "", 1, idL1)
	c2 := layerRecord(t, s.root, c1, 2, idL2)
	c3 := layerRecord(t, s.root, c2, 3, idL3)
	s.chains = []digest.Digest{c1, c2, c3}

	for _, id := range []string{idM + InitSuffix, idM} {
		d := filepath.Join(s.home, id)
		must(t, os.MkdirAll(filepath.Join(d, "upper", "etc"), 0o755))
		must(t, os.MkdirAll(filepath.Join(d, "work", "work"), 0o700))
		write(t, filepath.Join(d, "upper", ".dockerenv"), "")
		write(t, filepath.Join(d, "lower-id"), idL3)
	}
	return s
}

// countingFS is an Opener that counts the files read through it.
type countingFS struct {
	layerfs.Opener
	mu    sync.Mutex
	reads map[string]int
}

func (c *countingFS) ReadFile(path string, max int64) ([]byte, error) {
	c.mu.Lock()
	c.reads[path]++
	c.mu.Unlock()
	return c.Opener.ReadFile(path, max)
}

func (s *testStore) open(o layerfs.Opener) backend.Driver {
	return New().Open(s.root, o)
}

func entryNames(es []layerfs.Entry) []string {
	var out []string
	for _, e := range es {
		n := e.Name
		if e.Kind == layerfs.Whiteout {
			n = "-" + n
		}
		out = append(out, n)
	}
	return out
}
