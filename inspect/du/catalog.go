package du

import (
	"errors"
	"os"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
)

// Catalog is what the store's metadata alone says about its images and
// layers: Docker's image Size, SharedSize and UniqueSize (computed exactly
// as for Audit, and as /system/df does), which images hold each layer, and
// which containers use each image. It is what `dlayer images` and `dlayer
// layers` show.
//
// No tree is walked, so it is fast on any store; the fields that need a
// walk are left empty: DiskUsage and UniqueDiskUsage of Images, Layer
// MeasuredSize (-1), DiskUsage and Files, and every size of Containers. A
// layer dir is only Lstat-ed, to set Layer.Missing and Image.MissingLayers.
type Catalog struct {
	// Images are sorted as docker images sorts them: newest Created
	// first, then by ID.
	Images []Image
	// Layers are sorted by chain ID.
	Layers []Layer
	// Containers are every container of the store (containers/*/ and
	// layerdb/mounts), sorted by ID.
	Containers []Container
	// Findings are problems met in the metadata: unreadable entries,
	// layers an image needs that layerdb lacks, missing layer dirs.
	Findings []inspect.Finding

	// Terms and Home are the driver's words and traits and how its home
	// is laid out; Layout is the layout of a layer dir with "<cache id>"
	// for its id. For reports.
	Terms  backend.Terms      `json:"-"`
	Home   backend.HomeLayout `json:"-"`
	Layout backend.Layout     `json:"-"`
}

// ReadCatalog indexes the store's metadata (images, tags, layers,
// containers and their rw layers, as the Store has read them) and derives
// the catalog. A damaged
// entry is a finding; only an unreadable listing of a whole store is an
// error.
func ReadCatalog(s *inspect.Store) (*Catalog, error) {
	m, err := readMeta(s)
	if err != nil {
		return nil, err
	}
	shareLayers(m)
	for _, c := range m.layerOrder {
		l := m.layers[c]
		if _, err := s.FS().Lstat(l.Dir); err != nil {
			l.Missing = true
			if !errors.Is(err, os.ErrNotExist) {
				m.find(KindLayerDirUnreadable, l.Dir, "%v", err)
			} else {
				m.find(KindLayerDirMissing, l.Dir, "layer %s (cache-id %s) has no dir under %s", l.ChainID, l.CacheID, layerHome(s))
			}
		}
	}
	markImageLayers(s, m, " (its Size leaves it out)")
	g := s.Graph()
	cat := &Catalog{Findings: []inspect.Finding{}, Terms: g.Terms(), Home: g.HomeLayout(), Layout: layerForm(g, m)}
	for _, im := range m.images {
		cat.Images = append(cat.Images, *im)
	}
	sort.SliceStable(cat.Images, func(i, j int) bool {
		a, b := cat.Images[i], cat.Images[j]
		return a.Created.After(b.Created) || a.Created.Equal(b.Created) && a.ID < b.ID
	})
	for _, c := range m.layerOrder {
		cat.Layers = append(cat.Layers, *m.layers[c])
	}
	sort.Slice(cat.Layers, func(i, j int) bool { return cat.Layers[i].ChainID < cat.Layers[j].ChainID })
	for _, ct := range m.containers {
		cat.Containers = append(cat.Containers, *ct)
	}
	sort.Slice(cat.Containers, func(i, j int) bool { return cat.Containers[i].ID < cat.Containers[j].ID })
	cat.Findings = append(cat.Findings, m.finds...)
	return cat, nil
}

// Layer returns the layer with chain ID c, or nil.
func (c *Catalog) Layer(chain digest.Digest) *Layer {
	i := sort.Search(len(c.Layers), func(i int) bool { return c.Layers[i].ChainID >= chain })
	if i < len(c.Layers) && c.Layers[i].ChainID == chain {
		return &c.Layers[i]
	}
	return nil
}

// Image returns the image with ID id, or nil.
func (c *Catalog) Image(id digest.Digest) *Image {
	for i := range c.Images {
		if c.Images[i].ID == id {
			return &c.Images[i]
		}
	}
	return nil
}

// ContainersOf returns the names of the containers created from image id
// (those /system/df counts in the image's Containers), sorted.
func (c *Catalog) ContainersOf(id digest.Digest) []string {
	names := []string{}
	for _, ct := range c.Containers {
		if ct.ImageID == id {
			names = append(names, ct.Name)
		}
	}
	sort.Strings(names)
	return names
}

// ReadLayers is what `dlayer layers` shows of image img: its layers, base
// first, as the store has them (where each lives, the history that made
// it, findings about it), and the catalog that says which images and
// containers share each. The store's metadata is read once for both.
func ReadLayers(s *inspect.Store, img *inspect.Image) (*inspect.ImageLayers, *Catalog, error) {
	cat, err := ReadCatalog(s)
	if err != nil {
		return nil, nil, err
	}
	return s.ImageLayers(img), cat, nil
}

// layerForm is how the driver lays out an image layer's dir, its id
// written "<cache id>", for reports: the layout of one of the store's
// layers (the legacy overlay driver lays out an image layer, root/, apart
// from a container's, upper/ and lower-id), or of "<cache id>" in a
// store without any.
func layerForm(g backend.Driver, m *meta) backend.Layout {
	for _, c := range m.layerOrder {
		l := m.layers[c]
		if l.CacheID == "" || l.Missing {
			continue
		}
		lay := g.Layout(l.CacheID)
		r := func(p string) string {
			home, rest := "", p
			if x, ok := strings.CutPrefix(p, g.Home()); ok {
				home, rest = g.Home(), x // the id is a number that the home's name may hold
			}
			return home + strings.ReplaceAll(rest, l.CacheID, "<cache id>")
		}
		return backend.Layout{Dir: r(lay.Dir), Content: r(lay.Content), Work: r(lay.Work), Merged: r(lay.Merged), Parents: r(lay.Parents)}
	}
	return g.Layout("<cache id>")
}
