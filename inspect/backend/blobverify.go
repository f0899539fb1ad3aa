package backend

import (
	"errors"
	"io"

	"github.com/opencontainers/go-digest"
)

// ErrMediaType: a layer blob's media type names a compression dlayer
// does not read.
var ErrMediaType = errors.New("unsupported layer media type")

// BlobVerifier is a Metadata whose image layers were unpacked from
// compressed blobs of a content store and that keeps no tar-split
// (containerd's image store). verify reads it instead of tar-split: each
// content blob is re-hashed against its digest, each layer's blob is
// decompressed, its tar hashed against the DiffID, and the tar's
// entries reconciled with the layer dir.
type BlobVerifier interface {
	Blobs
	// ContentBlobs lists the blobs of the content store, sorted by
	// digest, and, apart, the names under BlobsDir that are no blob
	// (<dir>/<algorithm>/<encoded digest>), as paths.
	ContentBlobs() (blobs []ContentBlob, other []string, err error)
	// LayerBlob is the blob layer chain was unpacked from, as the
	// manifests of the images whose chains hold it name it; ok is false
	// when no image's manifest names one.
	LayerBlob(chain digest.Digest) (b LayerBlob, ok bool)
	// Uncompress returns the layer tar held by r, a blob of media type
	// mediaType; ErrMediaType for a compression it does not read.
	Uncompress(mediaType string, r io.Reader) (io.ReadCloser, error)
}

// ContentBlob is one blob of a content store.
type ContentBlob struct {
	Digest digest.Digest
	// Path is the blob's file.
	Path string
	// Size is the size the store's metadata records for it; -1 when none
	// does.
	Size int64
	// Uncompressed is the DiffID the store's metadata records for a
	// layer blob (containerd's label containerd.io/uncompressed), when
	// it records one; Record is where.
	Uncompressed digest.Digest
	Record       string
}

// LayerBlob is the blob a layer was unpacked from.
type LayerBlob struct {
	ContentBlob
	// MediaType is the manifest's layer descriptor's.
	MediaType string
	// DescriptorSize is the manifest's layer descriptor's size.
	DescriptorSize int64
}

// Records is a Metadata whose records are not files of their own (a
// bolt database): whether an image or a layer record exists, for a
// re-read that must tell a removed record from a damaged one.
type Records interface {
	HasImage(id digest.Digest) bool
	HasLayer(chain digest.Digest) bool
}
