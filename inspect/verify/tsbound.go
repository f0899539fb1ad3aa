package verify

import (
	"errors"
	"fmt"
	"io"
)

// ErrTarSplitTooLarge is returned when a tar-split stream inflates past
// what its layer can justify, or one of its JSON values past what any
// real entry needs: a decompression bomb, or a file that is not Docker's.
var ErrTarSplitTooLarge = errors.New("tar-split stream too large")

// The bounds of a tar-split stream. A real stream holds, per tar entry, its
// raw header blocks (512 bytes each, more for long names and PAX records,
// base64 in JSON) and a short file record; gzip shrinks it some 5 to 20
// times. Whatever a file holds, decoding it reads at most
// tsBase + tsRatio × its compressed size bytes, and no single value (or
// run of white space between values) over tsValueMax: the time is bounded
// by the file's size and the memory by tsValueMax, not by what it
// inflates to.
const (
	tsBase     = 64 << 20 // 64 MiB: any layer's stream may inflate to this
	tsRatio    = 100      // times the compressed size beyond that
	tsValueMax = 4 << 20  // 4 MiB: the largest PAX header block is far smaller
)

// tsLimit is the bound of a stream whose compressed file has size bytes.
func tsLimit(size int64) int64 { return tsBase + tsRatio*max(size, 0) }

// boundedReader reads r, failing with ErrTarSplitTooLarge past total bytes
// in all or past value bytes since the last reset (one entry's worth).
type boundedReader struct {
	r                  io.Reader
	total, value       int64 // bytes left
	totalMax, valueMax int64
}

func newBoundedReader(r io.Reader, total, valueMax int64) *boundedReader {
	return &boundedReader{r: r, total: total, value: valueMax, totalMax: total, valueMax: valueMax}
}

// reset starts a new value's allowance.
func (b *boundedReader) reset() { b.value = b.valueMax }

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.total <= 0 {
		return 0, fmt.Errorf("%w: it inflates past %s, more than a layer's stream of this compressed size can hold", ErrTarSplitTooLarge, sizeText(b.totalMax))
	}
	if b.value <= 0 {
		return 0, fmt.Errorf("%w: one entry runs past %s", ErrTarSplitTooLarge, sizeText(b.valueMax))
	}
	if n := min(b.total, b.value); int64(len(p)) > n {
		p = p[:n]
	}
	n, err := b.r.Read(p)
	b.total -= int64(n)
	b.value -= int64(n)
	return n, err
}

// sizeText is n bytes in MiB when it is a whole number of them.
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
