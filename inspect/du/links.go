package du

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
)

// checkLinks reports what is missing or dangling between layerdb, the
// container records, the driver's layer dirs and its short links (l/),
// when the driver has short links.
func checkLinks(s *inspect.Store, m *meta, p *plan) {
	g := s.Graph()
	dir, links, err := g.ShortLinks()
	switch {
	case errors.Is(err, backend.ErrNoShortLinks):
		checkMissing(s, m, p)
		return
	case err != nil && !errors.Is(err, os.ErrNotExist):
		m.find(KindLinksUnreadable, dir, "%v", err)
	}
	linkTo := map[string]string{} // link name -> id
	for _, l := range links {
		if l.Err != nil {
			m.find(KindLinkMalformed, l.Path, "%v", l.Err)
			continue
		}
		linkTo[l.Name] = l.ID
		if !p.driverNames[l.ID] {
			what := "no such dir under " + layerHome(s)
			if ly := m.byCache[l.ID]; ly != nil {
				what += " (the dir of layer " + string(ly.ChainID) + ", which is missing)"
			}
			m.find(KindDanglingLink, l.Path, "points at %s: %s", l.Target, what)
		}
	}
	ls := filepath.Base(dir) + "/" // "l/"
	for _, e := range p.entries {
		if !p.dir(e.parent).content() {
			continue
		}
		switch e.kind {
		case ownOrphan:
			if strings.HasSuffix(e.name, "-removing") {
				m.find(KindRemovingLeftover, p.path(e), "left by an interrupted removal; counted as an orphan")
			}
			continue
		case ownBookkeeping:
			continue
		}
		link, err := g.Link(e.name)
		lf := g.LinkFile(e.name)
		switch {
		case errors.Is(err, os.ErrNotExist):
			m.find(KindLinkFileMissing, lf, "the layer dir has no link file: no %s short name can name it in a lower list", ls)
		case err != nil:
			m.find(KindLinkMalformed, lf, "%v", err)
		case linkTo[link] == "":
			m.find(KindLinkMissing, filepath.Join(dir, link), "the layer's short link is missing from %s (its link file names %s)", ls, link)
		case linkTo[link] != e.name:
			m.find(KindLinkMismatch, filepath.Join(dir, link), "the link file of %s names this link, but it points at %s", e.name, linkTo[link])
		}
	}
	checkMissing(s, m, p)
}

// checkMissing reports layers and container layers whose dir is gone.
func checkMissing(s *inspect.Store, m *meta, p *plan) {
	g := s.Graph()
	home := layerHome(s)
	imagesOf := map[*Layer][]string{}
	for _, im := range m.images {
		for _, c := range im.Layers {
			if l := m.layers[c]; l != nil {
				imagesOf[l] = append(imagesOf[l], imageName(im))
			}
		}
	}
	for _, c := range m.layerOrder {
		l := m.layers[c]
		if p.driverNames[l.CacheID] {
			if l.MeasuredSize >= 0 && l.MeasuredSize != l.Size {
				m.find(KindLayerSizeMismatch, sizeRecord(s, c),
					"the store records %d bytes, but %s holds %d now (Docker's image sizes use the recorded number)", l.Size, g.Layout(l.CacheID).Content, l.MeasuredSize)
			}
			continue
		}
		l.Missing = true
		msg := "layer " + string(l.ChainID) + " (cache-id " + l.CacheID + ") has no dir under " + home
		if ims := imagesOf[l]; len(ims) > 0 {
			sort.Strings(ims)
			msg += "; it breaks images " + strings.Join(ims, ", ")
		}
		var ctrs []string
		for _, ct := range m.containers {
			if chainHas(m, m.mountParent[ct.ID], l.ChainID) {
				ctrs = append(ctrs, ct.Name)
			}
		}
		if len(ctrs) > 0 {
			sort.Strings(ctrs)
			msg += "; and containers " + strings.Join(ctrs, ", ")
		}
		m.find(KindLayerDirMissing, g.Layout(l.CacheID).Dir, "%s", msg)
	}
	for _, ct := range m.containers {
		if ct.MountID != "" && !p.driverNames[ct.MountID] {
			ct.RWMissing = true
			m.find(KindRWDirMissing, g.Layout(ct.MountID).Dir, "container %s (%s): its rw layer dir is missing", shortID(ct.ID), ct.Name)
		}
		if ct.InitID != "" && !p.driverNames[ct.InitID] {
			ct.InitMissing = true
			m.find(KindInitDirMissing, g.Layout(ct.InitID).Dir, "container %s (%s): its init layer dir is missing", shortID(ct.ID), ct.Name)
		}
	}
	markImageLayers(s, m, "")
}

// markImageLayers sets each image's MissingLayers (no layerdb entry, or no
// dir) and reports the layers an image needs that layerdb lacks; note is
// added to that message.
func markImageLayers(s *inspect.Store, m *meta, note string) {
	for _, im := range m.images {
		for _, c := range im.Layers {
			l := m.layers[c]
			if l == nil {
				m.find(KindImageLayerMissing, s.LayerPath(c), "image %s needs layer %s, which layerdb does not have%s", imageName(im), c, note)
			}
			if l == nil || l.Missing {
				im.MissingLayers = append(im.MissingLayers, c)
			}
		}
	}
}

// layerHome names the dir that holds the layers' content dirs, for
// messages: "overlay2/", "aufs/diff/".
func layerHome(s *inspect.Store) string {
	home := filepath.Base(s.Graph().Home()) + "/"
	if d, ok := s.Graph().HomeLayout().Content(); ok && d.Rel != "" {
		return home + d.Rel + "/"
	}
	return home
}

// chainHas reports whether the chain ending at top holds layer c.
func chainHas(m *meta, top, c digest.Digest) bool {
	for n := 0; top != "" && n < maxChain; n++ {
		if top == c {
			return true
		}
		l := m.layers[top]
		if l == nil {
			return false
		}
		top = l.Parent
	}
	return false
}

// chainSize is Docker's size of the layer chain ending at top: the sum of
// the layerdb sizes (what a container's SizeRootFs adds to its SizeRw).
func chainSize(m *meta, top digest.Digest) int64 {
	var sum int64
	for n := 0; top != "" && n < maxChain; n++ {
		l := m.layers[top]
		if l == nil {
			break
		}
		sum += l.Size
		top = l.Parent
	}
	return sum
}

// maxChain bounds a walk down parent links (a loop in a damaged layerdb).
const maxChain = 10000

// imageName is the first tag of im, or its short ID.
func imageName(im *Image) string {
	if len(im.Tags) > 0 {
		return im.Tags[0]
	}
	return shortID(string(im.ID))
}

// sizeRecord is where the store records layer c's size: layerdb's size
// file, or the layer's record in the store's metadata (containerd's
// snapshot keyed by the chain ID, whose size the snapshotter keeps).
func sizeRecord(s *inspect.Store, c digest.Digest) string {
	if _, ok := s.DirRecords(); ok {
		return s.LayerPath(c)
	}
	return s.LayerPath(c) + "/size"
}
