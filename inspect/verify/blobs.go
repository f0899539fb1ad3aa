package verify

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
)

// maxBlobSize bounds a content blob's size: far above any real layer.
const maxBlobSize = 1 << 40

// readBlobs lists the content store's blobs, for a store whose layers
// come from them (backend.BlobVerifier); a name there that is no blob is
// a finding.
func (m *model) readBlobs() {
	if m.bv == nil {
		return
	}
	blobs, other, err := m.bv.ContentBlobs()
	if err != nil {
		p := m.bv.BlobsDir()
		m.add(Finding{Kind: KindBlobMissing, ObjectType: ObjectStore, Path: p, File: p, Message: err.Error()})
	}
	for _, p := range other {
		actual, msg := m.stray(p, "not <algorithm>/<digest>: containerd ignores it")
		m.add(Finding{Kind: KindBlobStray, ObjectType: ObjectStore, Path: p, File: p, Actual: actual, Message: msg})
	}
	m.blobs = blobs
	m.stats.Blobs = len(blobs)
}

// readLayerBlob finds the blob layer l was unpacked from: its snapshot's
// files are checked against that blob's tar. Without one, l.noBlob says
// why; checkBlobRecords reports it when an image holds the layer (a
// snapshot no image uses any more has nothing to be checked against, and
// nothing depends on it).
func (m *model) readLayerBlob(l *layerInfo) {
	lb, ok := m.bv.LayerBlob(l.ChainID)
	obj := l.ChainID.String()
	if !ok {
		l.noBlob = &Finding{Kind: KindLayerBlobMissing, ObjectType: ObjectLayer, Object: obj, Path: l.dir, File: l.dir,
			Expected: "a layer blob named by an image's manifest", Actual: "none",
			Message: "no manifest of the images that hold this layer names a blob for it: its tar cannot be read, so its snapshot's files are not checked"}
		return
	}
	fi, err := m.s.FS().Lstat(lb.Path)
	if err != nil || !fi.Mode().IsRegular() {
		l.noBlob = &Finding{Kind: KindLayerBlobMissing, ObjectType: ObjectLayer, Object: obj, Path: lb.Path, File: lb.Path,
			Expected: "a regular file", Actual: describePath(m.s.FS(), lb.Path, fi, err),
			Message: fmt.Sprintf("the layer's blob %s is not in the content store: the layer cannot be exported or pushed, and its snapshot's files are not checked", lb.Digest)}
		return
	}
	l.blob = &lb
}

// checkBlobRecords checks, reading no blob, that each blob of the content
// store is a regular file of the size its record says, that each layer's
// blob has its manifest descriptor's size, and that a layer blob's
// uncompressed label is the layer's DiffID.
func (m *model) checkBlobRecords() {
	if m.bv == nil {
		return
	}
	for _, b := range m.blobs {
		fi, err := m.s.FS().Lstat(b.Path)
		obj := b.Digest.String()
		switch {
		case err != nil || !fi.Mode().IsRegular():
			m.badBlobs[b.Digest] = true
			m.add(Finding{Kind: KindBlobMissing, ObjectType: ObjectBlob, Object: obj, Path: b.Path, File: b.Path,
				Expected: "a regular file", Actual: describePath(m.s.FS(), b.Path, fi, err),
				Message: "a blob of the content store is not a regular file: it is never opened"})
		case b.Size >= 0 && fi.Size() != b.Size:
			m.add(Finding{Kind: KindBlobSizeMismatch, ObjectType: ObjectBlob, Object: obj, Path: b.Record, File: b.Path,
				Expected: fmt.Sprintf("%d bytes", b.Size), Actual: fmt.Sprintf("%d bytes", fi.Size()),
				Message: "the blob's size differs from the content store's record of it: it was changed or truncated"})
		}
	}
	for _, l := range m.layerList() {
		if l.noBlob != nil && len(l.users) > 0 {
			m.add(*l.noBlob)
		}
		if l.blob == nil {
			continue
		}
		obj := l.ChainID.String()
		if fi, err := m.s.FS().Lstat(l.blob.Path); err == nil && l.blob.DescriptorSize > 0 && fi.Size() != l.blob.DescriptorSize &&
			(l.blob.Size < 0 || l.blob.Size == fi.Size()) {
			m.add(Finding{Kind: KindBlobSizeMismatch, ObjectType: ObjectBlob, Object: l.blob.Digest.String(), Path: l.blob.Path, File: l.blob.Path,
				Expected: fmt.Sprintf("%d bytes", l.blob.DescriptorSize), Actual: fmt.Sprintf("%d bytes", fi.Size()),
				Message: "the blob's size differs from the manifest's layer descriptor: it was changed or truncated"})
		}
		if u := l.blob.Uncompressed; u != "" && l.trusted != "" && u != l.trusted {
			m.add(Finding{Kind: KindUncompressedLabelMismatch, ObjectType: ObjectLayer, Object: obj, Path: l.blob.Record, File: l.blob.Path,
				Expected: l.trusted.String(), Actual: u.String(),
				Message: fmt.Sprintf("the content store's record of blob %s says it holds another tar than the layer's DiffID (label containerd.io/uncompressed)", l.blob.Digest)})
		}
	}
}

