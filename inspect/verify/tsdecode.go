package verify

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/vbatts/tar-split/tar/storage"
)

// tsDecoder reads tar-split entries exactly as storage.NewJSONUnpacker's
// json.Decoder does, but fast: tar-split's packer (json.Encoder of
// storage.Entry) writes one entry a line with the fields in struct order,
//
//	{"type":2,"payload":"<base64>","position":0}
//	{"type":1,"name":"bin/sh","size":5,"payload":"<base64 CRC>","position":1}
//
// and such a line is parsed by hand. At the first line of any other shape
// (escapes in a name, other key order, unknown keys, a value over lines)
// the rest of the stream goes to encoding/json, so the result is the same
// for every input; encoding/json alone costs several microseconds a line,
// most of a layer of small files.
type tsDecoder struct {
	r     *bufio.Reader
	slow  *json.Decoder
	bound *boundedReader // nil: unbounded (tests of the decoder's output)
	// slab holds the decoded payloads of the fast path, many to an
	// allocation; each payload is a full slice of it that nothing else
	// shares, kept as long as its entry is.
	slab []byte
}

func newTSDecoder(r io.Reader) *tsDecoder {
	d := &tsDecoder{}
	if b, ok := r.(*boundedReader); ok {
		d.bound = b
	}
	d.r = bufio.NewReaderSize(r, 64<<10)
	return d
}

// Next decodes the next entry into e; io.EOF at the end.
func (d *tsDecoder) Next(e *storage.Entry) error {
	if d.bound != nil {
		d.bound.reset()
	}
	for d.slow == nil {
		line, err := d.r.ReadSlice('\n')
		if err != nil && err != io.EOF {
			if err == bufio.ErrBufferFull {
				d.fallback(line)
				break
			}
			return err
		}
		t := bytes.Trim(line, " \t\r\n") // JSON white space only
		if len(t) == 0 {
			if err == io.EOF {
				return io.EOF
			}
			continue
		}
		*e = storage.Entry{}
		if parseEntryLine(t, e, &d.slab) {
			return nil
		}
		d.fallback(line)
	}
	*e = storage.Entry{}
	return d.slow.Decode(e)
}

// fallback hands the rest of the stream, from line on, to encoding/json.
func (d *tsDecoder) fallback(line []byte) {
	d.slow = json.NewDecoder(io.MultiReader(bytes.NewReader(bytes.Clone(line)), d.r))
}

// parseEntryLine parses one line of the packer's exact shape; false means
// "not that shape" (never "invalid": encoding/json decides that).
func parseEntryLine(b []byte, e *storage.Entry, slab *[]byte) bool {
	p := &lineParser{b: b}
	if !p.lit(`{"type":`) {
		return false
	}
	t, ok := p.int()
	if !ok {
		return false
	}
	e.Type = storage.Type(t)
	if p.lit(`,"name":`) {
		s, ok := p.str()
		if !ok {
			return false
		}
		e.Name = string(s)
	}
	if p.lit(`,"name_raw":`) {
		s, ok := p.base64Str()
		if !ok {
			return false
		}
		if e.NameRaw, ok = unbase64(s, slab); !ok {
			return false
		}
	}
	if p.lit(`,"size":`) {
		if e.Size, ok = p.int(); !ok {
			return false
		}
	}
	if !p.lit(`,"payload":`) {
		return false
	}
	if !p.lit("null") {
		s, ok := p.base64Str()
		if !ok {
			return false
		}
		if e.Payload, ok = unbase64(s, slab); !ok {
			return false
		}
	}
	if !p.lit(`,"position":`) {
		return false
	}
	pos, ok := p.int()
	if !ok || !p.lit("}") || len(p.b) != 0 {
		return false
	}
	e.Position = int(pos)
	return true
}

type lineParser struct{ b []byte }

func (p *lineParser) lit(s string) bool {
	if len(p.b) < len(s) || string(p.b[:len(s)]) != s {
		return false
	}
	p.b = p.b[len(s):]
	return true
}

// int reads an optional minus and decimal digits (JSON's integers without
// exponent or fraction, which encoding/json rejects for an int field).
func (p *lineParser) int() (int64, bool) {
	i := 0
	if i < len(p.b) && p.b[i] == '-' {
		i++
	}
	start := i
	for i < len(p.b) && p.b[i] >= '0' && p.b[i] <= '9' {
		i++
	}
	if i == start || (p.b[start] == '0' && i-start > 1) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(p.b[:i]), 10, 64)
	if err != nil {
		return 0, false
	}
	p.b = p.b[i:]
	return n, true
}

// quoted returns the raw bytes between the quotes of a JSON string that
// has no escaped quote, without consuming them; n is how much to consume.
func (p *lineParser) quoted() (s []byte, n int, ok bool) {
	if len(p.b) == 0 || p.b[0] != '"' {
		return nil, 0, false
	}
	end := bytes.IndexByte(p.b[1:], '"')
	if end < 0 {
		return nil, 0, false
	}
	return p.b[1 : 1+end], 2 + end, true
}

// str reads a JSON string without escapes, of valid UTF-8 with no control
// characters (anything else is left to encoding/json).
func (p *lineParser) str() ([]byte, bool) {
	s, n, ok := p.quoted()
	if !ok {
		return nil, false
	}
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, false
		}
	}
	if !utf8.Valid(s) {
		return nil, false
	}
	p.b = p.b[n:]
	return s, true
}

// base64Str reads a JSON string that is to hold base64: any byte the
// decoder would not refuse on its own (it skips CR and LF, which JSON does
// not allow raw in a string) sends the line to encoding/json.
func (p *lineParser) base64Str() ([]byte, bool) {
	s, n, ok := p.quoted()
	if !ok || bytes.IndexByte(s, '\n') >= 0 || bytes.IndexByte(s, '\r') >= 0 {
		return nil, false
	}
	p.b = p.b[n:]
	return s, true
}

// unbase64 decodes as encoding/json does a []byte field, into the free
// end of *slab (a new slab of 64 KiB, or of the value's size when larger,
// once it is full). The result's capacity ends where its bytes do.
func unbase64(s []byte, slab *[]byte) ([]byte, bool) {
	n := base64.StdEncoding.DecodedLen(len(s))
	if cap(*slab)-len(*slab) < n {
		*slab = make([]byte, 0, max(64<<10, n))
	}
	b := *slab
	out := b[len(b) : len(b)+n]
	m, err := base64.StdEncoding.Decode(out, s)
	if err != nil {
		return nil, false
	}
	*slab = b[:len(b)+m]
	return out[:m:m], true
}
