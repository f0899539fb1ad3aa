package overlay

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

// layerTars are the tars the test store's image layers were applied
// from, made from their trees as they are on disk: L1 all of its tree;
// L2 its changes (dir d and its new y, the replaced keep, new, and a
// whiteout of gone); L3 its re-pointed symlink.
func layerTars(t *testing.T, s *testStore) [][]byte {
	t.Helper()
	return [][]byte{
		tarOf(t, filepath.Join(s.home, idL1, "root"), []string{"a", "d", "d/x", "dev0", "gone", "keep", "s"}),
		tarOf(t, filepath.Join(s.home, idL2, "root"), []string{"d", "d/y", "keep", "new", ".wh.gone"}),
		tarOf(t, filepath.Join(s.home, idL3, "root"), []string{"s"}),
	}
}

// tarOf writes the entries names of the tree root as a layer tar (PAX,
// so that mtimes keep their nanoseconds); a .wh. name is a whiteout.
func tarOf(t *testing.T, root string, names []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		if strings.HasPrefix(filepath.Base(n), ".wh.") {
			must(t, tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Format: tar.FormatPAX}))
			continue
		}
		p := filepath.Join(root, n)
		fi, err := os.Lstat(p)
		must(t, err)
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			link, err = os.Readlink(p)
			must(t, err)
		}
		h, err := tar.FileInfoHeader(fi, link)
		must(t, err)
		h.Name, h.Format, h.Uname, h.Gname = n, tar.FormatPAX, "", ""
		h.AccessTime, h.ChangeTime = fi.ModTime(), fi.ModTime()
		if fi.IsDir() {
			h.Name += "/"
		}
		must(t, tw.WriteHeader(h))
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			must(t, err)
			_, err = tw.Write(b)
			must(t, err)
		}
	}
	must(t, tw.Close())
	return buf.Bytes()
}

// writeTarSplit records a tar as layerdb's tar-split.json.gz and returns
// its digest, the layer's DiffID.
func writeTarSplit(t *testing.T, file string, b []byte) digest.Digest {
	t.Helper()
	var gzBuf bytes.Buffer
	gz := gzip.NewWriter(&gzBuf)
	rdr, done, err := asm.NewInputTarStreamWithDone(bytes.NewReader(b), storage.NewJSONPacker(gz), nil)
	must(t, err)
	dg := digest.Canonical.Digester()
	_, err = io.Copy(dg.Hash(), rdr)
	must(t, errors.Join(err, rdr.Close(), <-done, gz.Close()))
	write(t, file, gzBuf.String())
	return dg.Digest()
}

// verifiedStore is completeStore with the layer records of the layers'
// real tars (their DiffIDs and tar-split), as docker would leave them.
func verifiedStore(t *testing.T) (*testStore, *inspect.Store) {
	t.Helper()
	s := newStore(t)
	tars := layerTars(t, s)
	db := filepath.Join(s.root, "image", "overlay", "layerdb", "sha256")
	must(t, os.RemoveAll(db))
	var parent digest.Digest
	s.chains = nil
	for i, id := range []string{idL1, idL2, idL3} {
		tmp := filepath.Join(s.root, "ts.gz")
		diff := writeTarSplit(t, tmp, tars[i])
		chain := chainID(parent, diff)
		dir := filepath.Join(db, chain.Encoded())
		write(t, filepath.Join(dir, "diff"), string(diff))
		write(t, filepath.Join(dir, "cache-id"), id)
		if parent != "" {
			write(t, filepath.Join(dir, "parent"), string(parent))
		}
		must(t, os.Rename(tmp, filepath.Join(dir, "tar-split.json.gz")))
		s.chains, parent = append(s.chains, chain), chain
	}
	return s, completeStore(t, s)
}

func runVerify(t *testing.T, root string) []verify.Finding {
	t.Helper()
	st, err := inspect.OpenWith(root, inspect.Options{Backends: backend.NewRegistry(New())})
	must(t, err)
	r, err := verify.Run(context.Background(), st, verify.Options{})
	must(t, err)
	return r.Findings
}

// TestVerifyWholeTrees: verify is clean on a store as the driver leaves
// it, whose image layers' root/ dirs also hold every lower layer's files
// and whose deletions are absences; then each tamper of a root/ is found
// in the layer and at the path it concerns: a changed byte of a file
// every layer shares (the layer that made it), an added file in a dir
// the layer only copied, an entry of the layer below removed, a deleted
// entry back again.
func TestVerifyWholeTrees(t *testing.T) {
	s, _ := verifiedStore(t)
	for _, f := range runVerify(t, s.root) {
		t.Errorf("clean store: %s %s %s: %s", f.Kind, f.Object, f.Path, f.Message)
	}
	r3 := filepath.Join(s.home, idL3, "root")
	f, err := os.OpenFile(filepath.Join(r3, "a"), os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt([]byte("A"), 0)
	must(t, errors.Join(err, f.Close()))
	fi, err := os.Lstat(filepath.Join(s.home, idL1, "root", "d"))
	must(t, err)
	write(t, filepath.Join(r3, "d", "z"), "z")
	must(t, os.Chtimes(filepath.Join(r3, "d"), fi.ModTime(), fi.ModTime()))
	must(t, os.Remove(filepath.Join(r3, "new")))
	write(t, filepath.Join(s.home, idL2, "root", "gone"), "g")
	var got []string
	for _, f := range runVerify(t, s.root) {
		if f.Kind == verify.KindMtimeMismatch {
			continue // of the dirs the tampers touched
		}
		got = append(got, f.Kind.String()+" "+layerName(s, f.Object)+" "+f.Path)
	}
	sort.Strings(got)
	want := []string{
		"content_mismatch L1 /a", "diff_id_mismatch L1 " + filepath.Join(s.home, idL1, "root"),
		"extra_file L3 /d/z",
		"whiteout_extra L3 /gone", // L2's tree has it again, L3's does not
		"whiteout_extra L3 /new",
		"whiteout_missing L2 /gone",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tampered store:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// layerName names a layer finding's object by the test's layer names.
func layerName(s *testStore, obj string) string {
	for i, c := range s.chains {
		if string(c) == obj {
			return "L" + string(rune('1'+i))
		}
	}
	return obj
}
