package verify

import (
	"archive/tar"
	"bytes"
	"math"
	"time"
)

// fastUSTAR parses the one plain USTAR header block that starts b — what
// Docker's tar writer emits for every entry that needs no PAX record — the
// way archive/tar's Reader.Next does, field for field (Go's
// archive/tar/reader.go readHeader and format.go getFormat). ok is false
// for anything else (PAX and GNU extension headers, sparse files, GNU or
// STAR magic, base-256 numbers, a bad checksum, a zero block): the caller
// then uses archive/tar itself. It is several times faster than
// tar.NewReader(…).Next() on a layer of small files.
func fastUSTAR(b []byte) (*tar.Header, bool) {
	if len(b) < 512 {
		return nil, false
	}
	b = b[:512]
	switch b[156] {
	case tar.TypeReg, '\x00', tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
	default:
		return nil, false
	}
	if string(b[257:263]) != "ustar\x00" || string(b[508:512]) == "tar\x00" {
		return nil, false
	}
	sum, ok := octal(b[148:156])
	if !ok {
		return nil, false
	}
	var unsigned, signed int64
	for i, c := range b {
		if 148 <= i && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	if sum != unsigned && sum != signed {
		return nil, false
	}
	var n [7]int64
	for i, f := range [7][2]int{{124, 136}, {100, 108}, {108, 116}, {116, 124}, {136, 148}, {329, 337}, {337, 345}} {
		if n[i], ok = octal(b[f[0]:f[1]]); !ok {
			return nil, false
		}
	}
	if n[0] < 0 {
		return nil, false
	}
	h := &tar.Header{
		Typeflag: b[156], Name: cstring(b[0:100]), Linkname: cstring(b[157:257]),
		Size: n[0], Mode: n[1], Uid: int(n[2]), Gid: int(n[3]), ModTime: time.Unix(n[4], 0),
		Uname: cstring(b[265:297]), Gname: cstring(b[297:329]), Devmajor: n[5], Devminor: n[6],
		Format: tar.FormatUSTAR,
	}
	if prefix := cstring(b[345:500]); prefix != "" {
		h.Name = prefix + "/" + h.Name
	}
	if h.Typeflag == '\x00' {
		h.Typeflag = tar.TypeReg
		if len(h.Name) > 0 && h.Name[len(h.Name)-1] == '/' {
			h.Typeflag = tar.TypeDir
		}
	}
	return h, true
}

// octal parses a numeric field as archive/tar's parseOctal does (NULs and
// spaces trimmed, up to the first NUL, then strconv.ParseUint in base 8:
// octal digits only, no sign, at most 64 bits); a base-256 field is not
// ok. It makes no string: a header has seven such fields.
func octal(b []byte) (int64, bool) {
	if len(b) > 0 && b[0]&0x80 != 0 {
		return 0, false
	}
	b = bytes.Trim(b, " \x00")
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	var x uint64
	for _, c := range b {
		if c < '0' || c > '7' || x > math.MaxUint64>>3 {
			return 0, false
		}
		x = x<<3 | uint64(c-'0')
	}
	return int64(x), true
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}
