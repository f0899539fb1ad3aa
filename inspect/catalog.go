package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// FindImage resolves an image reference the way the engine does for a
// local image (moby daemon/images GetImage): a full image ID
// ("sha256:<64 hex>" or the 64 hex digits); a reference that
// repositories.json holds ("name:tag", "name@sha256:…", or "name" for
// "name:latest"; a leading "docker.io/" and "library/" may be written or
// left out); or a unique prefix of an image ID, with or without "sha256:".
// A reference wins over an ID prefix. Errors wrap ErrNotFound or
// ErrAmbiguous.
func (s *Store) FindImage(ref string) (*Image, error) {
	ids, err := s.ImageIDs()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("imagedb %s: %w", s.imageDir("imagedb", "content", "sha256"), err)
	}
	tags, _ := s.Tags() // an unreadable repositories.json: IDs still resolve
	id, err := matchImage(ids, tags, ref)
	if err != nil {
		return nil, err
	}
	return s.Image(id)
}

func matchImage(ids []digest.Digest, tags map[digest.Digest][]string, ref string) (digest.Digest, error) {
	if ref == "" {
		return "", fmt.Errorf("empty image reference: %w", ErrNotFound)
	}
	hex := strings.TrimPrefix(ref, "sha256:")
	if isHex64(hex) {
		id := digest.NewDigestFromEncoded(digest.SHA256, hex)
		for _, d := range ids {
			if d == id {
				return id, nil
			}
		}
		return "", fmt.Errorf("no image %s: %w (no imagedb/content/sha256/%s)", shortID(hex), ErrNotFound, hex)
	}
	want := familiar(ref)
	for id, refs := range tags {
		for _, r := range refs {
			if r == want {
				return id, nil
			}
		}
	}
	var cands []digest.Digest
	if isHexPrefix(hex) {
		for _, d := range ids {
			if strings.HasPrefix(d.Encoded(), hex) {
				cands = append(cands, d)
			}
		}
	}
	switch len(cands) {
	case 1:
		return cands[0], nil
	case 0:
		return "", fmt.Errorf("no image %q: %w (no tag %s in repositories.json, and not the start of an image ID; the store holds %d images: list them with `dlayer images`)",
			ref, ErrNotFound, want, len(ids))
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i] < cands[j] })
	var names []string
	for _, d := range cands {
		n := shortID(d.Encoded())
		if t := tags[d]; len(t) > 0 {
			n += " (" + strings.Join(t, ", ") + ")"
		}
		names = append(names, n)
	}
	return "", fmt.Errorf("image %q: %w: it is a prefix of %d image IDs: %s", ref, ErrAmbiguous, len(cands), strings.Join(names, ", "))
}

// familiar writes ref as repositories.json keys it: without "docker.io/"
// and "library/", and with ":latest" when it has neither tag nor digest.
func familiar(ref string) string {
	r := strings.TrimPrefix(ref, "docker.io/")
	if rest, ok := strings.CutPrefix(r, "library/"); ok && !strings.Contains(rest, "/") {
		r = rest
	}
	last := r[strings.LastIndexByte(r, '/')+1:]
	if !strings.ContainsAny(last, ":@") {
		r += ":latest"
	}
	return r
}

