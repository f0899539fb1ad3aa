package verify

import (
	"errors"
	"io/fs"
	"slices"
	"sort"

	"github.com/opencontainers/go-digest"
)

// finish fills each finding's check and what it affects, and sorts them:
// store, images, layers base first, containers; then by path and kind.
func (m *model) finish() []Finding {
	byID := m.containerNames()
	out := make([]Finding, 0, len(m.findings))
	gone := map[string]bool{}
	for _, f := range m.findings {
		if m.vanished(f, gone) {
			m.gone = append(m.gone, f)
			continue
		}
		out = append(out, m.fill(f, byID))
	}
	m.sortFindings(out)
	return out
}

// containerNames maps container IDs to names.
func (m *model) containerNames() map[string]string {
	byID := map[string]string{}
	for _, c := range m.containers {
		byID[c.ID] = c.Name
	}
	return byID
}

// fill sets f's check, whether Docker detects it, and what it affects.
func (m *model) fill(f Finding, byID map[string]string) Finding {
	if f.Check == "" {
		f.Check = f.Kind.Check()
	}
	if f.Check == CheckContent && !f.DockerDetects && m.bv == nil {
		f.DockerDetects = f.Kind == KindDiffIDMismatch || f.Kind == KindContentMismatch || f.Kind == KindTarSplitMalformed
	}
	switch f.ObjectType {
	case ObjectLayer:
		if l := m.layers[digest.Digest(f.Object)]; l != nil {
			f.Affects = m.affectsImages(l.users) // every image built on l holds it in its chain
		}
	case ObjectImage:
		if im := m.images[digest.Digest(f.Object)]; im != nil {
			f.Affects = m.affectsImages([]*imageInfo{im})
		} else if f.Kind == KindTagDangling {
			f.Affects.Images = m.tags[digest.Digest(f.Object)]
		}
	case ObjectBlob:
		f.Affects = m.blobAffects(digest.Digest(f.Object))
	case ObjectContainer:
		if n, ok := byID[f.Object]; ok {
			f.Affects.Containers = []string{n}
		}
	}
	if f.Affects.Images == nil {
		f.Affects.Images = []string{}
	}
	if f.Affects.Containers == nil {
		f.Affects.Containers = []string{}
	}
	return f
}

// sortFindings orders findings: store, images, layers base first,
// containers; then by path and kind.
func (m *model) sortFindings(out []Finding) {
	depth := func(f Finding) int {
		if l := m.layers[digest.Digest(f.Object)]; l != nil && f.ObjectType == ObjectLayer {
			return l.depth
		}
		return 0
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.ObjectType != b.ObjectType:
			return a.ObjectType.rank() < b.ObjectType.rank()
		case depth(a) != depth(b):
			return depth(a) < depth(b)
		case a.Object != b.Object:
			return a.Object < b.Object
		case a.Path != b.Path:
			return a.Path < b.Path
		}
		return a.Kind < b.Kind
	})
}

// vanished reports whether the object of f was removed while the store
// was read (Docker deleting an image or container on a live host): its
// findings are then stale, not damage.
func (m *model) vanished(f Finding, gone map[string]bool) bool {
	var p string
	switch f.ObjectType {
	case ObjectLayer:
		p = m.s.LayerPath(digest.Digest(f.Object))
	case ObjectImage:
		if f.Kind == KindTagDangling {
			return false
		}
		p = m.s.ImagePath("imagedb", "content", "sha256", digest.Digest(f.Object).Encoded())
	case ObjectContainer:
		if f.Kind == KindMountOrphan {
			p = m.s.ImagePath("layerdb", "mounts", f.Object)
		} else {
			p = m.s.Path("containers", f.Object)
		}
	default:
		return false
	}
	if v, ok := gone[p]; ok {
		return v
	}
	_, err := m.s.FS().Lstat(p)
	gone[p] = errors.Is(err, fs.ErrNotExist)
	return gone[p]
}

// affectsImages names the images (tags, or IDs when untagged) and their
// containers. Untagged images with children (a build's intermediate
// images) are left out: their children are named.
func (m *model) affectsImages(ims []*imageInfo) Affects {
	var a Affects
	for _, im := range ims {
		switch {
		case len(im.Tags) > 0:
			a.Images = append(a.Images, im.Tags...)
		case !im.child || len(ims) == 1:
			a.Images = append(a.Images, im.ID.String())
		}
		a.Containers = append(a.Containers, im.ctrs...)
	}
	slices.Sort(a.Images)
	a.Images = slices.Compact(a.Images)
	slices.Sort(a.Containers)
	a.Containers = slices.Compact(a.Containers)
	return a
}