// checkBlobContent re-hashes, jobs at a time, every blob of the content
// store that no layer check read in full (hashed): configs, manifests,
// indexes, and the layer blobs whose snapshots were not checked.
func (m *model) checkBlobContent(ctx context.Context, jobs int, hashed map[digest.Digest]bool) error {
	var todo []backend.ContentBlob
	for _, b := range m.blobs {
		if !hashed[b.Digest] && !m.badBlobs[b.Digest] && !m.trustBlob(b.Digest) {
			todo = append(todo, b)
		}
	}
	type result struct {
		f     *Finding
		n     int64
		whole bool
	}
	results := make([]result, len(todo))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(jobs, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			for i := range next {
				n, f := m.hashBlob(todo[i], buf)
				results[i] = result{f: f, n: n, whole: f == nil || f.Kind == KindBlobDigestMismatch}
			}
		}()
	}
	for i := range todo {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, r := range results {
		if r.f != nil {
			m.add(*r.f)
		} else {
			m.recordBlob(todo[i].Digest)
		}
		if r.whole {
			m.stats.BlobsHashed++
			m.stats.BlobBytes += r.n
		}
	}
	return nil
}

// hashBlob reads blob b through the store's opener (a regular file,
// beneath the containerd root, with no symlink in any component) and
// compares its digest with its name.
func (m *model) hashBlob(b backend.ContentBlob, buf []byte) (int64, *Finding) {
	obj := b.Digest.String()
	f, err := m.s.FS().OpenFile(b.Path, maxBlobSize)
	if err != nil {
		return 0, &Finding{Kind: KindBlobUnreadable, ObjectType: ObjectBlob, Object: obj, Path: b.Path, File: b.Path, Message: err.Error()}
	}
	defer f.Close()
	h := b.Digest.Algorithm().Hash()
	n, err := io.CopyBuffer(h, paced(f, m.pace), buf)
	if err != nil {
		return n, &Finding{Kind: KindBlobUnreadable, ObjectType: ObjectBlob, Object: obj, Path: b.Path, File: b.Path, Message: err.Error()}
	}
	if got := digest.NewDigest(b.Digest.Algorithm(), h); got != b.Digest {
		return n, blobDigestFinding(b.Digest, b.Path, got)
	}
	return n, nil
}

// blobDigestFinding says that blob d's bytes hash to got.
func blobDigestFinding(d digest.Digest, path string, got digest.Digest) *Finding {
	return &Finding{Kind: KindBlobDigestMismatch, ObjectType: ObjectBlob, Object: d.String(), Path: path, File: path,
		Expected: d.String(), Actual: got.String(),
		Message: "the blob's bytes do not hash to its name: it was changed after containerd stored it (docker save exports it as it is; a registry refuses it on push)"}
}

// blobPath is where the content store keeps blob d:
// <BlobsDir>/<algorithm>/<encoded>.
func (m *model) blobPath(d digest.Digest) string {
	if m.bv == nil || d.Validate() != nil {
		return ""
	}
	return filepath.Join(m.bv.BlobsDir(), string(d.Algorithm()), d.Encoded())
}

// blobAffects names the images that hold blob d (as manifest, config or
// layer) and their containers.
func (m *model) blobAffects(d digest.Digest) Affects {
	if m.bv == nil {
		return Affects{}
	}
	_, ids := m.bv.BlobUse(d)
	var ims []*imageInfo
	for _, id := range ids {
		if im := m.images[id]; im != nil {
			ims = append(ims, im)
		}
	}
	return m.affectsImages(ims)
}

// blobFinding restates a layer finding for a layer read from its blob
// (at path), not from tar-split: the tar's own problems are the blob's,
// and nothing Docker does would notice them (docker save exports the
// blob as it is).
func blobFinding(f Finding, path string) Finding {
	f.DockerDetects = false
	switch f.Kind {
	case KindTarSplitMalformed:
		f.Kind = KindBlobMalformed
	case KindTarSplitUnsafeName:
		f.Kind, f.Message = KindLayerTarUnsafeName, "the layer blob's tar names a path outside the layer; dlayer never opens it"
	case KindTarSplitDuplicate:
		f.Kind, f.Message = KindLayerTarDuplicate, "the layer blob's tar names this path twice: the layer dir can hold only one of them"
	case KindContentMismatch:
		f.Message = "the file's bytes differ from those of the layer blob's tar (CRC-64): it was changed after containerd unpacked the layer " +
			"(docker save exports the blob and does not notice)"
	case KindSizeMismatch:
		f.Message = "the file's size differs from its header in the layer blob's tar: its content was changed after containerd unpacked the layer"
	}
	if f.File == "" {
		f.File = path
	}
	if f.Path == "" {
		f.Path = path
	}
	return f
}
