package containerd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

var (
	_ backend.BlobVerifier = (*metadata)(nil)
	_ backend.Records      = (*metadata)(nil)
)

// labelUncompressed is the label containerd keeps on a layer blob's
// record: the DiffID of its uncompressed tar.
const labelUncompressed = "containerd.io/uncompressed"

// zstdMaxWindow bounds a zstd frame's window, and so the decoder's
// memory: 128 MiB admits `zstd --long` (2^27); the default levels use 8 MiB.
const zstdMaxWindow = 128 << 20

// blobRecord is meta.db's v1/<ns>/content/blob/<digest>: size, and the
// uncompressed label of a layer blob.
type blobRecord struct {
	size         int64 // -1 when not recorded
	uncompressed digest.Digest
}

// layerBlob is the blob a manifest names for a layer.
type layerBlob struct {
	digest    digest.Digest
	mediaType string
	size      int64
}

// readBlobRecords reads the namespace's content records.
func readBlobRecords(ns *bolt.Bucket, ix *index) {
	bb := nested(ns, "content", "blob")
	if bb == nil {
		return
	}
	bb.ForEachBucket(func(k []byte) error {
		d := digest.Digest(k)
		if d.Validate() != nil {
			return nil
		}
		b := bb.Bucket(k)
		rec := blobRecord{size: -1}
		if v, n := binary.Varint(b.Get([]byte("size"))); n > 0 {
			rec.size = v
		}
		if lb := b.Bucket([]byte("labels")); lb != nil {
			rec.uncompressed = digest.Digest(lb.Get([]byte(labelUncompressed)))
		}
		ix.blobs[d] = rec
		return nil
	})
}

// noteLayerBlob records the blob r's manifest names for layer i (ChainID
// chain). Where manifests name different blobs for one layer (another
// compression), the smallest digest is kept, so that every run reads the
// same one.
func (ix *index) noteLayerBlob(chain digest.Digest, r *resolved, i int) {
	if i >= len(r.Layers) || r.Layers[i].Validate() != nil {
		return
	}
	lb := layerBlob{digest: r.Layers[i], mediaType: r.LayerMediaTypes[i], size: r.LayerSizes[i]}
	if old, ok := ix.layerBlobs[chain]; !ok || lb.digest < old.digest {
		ix.layerBlobs[chain] = lb
	}
}

// contentBlob is blob d as backend.ContentBlob.
func (m *metadata) contentBlob(ix *index, d digest.Digest) backend.ContentBlob {
	b := backend.ContentBlob{Digest: d, Path: m.l.blobPath(d), Size: -1}
	if rec, ok := ix.blobs[d]; ok {
		b.Size, b.Uncompressed = rec.size, rec.uncompressed
		b.Record = m.Path("v1", m.l.c.Namespace, "content", "blob", string(d))
	}
	return b
}

// ContentBlobs lists blobs/<algorithm>/<hex> of the content store.
func (m *metadata) ContentBlobs() ([]backend.ContentBlob, []string, error) {
	ix, err := m.l.get()
	if err != nil {
		return nil, nil, err
	}
	dir := m.BlobsDir()
	algs, err := m.l.o.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("content store %s: %w", dir, err)
	}
	var blobs []backend.ContentBlob
	var other []string
	for _, a := range algs {
		p := filepath.Join(dir, a.Name())
		alg := digest.Algorithm(a.Name())
		if !a.IsDir() || !alg.Available() {
			other = append(other, p)
			continue
		}
		ents, err := m.l.o.ReadDir(p)
		if err != nil {
			return nil, nil, fmt.Errorf("content store %s: %w", p, err)
		}
		for _, e := range ents {
			d := digest.NewDigestFromEncoded(alg, e.Name())
			if d.Validate() != nil {
				other = append(other, filepath.Join(p, e.Name()))
				continue
			}
			blobs = append(blobs, m.contentBlob(ix, d))
		}
	}
	sort.Slice(blobs, func(i, j int) bool { return blobs[i].Digest < blobs[j].Digest })
	return blobs, other, nil
}

// LayerBlob is the blob an image's manifest names for layer chain.
func (m *metadata) LayerBlob(chain digest.Digest) (backend.LayerBlob, bool) {
	ix, err := m.l.get()
	if err != nil {
		return backend.LayerBlob{}, false
	}
	lb, ok := ix.layerBlobs[chain]
	if !ok {
		return backend.LayerBlob{}, false
	}
	return backend.LayerBlob{ContentBlob: m.contentBlob(ix, lb.digest), MediaType: lb.mediaType, DescriptorSize: lb.size}, true
}

// Uncompress returns the tar of a layer blob. Like containerd's applier
// (core/archive/compression DecompressStream), it goes by the stream's
// magic bytes, not by the media type: gzip, zstd, or a plain tar.
// Encrypted layers (media type +encrypted) are not read.
func (m *metadata) Uncompress(mediaType string, r io.Reader) (io.ReadCloser, error) {
	return Uncompress(mediaType, r)
}

// Uncompress is metadata.Uncompress, for any reader.
func Uncompress(mediaType string, r io.Reader) (io.ReadCloser, error) {
	if strings.HasSuffix(mediaType, "+encrypted") {
		return nil, fmt.Errorf("%w: %s", backend.ErrMediaType, mediaType)
	}
	br := bufio.NewReaderSize(r, 256<<10)
	magic, err := br.Peek(4)
	if err != nil && len(magic) == 0 && err != io.EOF {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return z, nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		z, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zstdCloser{z}, nil
	}
	return io.NopCloser(br), nil
}

// zstdCloser releases a zstd decoder on Close.
type zstdCloser struct{ *zstd.Decoder }

func (z zstdCloser) Close() error { z.Decoder.Close(); return nil }

// HasImage reports whether an image of the namespace has target id.
func (m *metadata) HasImage(id digest.Digest) bool {
	ix, err := m.l.get()
	if err != nil {
		return false
	}
	_, ok := ix.resolved[id]
	return ok
}

// HasLayer reports whether a committed snapshot is keyed by chain.
func (m *metadata) HasLayer(chain digest.Digest) bool {
	ix, err := m.l.get()
	if err != nil {
		return false
	}
	s, ok := ix.snaps[string(chain)]
	return ok && s.Kind == KindCommitted
}
