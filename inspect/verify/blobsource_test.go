package verify

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

// gzipBlobs is a BlobVerifier whose Uncompress reads gzip (the rest is
// not used by a blobSource).
type gzipBlobs struct{ backend.BlobVerifier }

func (gzipBlobs) Uncompress(_ string, r io.Reader) (io.ReadCloser, error) { return gzip.NewReader(r) }

// hostileTar is a tar with what a layer may hold and what it must not:
// a dir, a file, a symlink, a hardlink, a whiteout, an opaque marker, a
// PAX xattr, a name leaving the layer and, with dup, a duplicate name
// (which tar-split's own packer refuses).
func hostileTar(t *testing.T, dup bool) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct {
		h    tar.Header
		body string
	}{
		{tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}, ""},
		{tar.Header{Name: "etc/f", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 5, PAXRecords: map[string]string{"SCHILY.xattr.user.k": "v"}}, "hello"},
		{tar.Header{Name: "etc/l", Typeflag: tar.TypeSymlink, Linkname: "f"}, ""},
		{tar.Header{Name: "etc/h", Typeflag: tar.TypeLink, Linkname: "etc/f"}, ""},
		{tar.Header{Name: "etc/.wh.gone", Typeflag: tar.TypeReg}, ""},
		{tar.Header{Name: "etc/.wh..wh..opq", Typeflag: tar.TypeReg}, ""},
		{tar.Header{Name: "../escape", Typeflag: tar.TypeReg, Size: 3}, "bad"},
		{tar.Header{Name: "etc/f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 6}, "again\n"},
	} {
		if e.h.Name == "etc/f" && e.h.Mode == 0o644 && !dup {
			continue
		}
		if err := tw.WriteHeader(&e.h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// drain reads every entry of src.
func drain(t *testing.T, src interface{ Next(*storage.Entry) error }) ([]storage.Entry, error) {
	var out []storage.Entry
	for {
		var e storage.Entry
		err := src.Next(&e)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
}

// TestBlobSourceMatchesTarSplit: a layer blob's entries are those that
// tar-split.json.gz of the same tar holds (the segments byte for byte,
// each file's name, size and CRC-64), so the layer checks read both the
// same way; the tar's sha256 and the blob's digest come out of the read.
func TestBlobSourceMatchesTarSplit(t *testing.T) {
	raw := hostileTar(t, false)
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(raw)
	z.Close()
	p := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(p, gz.Bytes(), 0o444); err != nil {
		t.Fatal(err)
	}
	lb := &backend.LayerBlob{ContentBlob: backend.ContentBlob{Digest: digest.FromBytes(gz.Bytes()), Path: p}}
	src, err := openBlobSource(layerfs.OS{}, gzipBlobs{}, lb, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(t, src)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	r, done, err := asm.NewInputTarStreamWithDone(bytes.NewReader(raw), storage.NewJSONPacker(&js), storage.NewDiscardFilePutter())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want, err := drain(t, newTSDecoder(&js))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, tar-split has %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Type != w.Type || g.GetName() != w.GetName() || g.Size != w.Size || !bytes.Equal(g.Payload, w.Payload) {
			t.Errorf("entry %d: %+v, tar-split has %+v", i, g, w)
		}
	}
	if src.tarSum != digest.FromBytes(raw) || src.tarLen != int64(len(raw)) {
		t.Errorf("tar digest %s (%d bytes), want %s (%d)", src.tarSum, src.tarLen, digest.FromBytes(raw), len(raw))
	}
	if !src.blobWhole || src.blobSum != lb.Digest || src.blobBytes != int64(gz.Len()) {
		t.Errorf("blob digest %s (%d bytes, whole %v), want %s (%d)", src.blobSum, src.blobBytes, src.blobWhole, lb.Digest, gz.Len())
	}
}

// TestBlobSourceDamaged: a truncated blob ends in an error naming what
// failed, and the blob is not said to be read whole; closing a source
// early (a cancelled run) stops its decompression.
func TestBlobSourceDamaged(t *testing.T) {
	raw := hostileTar(t, true)
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(raw)
	z.Close()
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut")
	if err := os.WriteFile(cut, gz.Bytes()[:gz.Len()-12], 0o444); err != nil {
		t.Fatal(err)
	}
	src, err := openBlobSource(layerfs.OS{}, gzipBlobs{}, &backend.LayerBlob{ContentBlob: backend.ContentBlob{Digest: digest.FromBytes(gz.Bytes()), Path: cut}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = drain(t, src)
	src.Close()
	if err == nil || !strings.Contains(err.Error(), "EOF") || src.blobWhole {
		t.Errorf("truncated blob: %v, whole %v: want an unexpected EOF", err, src.blobWhole)
	}
	whole := filepath.Join(dir, "whole")
	if err := os.WriteFile(whole, gz.Bytes(), 0o444); err != nil {
		t.Fatal(err)
	}
	src, err = openBlobSource(layerfs.OS{}, gzipBlobs{}, &backend.LayerBlob{ContentBlob: backend.ContentBlob{Digest: digest.FromBytes(gz.Bytes()), Path: whole}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var e storage.Entry
	if err := src.Next(&e); err != nil {
		t.Fatal(err)
	}
	src.Close() // returns only once the decompression stopped
	// whole, the duplicate passes through: the layer check names it
	src, err = openBlobSource(layerfs.OS{}, gzipBlobs{}, &backend.LayerBlob{ContentBlob: backend.ContentBlob{Digest: digest.FromBytes(gz.Bytes()), Path: whole}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := drain(t, src)
	src.Close()
	if files := fileNames(ents); err != nil || strings.Count(strings.Join(files, " "), "etc/f ") != 1 || files[len(files)-1] != "etc/f" {
		t.Errorf("whole blob: %q, %v: want etc/f twice", files, err)
	}
	if _, err := openBlobSource(layerfs.OS{}, gzipBlobs{}, &backend.LayerBlob{ContentBlob: backend.ContentBlob{Path: filepath.Join(dir, "none")}}, nil); err == nil {
		t.Error("a missing blob opened")
	}
}

// fileNames are the names of the file entries.
func fileNames(ents []storage.Entry) []string {
	var out []string
	for _, e := range ents {
		if e.Type == storage.FileType {
			out = append(out, e.GetName())
		}
	}
	return out
}
