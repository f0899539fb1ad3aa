package verify

import (
	"compress/gzip"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
	"golang.org/x/sys/unix"
)

// watch reports every open or read of the files at paths (inotify).
type watch struct{ fd int }

func newWatch(t *testing.T, paths ...string) *watch {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	for _, p := range paths {
		if _, err := unix.InotifyAddWatch(fd, p, unix.IN_OPEN|unix.IN_ACCESS); err != nil {
			t.Fatal(err)
		}
	}
	return &watch{fd}
}

// events returns how many opens and reads happened since the last call.
func (w *watch) events() int {
	buf := make([]byte, 4096)
	n := 0
	for {
		m, err := unix.Read(w.fd, buf)
		if err != nil || m <= 0 {
			return n
		}
		n += m / unix.SizeofInotifyEvent
	}
}

// dockerDigest reassembles a layer exactly as moby's layer store does
// (storage.NewPathFileGetter on the diff dir, asm.WriteOutputTarStream).
func dockerDigest(t *testing.T, s store, i int) (digest.Digest, int64, error) {
	t.Helper()
	f, err := os.Open(s.layerdb(i, "tar-split.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dg := digest.Canonical.Digester()
	cw := &countWriter{w: dg.Hash()}
	err = asm.WriteOutputTarStream(storage.NewPathFileGetter(s.diff(i, "")), storage.NewJSONUnpacker(gz), cw)
	return dg.Digest(), cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}

// TestSameStreamAsDocker: on a clean store the bytes hashed are Docker's
// stream; when a file changes and its tar-split CRC is forged to match
// (so Docker's reassembly does not stop), the DiffID dlayer computes is
// the one Docker computes.
func TestSameStreamAsDocker(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	var total int64
	for i := range s.Images[0].Layers {
		d, n, err := dockerDigest(t, s, i)
		if err != nil || d != s.layer(i).DiffID {
			t.Fatalf("layer %d: docker's reassembly %s %v", i, d, err)
		}
		total += n
	}
	if r := s.run(t, Options{}); r.Stats.BytesHashed != total {
		t.Errorf("hashed %d bytes, Docker's streams have %d", r.Stats.BytesHashed, total)
	}

	p := s.diff(0, "etc/conf")
	keepTimes(t, p, func() { mustDo(t, os.WriteFile(p, []byte("a=9\n"), 0o644)) })
	ts := s.layerdb(0, "tar-split.json.gz")
	es := readTarSplit(t, ts)
	for i, e := range es {
		if e.Type == storage.FileType && e.Name == "etc/conf" {
			h := crc64.New(crcTable)
			h.Write([]byte("a=9\n"))
			es[i].Payload = h.Sum(nil)
		}
	}
	writeTarSplit(t, ts, es)
	want, _, err := dockerDigest(t, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := s.run(t, Options{})
	if len(r.Findings) != 1 || r.Findings[0].Kind != KindDiffIDMismatch || r.Findings[0].Actual != want.String() {
		t.Fatalf("want one diff_id_mismatch with Docker's digest %s, got %+v", want, r.Findings)
	}
}

// TestUnsafeNameNeverRead: a tar-split entry named ../../etc/passwd is a
// finding, and the file it names is never opened — while Docker's own
// reassembly opens it.
func TestUnsafeNameNeverRead(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	canary := filepath.Join(s.Root, "overlay2", "etc", "passwd") // diff/../../etc/passwd
	mustDo(t, os.MkdirAll(filepath.Dir(canary), 0o755))
	mustDo(t, os.WriteFile(canary, []byte("a=1\n"), 0o644))
	ts := s.layerdb(0, "tar-split.json.gz")
	es := readTarSplit(t, ts)
	for i, e := range es {
		if e.Type == storage.FileType && e.Name == "etc/conf" {
			es[i].Name = "../../etc/passwd"
		}
	}
	writeTarSplit(t, ts, es)
	w := newWatch(t, canary)
	r := s.run(t, Options{})
	if n := w.events(); n != 0 {
		t.Fatalf("dlayer opened or read %s (%d events)", canary, n)
	}
	checkFinding(t, r, tamper{kind: KindTarSplitUnsafeName, object: layerObj(0), path: inLayer("../../etc/passwd")}, s)
	if _, _, err := dockerDigest(t, s, 0); err != nil {
		t.Logf("docker's reassembly: %v", err)
	}
	if w.events() == 0 {
		t.Error("Docker's reassembly did not open the canary: the test does not test what it says")
	}
}

// TestSymlinkedDirNeverFollowed: a layer dir replaced by a symlink to a
// dir outside is a type finding; nothing below it is read.
func TestSymlinkedDirNeverFollowed(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	out := t.TempDir()
	mustDo(t, os.WriteFile(filepath.Join(out, "conf"), []byte("a=1\n"), 0o644))
	mustDo(t, os.RemoveAll(s.diff(0, "etc")))
	mustDo(t, os.Symlink(out, s.diff(0, "etc")))
	w := newWatch(t, filepath.Join(out, "conf"))
	r := s.run(t, Options{})
	if n := w.events(); n != 0 {
		t.Fatalf("read through a symlinked dir (%d events)", n)
	}
	checkFinding(t, r, tamper{kind: KindTypeMismatch, object: layerObj(0), path: inLayer("/etc")}, s)
	checkFinding(t, r, tamper{kind: KindEntryMissing, object: layerObj(0), path: inLayer("/etc/conf")}, s)
}

// TestFIFONeverOpened: a FIFO where a file was is classified by lstat;
// opening it would block.
func TestFIFONeverOpened(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	mustDo(t, os.Remove(s.diff(0, "etc/conf")))
	mustDo(t, unix.Mkfifo(s.diff(0, "etc/conf"), 0o644))
	done := make(chan *Report, 1)
	go func() { done <- s.run(t, Options{}) }()
	select {
	case r := <-done:
		checkFinding(t, r, tamper{kind: KindTypeMismatch, object: layerObj(0), path: inLayer("/etc/conf")}, s)
	case <-time.After(30 * time.Second):
		t.Fatal("verify blocked on a FIFO")
	}
}

// TestNameMismatch: a file entry naming another file than its header is a
// finding of its own (Docker would hash the other file's bytes).
func TestNameMismatch(t *testing.T) {
	s := build(t, richStore(), fixtures.FormAuto)
	ts := s.layerdb(0, "tar-split.json.gz")
	es := readTarSplit(t, ts)
	for i, e := range es {
		if e.Type == storage.FileType && e.Name == "etc/conf" {
			es[i].Name = "etc/gone"
		}
	}
	writeTarSplit(t, ts, es)
	r := s.run(t, Options{})
	checkFinding(t, r, tamper{kind: KindTarSplitNameMismatch, object: layerObj(0), path: inLayer("/etc/conf")}, s)
}
