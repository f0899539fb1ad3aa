package inspect

import "github.com/dlayer/dlayer/inspect/backend"

// BlobVerifier returns the store's metadata when its layers come from
// content blobs and it keeps no tar-split (backend.BlobVerifier):
// verify checks it from those blobs.
func (s *Store) BlobVerifier() (backend.BlobVerifier, bool) {
	b, ok := s.meta.src.(backend.BlobVerifier)
	return b, ok
}

// Records returns the store's metadata when its records are not files of
// their own (backend.Records).
func (s *Store) Records() (backend.Records, bool) {
	r, ok := s.meta.src.(backend.Records)
	return r, ok
}
