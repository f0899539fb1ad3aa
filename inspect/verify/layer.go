package verify

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/storage"
	"golang.org/x/sys/unix"
)

// window is how many batches of one layer may be in flight between its
// decoder and its hasher.
const window = 16

// maxOpenDirs bounds the directory descriptors one layer keeps open.
const maxOpenDirs = 256

// entry is one file entry of tar-split on its way from the decoder through
// a reader to the hasher.
type entry struct {
	lc *layerCheck
	// segs are the raw segments before the entry: the previous file's
	// padding (pad bytes), then the entry's header blocks.
	segs [][]byte
	pad  int64
	tail bool // only segments: the end of the archive
	// name, size and crc are tar-split's: content is read by this name.
	name   string
	size   int64
	crc    []byte
	unsafe bool // name is absolute or leaves the layer: never opened
	dup    bool // a file entry of the same name came before
	budget int64
	// Set by the reader.
	hdr    *hdrInfo
	disk   diskEntry
	data   dataRead
	nameOK bool // the entry name is the header's (content came with the lookup)
}

// layerResult is what one layer's check adds to the report.
type layerResult struct {
	findings []Finding
	entries  int64
	bytes    int64
	hashed   bool
	// blob is the layer blob read in full and hashed (a store whose
	// layers come from blobs), blobBytes its size.
	blob      digest.Digest
	blobBytes int64
	blobBad   bool // the blob does not hash to its name
}

// layerCheck is the state of one layer's content check. Readers only fill
// entries; everything else belongs to the hasher goroutine.
type layerCheck struct {
	m       *model
	p       *pool
	l       *layerInfo
	diffDir string
	dirs    *dirCache
	// below is, for a layer that is a whole tree (Terms.WholeTreeLayers),
	// the content dir of the layer below it ("" for a base layer);
	// belowUnknown is set when the chain does not say which it is.
	below        string
	belowUnknown bool
	res          layerResult
	tree         treeState
	// incomplete: some file's bytes are missing from the rebuilt stream.
	incomplete bool
	decodeErr  error
	buf        []byte
	// src is the layer blob's source, when the layer comes from one; set
	// by produce before it closes its channel.
	src *blobSource
}

// checkLayer rebuilds one layer's tar stream, hashes it, and reconciles
// its headers with the layer dir.
func (m *model) checkLayer(ctx context.Context, p *pool, l *layerInfo) layerResult {
	lc := &layerCheck{m: m, p: p, l: l, diffDir: m.graph.Layout(l.CacheID).Content, tree: newTreeState()}
	root, err := lc.m.s.FS().OpenDir(lc.diffDir)
	if err != nil {
		lc.add(Finding{Kind: KindCacheDirMissing, Path: lc.diffDir, File: lc.diffDir, Message: err.Error()})
		return lc.res
	}
	lc.dirs = newDirCache(root, maxOpenDirs)
	defer lc.dirs.close()
	if m.terms.WholeTreeLayers && l.Parent != "" {
		if p := m.layers[l.Parent]; p != nil && p.readable && p.CacheID != "" {
			lc.below = m.graph.Layout(p.CacheID).Content
		} else {
			lc.belowUnknown = true
		}
	}
	ordered := make(chan *batch, window)
	go lc.produce(ctx, ordered)
	h := sha256.New()
	for b := range ordered {
		<-b.done
		for i := range b.entries {
			e := &b.entries[i]
			for _, s := range e.segs {
				h.Write(s)
				lc.res.bytes += int64(len(s))
				m.live.bytes.Add(int64(len(s)))
			}
			if e.tail {
				continue
			}
			lc.res.entries++
			lc.reconcile(e)
			lc.content(e, h)
			p.release(e.budget)
		}
		m.live.entries.Add(int64(len(b.entries)))
	}
	if l.blob != nil && lc.src != nil && ctx.Err() == nil && !lc.checkBlob() {
		return lc.res
	}
	if lc.decodeErr != nil {
		lc.add(Finding{Kind: KindTarSplitMalformed, Path: l.tarSplit, File: l.tarSplit, Message: lc.decodeErr.Error() +
			": the layer's tar stream cannot be rebuilt (docker save and push fail); entries after this point were not checked"})
		return lc.res
	}
	if ctx.Err() != nil {
		return lc.res
	}
	lc.finishTree()
	if lc.incomplete {
		return lc.res
	}
	lc.res.hashed = true
	if got := digest.NewDigest(digest.SHA256, h); got != l.trusted {
		msg := "the layer's rebuilt tar stream does not hash to its DiffID: docker save and push fail on it"
		if l.blob != nil {
			msg = "the layer blob's tar, with each file's bytes read from the layer dir, does not hash to the DiffID: " +
				"the snapshot's files are not what containerd unpacked (docker save exports the blob and does not notice)"
		}
		lc.add(Finding{Kind: KindDiffIDMismatch, DockerDetects: l.blob == nil, Path: lc.diffDir, File: lc.diffDir,
			Expected: l.trusted.String(), Actual: got.String(), Message: msg})
	}
	return lc.res
}

