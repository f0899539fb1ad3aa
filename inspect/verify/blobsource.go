package verify

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

// entrySource yields a layer's tar as tar-split entries: raw segments
// (headers, padding) and file entries (name, size, CRC-64 of the bytes).
type entrySource interface {
	Next(*storage.Entry) error
	Close()
}

// tarSplitSource reads tar-split.json.gz.
type tarSplitSource struct {
	*tsDecoder
	f *os.File
}

func (s tarSplitSource) Close() { s.f.Close() }

// errStopped: the reader of a blobSource closed it early.
var errStopped = errors.New("stopped")

// blobSource disassembles a layer blob's tar as it is decompressed
// (tar-split's own disassembler over the stream, with the file bytes
// discarded after their CRC-64), so that the layer is reconciled with its
// dir exactly as from tar-split; meanwhile it hashes the compressed bytes
// (the blob's digest) and the tar (the DiffID). Memory is bounded: only
// headers travel, a few at a time.
type blobSource struct {
	f       *os.File
	entries chan storage.Entry
	done    chan struct{}
	stop    sync.Once
	// Set before entries is closed.
	err               error
	blobSum, tarSum   digest.Digest
	blobBytes, tarLen int64
	blobWhole         bool // every byte of the blob was read
}

// openBlobSource opens the layer's blob through the store's opener (a
// regular file, no symlink in any component) and starts decompressing it.
// Its reads are told to pace (nil: none).
func openBlobSource(o layerfs.Opener, bv backend.BlobVerifier, lb *backend.LayerBlob, pace Pace) (*blobSource, error) {
	f, err := o.OpenFile(lb.Path, maxBlobSize)
	if err != nil {
		return nil, err
	}
	s := &blobSource{f: f, entries: make(chan storage.Entry, 64), done: make(chan struct{})}
	go s.run(bv, lb, paced(f, pace))
	return s, nil
}

// counter counts and hashes what passes through it.
type counter struct {
	h hash.Hash
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// run reads the blob from r (s.f, paced).
func (s *blobSource) run(bv backend.BlobVerifier, lb *backend.LayerBlob, r io.Reader) {
	defer close(s.entries)
	blob := &counter{h: lb.Digest.Algorithm().Hash()}
	tar := &counter{h: sha256.New()}
	defer func() {
		s.blobBytes, s.tarLen = blob.n, tar.n
		s.blobSum = digest.NewDigest(lb.Digest.Algorithm(), blob.h)
		s.tarSum = digest.NewDigest(digest.SHA256, tar.h)
	}()
	z, err := bv.Uncompress(lb.MediaType, io.TeeReader(r, blob))
	if err != nil {
		s.err = err
		return
	}
	defer z.Close()
	pr, done, err := asm.NewInputTarStreamWithDone(z, blobPacker{s}, storage.NewDiscardFilePutter())
	if err != nil {
		s.err = err
		return
	}
	_, err = io.CopyBuffer(tar, pr, make([]byte, 256<<10))
	pr.Close()
	if derr := <-done; err == nil {
		err = derr // no entry is added once the disassembler is done
	}
	if err != nil {
		s.err = err
		return
	}
	// The rest of the blob, past the end of its compressed stream.
	if _, err := io.Copy(blob, r); err != nil {
		s.err = fmt.Errorf("read: %w", err)
		return
	}
	s.blobWhole = true
}

// blobPacker hands the disassembler's entries to the reader.
type blobPacker struct{ s *blobSource }

func (p blobPacker) AddEntry(e storage.Entry) (int, error) {
	e.Payload = bytes.Clone(e.Payload) // the disassembler reuses its padding buffer
	select {
	case p.s.entries <- e:
		return 0, nil
	case <-p.s.done:
		return 0, errStopped
	}
}

// Next returns the next entry; io.EOF at the end of a sound tar.
func (s *blobSource) Next(e *storage.Entry) error {
	x, ok := <-s.entries
	if !ok {
		if s.err != nil {
			return s.err
		}
		return io.EOF
	}
	*e = x
	return nil
}

// Close stops the decompression, waits for it and closes the blob.
func (s *blobSource) Close() {
	s.stop.Do(func() {
		close(s.done)
		for range s.entries {
		}
		s.f.Close()
	})
}
