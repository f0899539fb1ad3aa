package verify

import (
	"archive/tar"
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// sameHeader compares the fields verify uses.
func sameHeader(a, b *tar.Header) bool {
	return a.Name == b.Name && a.Linkname == b.Linkname && a.Size == b.Size && a.Mode == b.Mode && a.Uid == b.Uid &&
		a.Gid == b.Gid && a.ModTime.Equal(b.ModTime) && a.Typeflag == b.Typeflag && a.Uname == b.Uname &&
		a.Gname == b.Gname && a.Devmajor == b.Devmajor && a.Devminor == b.Devminor && len(b.PAXRecords) == 0
}

// checkFast fails when fastUSTAR accepts a block that archive/tar reads
// differently (or refuses).
func checkFast(t *testing.T, blk []byte) bool {
	h, ok := fastUSTAR(blk)
	if !ok {
		return false
	}
	want, err := tar.NewReader(bytes.NewReader(blk)).Next()
	if err != nil && err != tar.ErrInsecurePath {
		t.Fatalf("fast path accepted a header archive/tar refuses (%v): %q", err, blk)
	}
	if !sameHeader(h, want) {
		t.Fatalf("fast %+v\narchive/tar %+v", h, want)
	}
	return true
}

func ustarSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, h := range []*tar.Header{
		{Name: "bin/sh", Mode: 0o100755, Size: 5, Uname: "root", Gname: "root", ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg},
		{Name: "data/", Mode: 0o40755, Typeflag: tar.TypeDir, Uid: 1000, Gid: 1000, ModTime: time.Unix(1, 0)},
		{Name: "data/a.hard", Linkname: "data/a", Typeflag: tar.TypeLink, Mode: 0o100644},
		{Name: "data/a.sym", Linkname: "a", Typeflag: tar.TypeSymlink, Mode: 0o120777},
		{Name: "dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o20666},
		{Name: "data/fifo", Typeflag: tar.TypeFifo, Mode: 0o10644},
		{Name: strings.Repeat("d/", 60) + "file", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 1 << 20},
		{Name: "x", Typeflag: tar.TypeReg, PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "\x01\x02"}},
		{Name: strings.Repeat("long", 80), Typeflag: tar.TypeReg},
		{Name: "gnu", Typeflag: tar.TypeReg, Format: tar.FormatGNU, Size: 1 << 40},
		{Name: "nano", Typeflag: tar.TypeReg, ModTime: time.Unix(5, 7), Format: tar.FormatPAX},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

func TestFastUSTARMatchesArchiveTar(t *testing.T) {
	fast := 0
	for _, blk := range ustarSeeds(t) {
		if checkFast(t, blk) {
			fast++
		}
	}
	if fast < 7 {
		t.Errorf("only %d plain headers took the fast path", fast)
	}
	if _, ok := fastUSTAR(make([]byte, 512)); ok {
		t.Error("a zero block took the fast path")
	}
}

func FuzzFastUSTAR(f *testing.F) {
	for _, s := range ustarSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, blk []byte) {
		checkFast(t, blk)
		if len(blk) >= 512 { // the same block with a valid checksum, to reach the parser
			b := bytes.Clone(blk[:512])
			copy(b[148:156], "        ")
			var sum int64
			for _, c := range b {
				sum += int64(c)
			}
			copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
			checkFast(t, b)
		}
	})
}