// checkBlob compares, once the layer's blob was read to its end, its
// digest with its name and its tar's with the DiffID. ok is false when the
// blob is damaged: what its tar says of the snapshot's files is then not
// the layer's, so those findings are dropped (the blob's stand).
func (lc *layerCheck) checkBlob() (ok bool) {
	src, lb := lc.src, lc.l.blob
	var bad []Finding
	if src.blobWhole {
		lc.res.blob, lc.res.blobBytes = lb.Digest, src.blobBytes
		if src.blobSum != lb.Digest {
			lc.res.blobBad = true
			bad = append(bad, *blobDigestFinding(lb.Digest, lb.Path, src.blobSum))
		}
	}
	if lc.decodeErr != nil {
		bad = append(bad, lc.blobFinding(Finding{Kind: KindBlobMalformed, Path: lb.Path, File: lb.Path, Message: lc.decodeErr.Error() +
			": the layer blob's tar cannot be read to its end (containerd could not unpack it again)"}))
	} else if src.err == nil && src.tarSum != lc.l.trusted {
		bad = append(bad, lc.blobFinding(Finding{Kind: KindBlobDiffIDMismatch, Path: lb.Path, File: lb.Path, Expected: lc.l.trusted.String(), Actual: src.tarSum.String(),
			Message: fmt.Sprintf("the layer blob %s decompresses to a tar that does not hash to the layer's DiffID (%d bytes of tar)", lb.Digest, src.tarLen)}))
	}
	if len(bad) == 0 {
		return true
	}
	for i := range bad {
		bad[i].Message += "; the snapshot's files were not checked against it"
	}
	lc.res.findings, lc.res.hashed = bad, false
	return false
}

// blobFinding is a finding about the layer (not its blob) as add makes it.
func (lc *layerCheck) blobFinding(f Finding) Finding {
	f = blobFinding(f, lc.l.blob.Path)
	f.ObjectType, f.Object, f.Check = ObjectLayer, lc.l.ChainID.String(), f.Kind.Check()
	return f
}

// add records a finding about the layer.
func (lc *layerCheck) add(f Finding) {
	if lc.m.terms.WhiteoutFiles {
		f = markerFile(f)
	}
	if lc.l.blob != nil {
		f = blobFinding(f, lc.l.blob.Path)
	}
	f.ObjectType, f.Object = ObjectLayer, lc.l.ChainID.String()
	if f.Check == "" {
		f.Check = f.Kind.Check()
	}
	lc.res.findings = append(lc.res.findings, f)
}

// produce decodes tar-split entries in order, hands each file entry to the
// readers and passes everything on to the hasher.
func (lc *layerCheck) produce(ctx context.Context, ordered chan<- *batch) {
	defer close(ordered)
	b := newBatch()
	flush := func() {
		if len(b.entries) > 0 {
			lc.p.jobs <- b
			ordered <- b
			b = newBatch()
		}
	}
	defer flush()
	dec, err := lc.open()
	if err != nil {
		lc.decodeErr = err
		return
	}
	defer dec.Close()
	seen := map[string]bool{}
	var segs segList
	var pad, segBytes int64
	var te storage.Entry // reused: Next fills it anew, and what is kept of it is copied out
	for n := 0; ; n++ {
		if err := dec.Next(&te); err != nil {
			if !errors.Is(err, io.EOF) {
				lc.decodeErr = fmt.Errorf("entry %d: %w", n+1, err)
			}
			break
		}
		if n%1024 == 0 && ctx.Err() != nil {
			break
		}
		switch te.Type {
		case storage.SegmentType:
			// the raw blocks before one file entry: a header or a few (long
			// names, PAX records); never more than one value's worth
			if segBytes += int64(len(te.Payload)); segBytes > tsValueMax {
				lc.decodeErr = fmt.Errorf("entry %d: %w: %d MiB of raw tar blocks before one file entry", n+1, ErrTarSplitTooLarge, segBytes>>20)
				break
			}
			segs.add(te.Payload)
			continue
		case storage.FileType:
			if te.Size < 0 {
				lc.decodeErr = fmt.Errorf("entry %d: negative size %d", n+1, te.Size)
			}
		default:
			lc.decodeErr = fmt.Errorf("entry %d: unknown type %d", n+1, te.Type)
		}
		if lc.decodeErr != nil {
			break
		}
		e := entry{lc: lc, segs: segs.take(), pad: pad, name: te.GetName(), size: te.Size, crc: te.Payload}
		pad, segBytes = (512-te.Size%512)%512, 0
		clean := filepath.Clean(e.name)
		e.dup = seen[clean]
		seen[clean] = true
		e.unsafe = unsafeName(e.name)
		if e.size > 0 {
			e.budget = min(e.size, inlineMax)
			if !lc.p.tryAcquire(e.budget) {
				flush() // the hasher frees budget only for entries it has
				lc.p.acquire(e.budget)
			}
		}
		b.entries = append(b.entries, e)
		if len(b.entries) == batchSize {
			flush()
		}
	}
	if tail := segs.take(); len(tail) > 0 {
		b.entries = append(b.entries, entry{tail: true, segs: tail})
	}
}

