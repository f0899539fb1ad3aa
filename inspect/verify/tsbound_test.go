package verify

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/vbatts/tar-split/tar/storage"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// repeatReader yields s n times without holding them.
func repeatReader(s string, n int64) io.Reader {
	return io.LimitReader(&cycle{s: s}, int64(len(s))*n)
}

type cycle struct {
	s string
	i int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], c.s[c.i:])
		n += k
		c.i = (c.i + k) % len(c.s)
	}
	return n, nil
}

// gz compresses what r yields.
func gz(t *testing.T, r io.Reader) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := io.Copy(w, r); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.Bytes()
}

// decodeBounded decodes a compressed stream as verify does and returns
// how many entries and inflated bytes it read, and the error it stopped at.
func decodeBounded(t *testing.T, compressed []byte) (entries int, read int64, err error) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		t.Fatal(err)
	}
	c := &countingReader{r: zr}
	d := newTSDecoder(newBoundedReader(c, tsLimit(int64(len(compressed))), tsValueMax))
	for {
		var e storage.Entry
		if err := d.Next(&e); err != nil {
			if errors.Is(err, io.EOF) {
				return entries, c.n, nil
			}
			return entries, c.n, err
		}
		entries++
	}
}

// TestTarSplitBombs: whatever a tar-split file inflates to, decoding it
// reads at most what its compressed size can justify, and no value (or
// white space between values) past tsValueMax: a bomb is an error, found
// after bounded work, not the host's memory.
func TestTarSplitBombs(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"256 MiB of spaces", repeatReader(strings.Repeat(" ", 4096), 1<<16)},
		{"256 MiB of newlines", repeatReader(strings.Repeat("\n", 4096), 1<<16)},
		{"a 256 MiB string", io.MultiReader(strings.NewReader(`{"type":2,"payload":"`), repeatReader(strings.Repeat("A", 4096), 1<<16))},
		{"segments without end", repeatReader(strings.Repeat(`{"type":2,"payload":"AAAA","position":0}`+"\n", 100), 1<<18)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			compressed := gz(t, tc.r)
			_, read, err := decodeBounded(t, compressed)
			if !errors.Is(err, ErrTarSplitTooLarge) {
				t.Errorf("err = %v, want ErrTarSplitTooLarge", err)
			}
			if limit := tsLimit(int64(len(compressed))) + 1<<20; read > limit {
				t.Errorf("read %d inflated bytes of a %d-byte file, past the bound %d", read, len(compressed), limit)
			}
			t.Logf("%d-byte file: stopped after %d MiB: %v", len(compressed), read>>20, err)
		})
	}
}

// TestTarSplitRealLayerWithinBound: the stream of a layer of 50,000 empty
// files (a header block and a file record each, as tar-split's packer
// writes them) decodes whole within the bound.
func TestTarSplitRealLayerWithinBound(t *testing.T) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	hdr := bytes.Repeat([]byte{'h'}, 512)
	for i := range 50000 {
		must(t, enc.Encode(storage.Entry{Type: storage.SegmentType, Payload: hdr, Position: 2 * i}))
		must(t, enc.Encode(storage.Entry{Type: storage.FileType, Name: fmt.Sprintf("dir/empty-%05d", i), Position: 2*i + 1}))
	}
	n, _, err := decodeBounded(t, gz(t, &b))
	if err != nil || n != 100000 {
		t.Errorf("decoded %d entries: %v", n, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The bomb shapes, scaled to the fuzz bounds below: white space between
// values past the per-value bound, one string past it, and many small
// entries past the total.
func tsBombSeeds() []string {
	ws := strings.Repeat(" ", 3*fuzzValueMax)
	long := `{"type":2,"payload":"` + strings.Repeat("A", 3*fuzzValueMax) + `","position":0}` + "\n"
	many := strings.Repeat(`{"type":2,"payload":"AA==","position":1}`+"\n", 2*fuzzTotal/40)
	nested := `{"type":1,"name":"` + strings.Repeat(`\u0041`, fuzzValueMax) + `","payload":null,"position":1}` + "\n"
	return []string{ws, "{" + ws + `"type":2}`, long, many, nested}
}

const (
	fuzzTotal    = 4 << 10
	fuzzValueMax = 256
)

// FuzzTSDecoderBounded: whatever a stream holds, the decoder reads no more
// than its bounds allow, and every entry it returns fits the per-value
// bound; a stream over them ends in ErrTarSplitTooLarge.
func FuzzTSDecoderBounded(f *testing.F) {
	for _, s := range append(tsBombSeeds(), tsSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &countingReader{r: bytes.NewReader(data)}
		d := newTSDecoder(newBoundedReader(c, fuzzTotal, fuzzValueMax))
		for {
			var e storage.Entry
			err := d.Next(&e)
			if err != nil {
				if int64(len(data)) < fuzzValueMax && errors.Is(err, ErrTarSplitTooLarge) {
					t.Fatalf("a %d-byte stream is within both bounds, but: %v", len(data), err)
				}
				break
			}
			if len(e.Payload) > fuzzValueMax || len(e.Name) > fuzzValueMax || len(e.NameRaw) > fuzzValueMax {
				t.Fatalf("an entry over the value bound came through: payload %d, name %d", len(e.Payload), len(e.Name))
			}
		}
		if c.n > fuzzTotal {
			t.Fatalf("read %d bytes, over the bound of %d", c.n, fuzzTotal)
		}
	})
}
