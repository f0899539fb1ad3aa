package verify

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/layerfs"
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
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// checkImages checks each image's chain against layerdb, its imagedb
// parent and the tags, and returns what intact images expect of layers.
func (m *model) checkImages() map[digest.Digest]*expectation {
	expect := map[digest.Digest]*expectation{}
	for _, im := range sortedImages(m.images) {
		for i, c := range im.chains {
			l := m.layers[c]
			if l == nil {
				if im.intact {
					p := m.s.LayerPath(c)
					m.add(Finding{Kind: KindImageLayerMissing, ObjectType: ObjectImage, Object: im.id.String(), Path: p, File: p,
						Expected: c.String(), Message: fmt.Sprintf("layer %d of %d (diff_id %s) has no layerdb entry", i+1, len(im.chains), im.diffs[i])})
				}
				continue
			}
			l.users = append(l.users, im)
			if im.intact && expect[c] == nil {
				e := &expectation{diff: im.diffs[i], image: im, pos: i + 1}
				if i > 0 {
					e.parent = im.chains[i-1]
				}
				expect[c] = e
			}
		}
		p := m.s.ImagePath("imagedb", "metadata", "sha256", im.id.Encoded(), "parent")
		if parent, err := readDigest(p); err == nil && m.images[parent] == nil {
			m.add(Finding{Kind: KindImageParentMissing, ObjectType: ObjectImage, Object: im.id.String(), Path: p, File: p,
				Expected: "an image in imagedb", Actual: parent.String(), Message: "the image's recorded parent image does not exist"})
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			m.add(Finding{Kind: KindImageParentMissing, ObjectType: ObjectImage, Object: im.id.String(), Path: p, File: p, Message: err.Error()})
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
		obj := l.chain.String()
		e := expect[l.chain]
		explained := false
		if e != nil && l.diff != "" && l.diff != e.diff {
			p := filepath.Join(l.dir, "diff")
			m.add(Finding{Kind: KindLayerDiffMismatch, ObjectType: ObjectLayer, Object: obj, Path: p, File: p,
				Expected: e.diff.String(), Actual: l.diff.String(),
				Message: fmt.Sprintf("the layerdb diff file disagrees with image %s (layer %d) and with the layer's own chain ID", e.image.name(), e.pos)})
			explained = true
		}
		if e != nil && l.readable && l.parent != e.parent {
			p := filepath.Join(l.dir, "parent")
			m.add(Finding{Kind: KindLayerParentMismatch, ObjectType: ObjectLayer, Object: obj, Path: p, File: p,
				Expected: orNone(e.parent.String()), Actual: orNone(l.parent.String()),
				Message: fmt.Sprintf("the layerdb parent disagrees with image %s (layer %d)", e.image.name(), e.pos)})
			explained = true
		}
		if !explained && l.diff != "" {
			if got := inspect.ChainID(l.parent, l.diff); got != l.chain {
				m.add(Finding{Kind: KindChainIDMismatch, ObjectType: ObjectLayer, Object: obj, Path: l.dir, File: l.dir,
					Expected: l.chain.String(), Actual: got.String(),
					Message: "the layerdb dir name is not ChainID(parent, diff): its diff or parent file was changed"})
			}
		}
		l.trusted = l.diff
		if e != nil {
			l.trusted = e.diff
		}
		if l.parent != "" && m.layers[l.parent] == nil {
			p := filepath.Join(l.dir, "parent")
			m.add(Finding{Kind: KindParentMissing, ObjectType: ObjectLayer, Object: obj, Path: p, File: p,
				Expected: "a layerdb entry", Actual: l.parent.String(), Message: "the parent layer does not exist"})
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// checkDriverDirs checks overlay2/<cache-id>/, its diff/ and link, and
// that l/<link> names it.
func (m *model) checkDriverDirs(l *layerInfo) {
	if l.cacheID == "" {
		return
	}
	obj := l.chain.String()
	if m.aufs {
		l.cacheOK = m.aufsDirs(ObjectLayer, obj, l.cacheID, "the layer's content directory (layerdb cache-id) is gone: its files cannot be read")
		return
	}
	dirs := m.home.Dirs(l.cacheID)
	for _, p := range []string{dirs.Layer, dirs.Diff} {
		if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
			m.add(Finding{Kind: KindCacheDirMissing, ObjectType: ObjectLayer, Object: obj, Path: p, File: p,
				Expected: "a directory", Actual: describeLstat(fi, err),
				Message: "the layer's content directory (layerdb cache-id) is gone: its files cannot be read"})
			return
		}
	}
	l.cacheOK = true
	link, err := m.home.Link(l.cacheID)
	if err != nil {
		p := filepath.Join(dirs.Layer, "link")
		m.add(Finding{Kind: KindLinkMalformed, ObjectType: ObjectLayer, Object: obj, Path: p, File: p, Message: err.Error()})
		return
	}
	l.link = link
	m.checkShortLink(ObjectLayer, obj, link, l.cacheID)
}

// checkShortLink checks that l/<link> is the symlink ../<id>/diff.
func (m *model) checkShortLink(objType, obj, link, id string) {
	p := filepath.Join(m.home.Dir, "l", link)
	want := "../" + id + "/diff"
	got, err := m.home.ResolveLink(link)
	switch {
	case err != nil:
		actual := "missing"
		if t, e := os.Readlink(p); e == nil {
			actual = t
		} else if !errors.Is(e, fs.ErrNotExist) {
			actual = e.Error()
		}
		m.add(Finding{Kind: KindLinkBroken, ObjectType: objType, Object: obj, Path: p, File: p, Expected: want, Actual: actual,
			Message: "the short link that lower files and mounts use for this layer does not resolve to it"})
	case got != id:
		m.add(Finding{Kind: KindLinkBroken, ObjectType: objType, Object: obj, Path: p, File: p, Expected: want, Actual: "../" + got + "/diff",
			Message: "the short link points at another layer: mounts would stack the wrong content"})
	}
}

// lowerOf is the lower file a layer on top of l must have: l's link,
// then its parents', base last. ok is false when a link is unknown.
func (m *model) lowerOf(l *layerInfo) (string, bool) {
	var refs []string
	for p := l; p != nil; p = m.layers[p.parent] {
		if p.link == "" || p.depth == 0 {
			return "", false
		}
		refs = append(refs, "l/"+p.link)
		if p.parent == "" {
			break
		}
	}
	return strings.Join(refs, ":"), true
}

// checkLower checks overlay2/<cache-id>/lower against the chain.
func (m *model) checkLower(l *layerInfo) {
	if !l.cacheOK {
		return
	}
	want, ok := "", true
	if l.parent != "" {
		parent := m.layers[l.parent]
		if parent == nil {
			return
		}
		if m.aufs {
			m.compareParents(ObjectLayer, l.chain.String(), l.cacheID, m.parentIDs(parent))
			return
		}
		if want, ok = m.lowerOf(parent); !ok {
			return
		}
	}
	if m.aufs {
		m.compareParents(ObjectLayer, l.chain.String(), l.cacheID, nil)
		return
	}
	m.compareLower(ObjectLayer, l.chain.String(), m.home.Dirs(l.cacheID).Layer, want)
}

// aufsDirs checks that aufs/diff/<id> is a directory; what says what its
// loss means.
func (m *model) aufsDirs(objType, obj, id, what string) bool {
	p := m.graph.Layout(id).Content
	fi, err := os.Lstat(p)
	if err == nil && fi.IsDir() {
		return true
	}
	kind := KindCacheDirMissing
	if objType == ObjectContainer {
		kind = KindContainerLayerMissing
	}
	m.add(Finding{Kind: kind, ObjectType: objType, Object: obj, Path: p, File: p,
		Expected: "a directory", Actual: describeLstat(fi, err), Message: what})
	return false
}

// parentIDs lists the cache-ids of l and the layers below it, top first:
// what aufs/layers/<id> of a layer on top of l must say. It stops at an
// unknown cache-id.
func (m *model) parentIDs(l *layerInfo) []string {
	var ids []string
	for p := l; p != nil; p = m.layers[p.parent] {
		ids = append(ids, p.cacheID)
		if p.parent == "" {
			break
		}
	}
	return ids
}

// compareParents compares aufs/layers/<id> with want (cache-ids, nearest
// first; none for a base layer, whose file is empty).
func (m *model) compareParents(objType, obj, id string, want []string) {
	p := m.graph.Layout(id).Parents
	lws, exists, err := m.graph.Lowers(id)
	kind := KindLowerMismatch
	if objType == ObjectContainer {
		kind = KindContainerLowerMismatch
	}
	var got []string
	for _, lw := range lws {
		got = append(got, lw.ID)
	}
	w, g := strings.Join(want, " "), strings.Join(got, " ")
	switch {
	case err != nil:
		m.add(Finding{Kind: kind, ObjectType: objType, Object: obj, Path: p, File: p, Expected: orNone(w), Actual: err.Error(),
			Message: "the layers file does not parse: aufs cannot stack the layers below"})
	case !exists:
		m.add(Finding{Kind: kind, ObjectType: objType, Object: obj, Path: p, File: p, Expected: orNone(w), Actual: "missing",
			Message: "the layers file is missing: the layers below cannot be stacked"})
	case g != w:
		m.add(Finding{Kind: kind, ObjectType: objType, Object: obj, Path: p, File: p, Expected: orNone(w), Actual: orNone(g),
			Message: "the layers file does not list the layers below, nearest first, as the layer chain says"})
	}
}

// compareLower compares <dir>/lower with want ("" = no lower file).
func (m *model) compareLower(objType, obj, dir, want string) {
	p := filepath.Join(dir, "lower")
	got, err := layerfs.ReadSmallFile(p, 1<<20)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		got, exists = err.Error(), true
	}
	kind := KindLowerMismatch
	if objType == ObjectContainer {
		kind = KindContainerLowerMismatch
	}
	switch {
	case want == "" && exists:
		m.add(Finding{Kind: kind, ObjectType: objType, Object: obj, Path: p, File: p, Expected: "no lower file (a base layer)", Actual: got,
			Message: "a base layer has a lower file"})
	case want != "" && !exists:
		m.add(Finding{Kind: kind, ObjectType: objType, Object: obj, Path: p, File: p, Expected: want, Actual: "missing",
			Message: "the lower file is missing: the layers below cannot be stacked"})
	case want != "" && got != want:
		m.add(Finding{Kind: kind, ObjectType: objType, Object: obj, Path: p, File: p, Expected: want, Actual: got,
			Message: "the lower file does not list the layers below, uppermost first, as the layer chain says"})
	}
}
