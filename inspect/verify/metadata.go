package verify

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
)

// expectation is what an intact image config says a layerdb entry holds.
type expectation struct {
	diff, parent digest.Digest
	image        *imageInfo
	pos          int // 1 = base
}

// checkMetadata runs every check that reads no layer content.
func (m *model) checkMetadata() {
	expect := m.checkImages()
	m.checkLayerRecords(expect)
	m.checkBlobRecords()
	m.checkSharedCacheIDs()
	m.setDepths()
	for _, l := range m.layerList() {
		m.checkDriverDirs(l)
	}
	for _, l := range m.layerList() {
		m.checkLower(l)
	}
	m.checkContainers()
}

func sortedImages(m map[digest.Digest]*imageInfo) []*imageInfo {
	out := make([]*imageInfo, 0, len(m))
	for _, im := range m {
		out = append(out, im)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// checkImages checks each image's chain against layerdb, its imagedb
// parent and the tags, and returns what intact images expect of layers.
// checkSharedCacheIDs reports layers whose records name one driver dir:
// Docker gives each layer its own, so one of the records is not Docker's,
// and the findings name every claimant.
func (m *model) checkSharedCacheIDs() {
	by := map[string][]*layerInfo{}
	for _, l := range m.layerList() {
		if l.CacheID != "" {
			by[l.CacheID] = append(by[l.CacheID], l)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(by)) {
		ls := by[id]
		if len(ls) < 2 {
			continue
		}
		names := make([]string, len(ls))
		for i, l := range ls {
			names[i] = l.ChainID.String()
		}
		for _, l := range ls {
			p := filepath.Join(l.dir, "cache-id")
			m.add(Finding{Kind: KindLayerDirClaimedTwice, ObjectType: ObjectLayer, Object: l.ChainID.String(), Path: p, File: p,
				Expected: "a driver dir of its own", Actual: id,
				Message: fmt.Sprintf("layer dir %s is named by the records of layers %s: one of the records is not Docker's", id, strings.Join(names, ", "))})
		}
	}
}

func (m *model) checkImages() map[digest.Digest]*expectation {
	expect := map[digest.Digest]*expectation{}
	for _, im := range sortedImages(m.images) {
		for i, c := range im.chains {
			l := m.layers[c]
			if l == nil {
				if im.intact {
					p := m.s.LayerPath(c)
					m.add(Finding{Kind: KindImageLayerMissing, ObjectType: ObjectImage, Object: im.ID.String(), Path: p, File: p,
						Expected: c.String(), Message: fmt.Sprintf("layer %d of %d (diff_id %s) has no layerdb entry", i+1, len(im.chains), im.diffs()[i])})
				}
				continue
			}
			l.users = append(l.users, im)
			if im.intact && expect[c] == nil {
				e := &expectation{diff: im.diffs()[i], image: im, pos: i + 1}
				if i > 0 {
					e.parent = im.chains[i-1]
				}
				expect[c] = e
			}
		}
		if parent, p, err := m.md.ImageParent(im.ID); err == nil && m.images[parent] == nil {
			m.add(Finding{Kind: KindImageParentMissing, ObjectType: ObjectImage, Object: im.ID.String(), Path: p, File: p,
				Expected: "an image in imagedb", Actual: parent.String(), Message: "the image's recorded parent image does not exist"})
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			m.add(Finding{Kind: KindImageParentMissing, ObjectType: ObjectImage, Object: im.ID.String(), Path: p, File: p, Message: err.Error()})
		}
	}
	ids := make([]digest.Digest, 0, len(m.tags))
	for id := range m.tags {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if m.images[id] == nil {
			p := m.s.ImagePath("repositories.json")
			m.add(Finding{Kind: KindTagDangling, ObjectType: ObjectImage, Object: id.String(), Path: p, File: p,
				Expected: "an imagedb config " + id.Encoded(), Actual: "missing",
				Message: fmt.Sprintf("%s point(s) at an image that does not exist", strings.Join(m.tags[id], ", "))})
		}
	}
	return expect
}

// checkLayerRecords checks each layerdb entry's diff and parent against
// the images and its name against the ChainID formula, and that its parent
// exists.
func (m *model) checkLayerRecords(expect map[digest.Digest]*expectation) {
	for _, l := range m.layerList() {
		obj := l.ChainID.String()
		e := expect[l.ChainID]
		explained := false
		if e != nil && l.DiffID != "" && l.DiffID != e.diff {
			p := filepath.Join(l.dir, "diff")
			m.add(Finding{Kind: KindLayerDiffMismatch, ObjectType: ObjectLayer, Object: obj, Path: p, File: p,
				Expected: e.diff.String(), Actual: l.DiffID.String(),
				Message: fmt.Sprintf("the layerdb diff file disagrees with image %s (layer %d) and with the layer's own chain ID", e.image.name(), e.pos)})
			explained = true
		}
		if e != nil && l.readable && l.Parent != e.parent {
			p := filepath.Join(l.dir, "parent")
			m.add(Finding{Kind: KindLayerParentMismatch, ObjectType: ObjectLayer, Object: obj, Path: p, File: p,
				Expected: orNone(e.parent.String()), Actual: orNone(l.Parent.String()),
				Message: fmt.Sprintf("the layerdb parent disagrees with image %s (layer %d)", e.image.name(), e.pos)})
			explained = true
		}
		if !explained && l.DiffID != "" {
			if got := inspect.ChainID(l.Parent, l.DiffID); got != l.ChainID {
				m.add(Finding{Kind: KindChainIDMismatch, ObjectType: ObjectLayer, Object: obj, Path: l.dir, File: l.dir,
					Expected: l.ChainID.String(), Actual: got.String(),
					Message: "the layerdb dir name is not ChainID(parent, diff): its diff or parent file was changed"})
			}
		}
		l.trusted = l.DiffID
		if e != nil {
			l.trusted = e.diff
		}
		if l.Parent != "" && m.layers[l.Parent] == nil {
			p := filepath.Join(l.dir, "parent")
			m.add(Finding{Kind: KindParentMissing, ObjectType: ObjectLayer, Object: obj, Path: p, File: p,
				Expected: "a layerdb entry", Actual: l.Parent.String(), Message: "the parent layer does not exist"})
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// checkDriverDirs checks the layer's dirs in the driver's home (its
// layer dir and content dir), its short link file, and that the short
// link names it.
func (m *model) checkDriverDirs(l *layerInfo) {
	if l.CacheID == "" {
		return
	}
	obj := l.ChainID.String()
	// A driver without short links names the layer by its id alone.
	l.ref = m.graph.LowerRef(l.CacheID, "")
	for _, p := range layerDirs(m.graph.Layout(l.CacheID)) {
		if fi, err := m.s.FS().Lstat(p); err != nil || !fi.IsDir() {
			m.add(Finding{Kind: KindCacheDirMissing, ObjectType: ObjectLayer, Object: obj, Path: p, File: p,
				Expected: "a directory", Actual: describePath(m.s.FS(), p, fi, err),
				Message: "the layer's content directory (layerdb cache-id) is gone: its files cannot be read"})
			return
		}
	}
	l.cacheOK = true
	link, err := m.graph.Link(l.CacheID)
	if err != nil {
		p := m.graph.LinkFile(l.CacheID)
		m.add(Finding{Kind: KindLinkMalformed, ObjectType: ObjectLayer, Object: obj, Path: p, File: p, Message: err.Error()})
		return
	}
	if link != "" {
		l.ref = m.graph.LowerRef(l.CacheID, link)
		m.checkShortLink(ObjectLayer, obj, link, l.CacheID)
	}
}

// layerDirs are the dirs of a layer that must exist: its own dir and,
// when it is a subdir, its content dir.
func layerDirs(lay inspect.Layout) []string {
	if lay.Content == lay.Dir || lay.Content == "" {
		return []string{lay.Dir}
	}
	return []string{lay.Dir, lay.Content}
}

// checkShortLink checks that the driver's short link link names layer id.
func (m *model) checkShortLink(objType ObjectType, obj, link, id string) {
	got, p, err := m.graph.ShortLink(link)
	want := m.graph.LinkTarget(id)
	switch {
	case err != nil:
		actual := "missing"
		if t, e := m.s.FS().Readlink(p); e == nil {
			actual = t
		} else if !errors.Is(e, fs.ErrNotExist) {
			actual = e.Error()
		}
		m.add(Finding{Kind: KindLinkBroken, ObjectType: objType, Object: obj, Path: p, File: p, Expected: want, Actual: actual,
			Message: "the short link that lower files and mounts use for this layer does not resolve to it"})
	case got != id:
		m.add(Finding{Kind: KindLinkBroken, ObjectType: objType, Object: obj, Path: p, File: p, Expected: want, Actual: m.graph.LinkTarget(got),
			Message: "the short link points at another layer: mounts would stack the wrong content"})
	}
}

// lowersOf lists the parents file entries of a layer stacked on l: l's
// ref, then its parents', base last. ok is false when one is unknown.
func (m *model) lowersOf(l *layerInfo) ([]string, bool) {
	var refs []string
	for p := l; p != nil; p = m.layers[p.Parent] {
		if p.ref == "" || p.depth == 0 {
			return nil, false
		}
		refs = append(refs, p.ref)
		if p.Parent == "" {
			break
		}
	}
	return refs, true
}

// checkLower checks the layer's parents file against the chain.
func (m *model) checkLower(l *layerInfo) {
	if !l.cacheOK {
		return
	}
	var want []string
	if l.Parent != "" {
		parent := m.layers[l.Parent]
		if parent == nil {
			return
		}
		var ok bool
		if want, ok = m.lowersOf(parent); !ok {
			return
		}
	}
	m.compareLowers(ObjectLayer, l.ChainID.String(), l.CacheID, want)
	m.checkUnowned(l)
}

// checkUnowned checks that the dirs of the snapshots a layer's parents
// list holds but that are no layer (Lower.Unowned: a build container's
// -init, on which a classic build's RUN layer sits) exist: every image and
// container on the layer stacks them.
func (m *model) checkUnowned(l *layerInfo) {
	lws, _, err := m.graph.Lowers(l.CacheID)
	if err != nil {
		return
	}
	for _, lw := range lws {
		if !lw.Unowned || lw.Err != nil {
			continue
		}
		for _, p := range layerDirs(m.graph.Layout(lw.ID)) {
			if fi, err := m.s.FS().Lstat(p); err != nil || !fi.IsDir() {
				m.add(Finding{Kind: KindCacheDirMissing, ObjectType: ObjectLayer, Object: l.ChainID.String(), Path: p, File: p,
					Expected: "a directory", Actual: describePath(m.s.FS(), p, fi, err),
					Message: fmt.Sprintf("the dir of %s, which the layer sits on (it is in its %s), is gone: no image or container on the layer can be mounted", lw.Ref, m.terms.Lowers)})
				break
			}
		}
	}
}

// compareLowers compares the parents file of layer id (Layout.Parents)
// with want, its entries nearest first (none for a base layer).
func (m *model) compareLowers(objType ObjectType, obj, id string, want []string) {
	p := m.graph.Layout(id).Parents
	lws, exists, err := m.graph.Lowers(id)
	kind := KindLowerMismatch
	if objType == ObjectContainer {
		kind = KindContainerLowerMismatch
	}
	var got []string
	for _, lw := range lws {
		if lw.Unowned && lw.Err == nil {
			// in the chain but no layer of it (a classic build's RUN
			// layer sits on its build container's -init): checked by
			// checkUnowned
			continue
		}
		got = append(got, lw.Ref)
	}
	file := m.terms.Lowers
	w, g := strings.Join(want, " "), strings.Join(got, " ")
	add := func(expected, actual, msg string) {
		m.add(Finding{Kind: kind, ObjectType: objType, Object: obj, Path: p, File: p, Expected: expected, Actual: actual, Message: msg})
	}
	switch needed := len(want) > 0 || m.graph.BaseParents(); {
	case err != nil && !needed:
		add("no "+file+" (a base layer)", err.Error(), "a base layer has a "+file)
	case err != nil:
		add(w, err.Error(), "the "+file+" does not parse: the layers below cannot be stacked")
	case !needed && exists:
		add("no "+file+" (a base layer)", orNone(g), "a base layer has a "+file)
	case needed && !exists:
		add(orNone(w), "missing", "the "+file+" is missing: the layers below cannot be stacked")
	case !slices.Equal(got, want):
		add(orNone(w), orNone(g), "the "+file+" does not list the layers below, nearest first, as the layer chain says")
	}
}