// segList collects the raw segments before each file entry in a shared
// slab, so that an entry's list costs no allocation of its own: take
// returns the segments added since the last take, as a slice of the slab
// that later adds cannot overwrite.
type segList struct {
	slab  [][]byte
	start int
}

func (l *segList) add(s []byte) {
	if len(l.slab) == cap(l.slab) {
		// a new slab, the current entry's segments moved to its start
		cur := l.slab[l.start:]
		l.slab = append(make([][]byte, 0, max(256, 2*len(cur))), cur...)
		l.start = 0
	}
	l.slab = append(l.slab, s)
}

func (l *segList) take() [][]byte {
	s := l.slab[l.start:len(l.slab):len(l.slab)]
	l.start = len(l.slab)
	if len(s) == 0 {
		return nil
	}
	return s
}

// open opens the layer's entries: its blob's tar when it comes from a
// blob, else its tar-split.json.gz.
func (lc *layerCheck) open() (entrySource, error) {
	if lc.l.blob != nil {
		src, err := openBlobSource(lc.m.s.FS(), lc.m.bv, lc.l.blob, lc.m.pace)
		lc.src = src
		return src, err
	}
	f, err := os.OpenFile(lc.l.tarSplit, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	gz, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("gzip: %w", err)
	}
	var compressed int64
	if fi, err := f.Stat(); err == nil {
		compressed = fi.Size()
	}
	return tarSplitSource{newTSDecoder(newBoundedReader(gz, tsLimit(compressed), tsValueMax)), f}, nil
}

// unsafeName reports whether a tar name is empty, absolute or leaves the
// directory it is extracted into.
func unsafeName(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsRune(name, 0) {
		return true
	}
	c := path.Clean(name)
	return c == ".." || strings.HasPrefix(c, "../")
}

// relName is a safe tar name as a clean path relative to the layer root
// ("." for the root itself).
func relName(name string) string {
	return strings.TrimPrefix(path.Clean(name), "/")
}

// content hashes the entry's bytes, as Docker's asm.WriteOutputTarStream
// does (every byte of the file, whatever the header says; nothing for
// entries of size 0), and compares them with tar-split's size and CRC.
func (lc *layerCheck) content(e *entry, h hash.Hash) {
	if e.size == 0 {
		return
	}
	d := &e.data
	if d.fd >= 0 {
		lc.stream(e, h)
	}
	if d.err != nil || e.unsafe || !d.read {
		lc.incomplete = true
		if d.err != nil && !e.unsafe {
			lc.add(Finding{Kind: d.errKind, DockerDetects: true, Path: "/" + relName(e.name), File: filepath.Join(lc.diffDir, relName(e.name)),
				Expected: fmt.Sprintf("a regular file of %d bytes", e.size), Actual: d.actual, Message: d.err.Error()})
		}
		return
	}
	if d.inline != nil {
		h.Write(*d.inline)
		lc.p.putBuf(d.inline)
		d.inline = nil
	}
	lc.res.bytes += d.n
	lc.m.live.bytes.Add(d.n)
	var f Finding
	switch {
	case d.n != e.size:
		f = Finding{Kind: KindSizeMismatch, Expected: fmt.Sprintf("%d bytes", e.size), Actual: fmt.Sprintf("%d bytes", d.n),
			Message: "the file's size differs from its tar header: its content was changed (docker save and push fail)"}
	case !crcEqual(e.crc, d.crc):
		f = Finding{Kind: KindContentMismatch, Expected: fmt.Sprintf("crc64 %x", e.crc), Actual: fmt.Sprintf("crc64 %016x", d.crc),
			Message: "the file's bytes differ from those the layer was made with (tar-split CRC-64): its content was changed"}
	default:
		return // the common case: no path is built
	}
	f.DockerDetects, f.Path, f.File = true, "/"+relName(e.name), filepath.Join(lc.diffDir, relName(e.name))
	lc.add(f)
}