func isHexPrefix(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ImageLayer is one layer of an image: what made it and where it lives.
type ImageLayer struct {
	// Position numbers the layers from the base: 1 = base.
	Position int           `json:"position"`
	DiffID   digest.Digest `json:"diff_id"`
	ChainID  digest.Digest `json:"chain_id"`
	// CacheID names the layer's driver dir; empty when layerdb has no
	// readable entry for ChainID.
	CacheID string `json:"cache_id"`
	// Dir is the layer's driver dir, <root>/overlay2/<cache-id>; DiffDir
	// its content, Dir/diff (a path docker inspect's GraphDriver.Data
	// names).
	Dir     string `json:"dir"`
	DiffDir string `json:"diff_dir"`
	// Link is the layer's short name: l/<Link> -> ../<cache-id>/diff.
	Link string `json:"link"`
	// Size is layerdb's size, Docker's size of the layer (docker history
	// SIZE).
	Size int64 `json:"size"`
	// Created, CreatedBy and Comment are the history entry that made the
	// layer (empty when the history has none for it).
	Created   time.Time `json:"created,omitzero"`
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment,omitempty"`
	// Problems are the kinds of the findings about this layer.
	Problems []FindingKind `json:"problems"`
}

// HistoryEntry is one entry of an image's history, oldest first (docker
// history lists them newest first).
type HistoryEntry struct {
	History
	// Layer is the position of the layer the entry made; 0 for an
	// empty_layer entry (ENV, CMD, LABEL…) and for one that has no layer
	// in rootfs.diff_ids.
	Layer int `json:"layer,omitempty"`
	// Size is the layer's size; 0 for an entry without a layer, as docker
	// history shows it.
	Size int64 `json:"size"`
}

// ImageLayers is an image's layers, base first, with where each lives and
// the history that made them.
type ImageLayers struct {
	Image *Image `json:"-"`
	// Driver is the storage driver ("overlay2", "aufs"); DriverDir its home
	// (<root>/overlay2, <root>/aufs), where the layer dirs live.
	Driver    string         `json:"driver"`
	DriverDir string         `json:"driver_dir"`
	Layers    []ImageLayer   `json:"layers"`
	History   []HistoryEntry `json:"history"`
	Findings  []Finding      `json:"findings"`
}

// ImageLayers reads the layerdb entry, driver dir and short link of every
// layer of img, and maps its history onto them. A missing or damaged entry
// is a finding (also named in that layer's Problems); the other layers are
// still read.
func (s *Store) ImageLayers(img *Image) *ImageLayers {
	x := &ImageLayers{Image: img, Driver: s.Driver, DriverDir: s.graph.Home(), Layers: []ImageLayer{}, History: []HistoryEntry{}, Findings: append([]Finding{}, img.Findings...)}
	diffs := img.Config.RootFS.DiffIDs
	chains := ChainIDs(diffs)
	hist, ok := img.Config.LayerHistory()
	if !ok {
		x.Findings = append(x.Findings, Finding{Kind: "history_mismatch", Path: img.Path,
			Message: fmt.Sprintf("the history has a different number of entries without empty_layer than rootfs.diff_ids has layers (%d)", len(diffs))})
	}
	for i := range diffs {
		var parent digest.Digest
		if i > 0 {
			parent = chains[i-1]
		}
		l, finds := s.imageLayer(diffs[i], chains[i], parent)
		l.Position = i + 1
		l.Created, l.CreatedBy, l.Comment = hist[i].Created, hist[i].CreatedBy, hist[i].Comment
		x.Layers = append(x.Layers, l)
		x.Findings = append(x.Findings, finds...)
	}
	n := 0
	for _, h := range img.Config.History {
		e := HistoryEntry{History: h}
		if !h.EmptyLayer {
			n++
			if n <= len(x.Layers) {
				e.Layer, e.Size = n, x.Layers[n-1].Size
			}
		}
		x.History = append(x.History, e)
	}
	return x
}

// imageLayer reads one layer of an image and checks it against the image's
// chain and the driver dir.
func (s *Store) imageLayer(diff, chain, parent digest.Digest) (ImageLayer, []Finding) {
	out := ImageLayer{DiffID: diff, ChainID: chain, Problems: []FindingKind{}}
	var finds []Finding
	find := func(kind FindingKind, path, format string, args ...any) {
		finds = append(finds, Finding{Kind: kind, Path: path, Message: fmt.Sprintf(format, args...)})
		out.Problems = append(out.Problems, kind)
	}
	db := s.layerDir(chain)
	l, err := s.Layer(chain)
	switch {
	case errors.Is(err, ErrNotFound):
		find("layerdb_missing", db, "layerdb has no entry for layer %s: the image cannot be used", chain)
		return out, finds
	case err != nil:
		find("layer_unreadable", db, "%v", err)
		return out, finds
	}
	out.CacheID, out.Size = l.CacheID, l.Size
	if l.DiffID != diff {
		find("diff_id_mismatch", filepath.Join(db, "diff"), "layerdb says %s, the image config says %s", l.DiffID, diff)
	}
	if l.Parent != parent {
		find("parent_mismatch", filepath.Join(db, "parent"), "parent is %q, the image's chain says %q", l.Parent, parent)
	}
	if got := ChainID(l.Parent, l.DiffID); got != chain {
		find("chain_id_mismatch", db, "the chain ID recomputed from its parent and diff is %s", got)
	}
	dirs := s.graph.Layout(l.CacheID)
	out.Dir, out.DiffDir = dirs.Dir, dirs.Content
	switch fi, err := s.fs.Lstat(dirs.Dir); {
	case errors.Is(err, os.ErrNotExist):
		find("layer_dir_missing", dirs.Dir, "layer %s (cache-id %s) has no dir under %s", chain, l.CacheID, filepath.Dir(dirs.Dir))
		return out, finds
	case err != nil:
		find("layer_dir_unreadable", dirs.Dir, "%v", err)
		return out, finds
	case !fi.IsDir():
		find("layer_dir_malformed", dirs.Dir, "not a directory (%s)", fi.Mode().Type())
		return out, finds
	}
	t := s.graph.Terms()
	if t.HasContentSubdir {
		if fi, err := s.fs.Lstat(dirs.Content); err != nil || !fi.IsDir() {
			find("diff_dir_missing", dirs.Content, "the layer dir has no diff/ dir: its content is gone")
		}
	}
	if !t.ShortLinks {
		return out, finds
	}
	link, err := s.graph.Link(l.CacheID)
	lf := filepath.Join(dirs.Dir, "link")
	switch {
	case errors.Is(err, os.ErrNotExist):
		find("link_file_missing", lf, "the layer dir has no link file: no l/ short name can name it in a lower list")
		return out, finds
	case err != nil:
		find("link_malformed", lf, "%v", err)
		return out, finds
	}
	out.Link = link
	switch id, lp, err := s.graph.ShortLink(link); {
	case errors.Is(err, os.ErrNotExist):
		find("link_missing", lp, "the layer's short link is missing from l/ (its link file names %s)", link)
	case err != nil:
		find("link_malformed", lp, "%v", err)
	case id != l.CacheID:
		find("link_mismatch", lp, "the link file of %s names this link, but it points at %s", l.CacheID, id)
	}
	return out, finds
}
