package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/anatomy"
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/opencontainers/go-digest"
)

// LayersDoc is `dlayer layers --format json`.
type LayersDoc struct {
	Image ImageRow `json:"image"`
	// Layers are base first.
	Layers []LayerRow `json:"layers"`
	// History is every history entry, oldest first, with the layer each
	// made (none for empty_layer entries) and its size.
	History []inspect.HistoryEntry `json:"history"`
	// Waste is the bytes of the image's layers no container of it can
	// see (dlayer layers --contents says which); null without --waste,
	// or when the layers could not be walked.
	Waste    *anatomy.Count    `json:"waste"`
	Findings []inspect.Finding `json:"findings"`
}

// LayerRow is one layer of LayersDoc.
type LayerRow struct {
	inspect.ImageLayer
	// Images are the IDs of every image whose chain holds the layer
	// (intermediate images included), sorted; ImageCount is their number.
	Images     []digest.Digest `json:"images"`
	ImageCount int             `json:"image_count"`
	// Shared: more than one counted image uses the layer, so it is in
	// their SharedSize (Docker's rule).
	Shared bool `json:"shared"`
	// Containers counts the containers whose image holds the layer.
	Containers int `json:"containers"`
}

// LayersOptions choose the table of Layers.
type LayersOptions struct {
	// NoTrunc prints full IDs and whole instructions.
	NoTrunc bool
	// Anatomy, when the layers were walked, gives the waste line.
	Anatomy *anatomy.Report
}

// Layers builds the JSON document of an image's layers; a, when the
// layers were walked, gives its waste.
func Layers(x *inspect.ImageLayers, cat *du.Catalog, a *anatomy.Report) LayersDoc {
	d := LayersDoc{Layers: []LayerRow{}, History: x.History, Findings: x.Findings}
	if a != nil && a.Complete {
		w := a.Waste.Count
		d.Waste = &w
	}
	if im := cat.Image(x.Image.ID); im != nil {
		d.Image = imageRow(cat, *im)
	} else {
		d.Image = ImageRow{ID: x.Image.ID, Tags: x.Image.Tags, Digests: []string{}, Created: x.Image.Config.Created,
			LayerCount: len(x.Layers), ChainIDs: inspect.ChainIDs(x.Image.Config.RootFS.DiffIDs), ContainerNames: []string{}}
	}
	for _, l := range x.Layers {
		r := LayerRow{ImageLayer: l, Images: []digest.Digest{}}
		if cl := cat.Layer(l.ChainID); cl != nil {
			r.Images = append(r.Images, cl.Images...)
			r.Shared, r.Containers = cl.Shared, cl.Containers
		}
		r.ImageCount = len(r.Images)
		d.Layers = append(d.Layers, r)
	}
	d.Image.Waste = d.Waste
	return d
}

// LayersJSON writes LayersDoc as JSON.
func LayersJSON(w io.Writer, p Provenance, x *inspect.ImageLayers, cat *du.Catalog, a *anatomy.Report) error {
	return JSON(w, LayersDocument{NewHeader(SchemaLayers, p), Layers(x, cat, a)})
}

// LayersTable writes an image's layers base first: one row per history
// entry (those that made no layer have no position and size 0, as in
// docker history), each layer with its IDs, short link and sharing.
func LayersTable(w io.Writer, x *inspect.ImageLayers, cat *du.Catalog, opt LayersOptions) error {
	d := Layers(x, cat, opt.Anatomy)
	p := &printer{w: w}
	im := d.Image
	name := strings.Join(append(append([]string{}, im.Tags...), im.Digests...), ", ")
	if name == "" {
		name = refsCell(im)
	}
	wrap(p, "", fmt.Sprintf("Image %s (%s): %d %s, size %s (shared %s, unique %s), %d %s", Escape(name), short(im.ID),
		im.LayerCount, plural(im.LayerCount, "layer", "layers"), HumanBytes(im.Size), HumanBytes(im.SharedSize), HumanBytes(im.UniqueSize),
		im.Containers, plural(im.Containers, "container", "containers")))
	wrap(p, "", "Base layer first (docker history lists newest first); a row without POS is a history entry that "+
		"made no layer. "+layerDirsText(x, cat)+" IMAGES: how many images hold the layer.")
	if a := opt.Anatomy; a != nil && a.Complete && a.Waste.Entries > 0 {
		wrap(p, "", "Waste: "+WasteLine(a)+"; dlayer layers --contents says which and why.")
	}
	p.f("\n")
	if p.err != nil {
		return p.err
	}
	id := short
	width := 80
	if opt.NoTrunc {
		id = func(d digest.Digest) string { return string(d) }
		width = 1 << 20
	}
	cell := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	row := func(l LayerRow) []string {
		cache := l.CacheID
		if !opt.NoTrunc {
			cache = shortID(cache)
		}
		link := "-"
		if l.Link != "" {
			link = "l/" + l.Link
		}
		status := "ok"
		if len(l.Problems) > 0 {
			kinds := make([]string, len(l.Problems))
			for i, k := range l.Problems {
				kinds[i] = k.String()
			}
			status = strings.Join(kinds, ",")
		}
		return []string{fmtInt(int64(l.Position)), HumanBytes(l.Size), fmtInt(int64(l.ImageCount)), cell(id(l.DiffID)), cell(id(l.ChainID)),
			cell(cache), link, status, Escape(clip(createdBy(l.CreatedBy, l.Comment), width))}
	}
	var rows [][]string
	used := map[int]bool{}
	for _, h := range d.History {
		if h.Layer > 0 {
			used[h.Layer] = true
			rows = append(rows, row(d.Layers[h.Layer-1]))
			continue
		}
		rows = append(rows, []string{"-", HumanBytes(h.Size), "", "", "", "", "", "", Escape(clip(createdBy(h.CreatedBy, h.Comment), width))})
	}
	for _, l := range d.Layers {
		if !used[l.Position] {
			l.CreatedBy = "(no history entry)"
			rows = append(rows, row(l))
		}
	}
	return table(w, []string{"pos", "size", "images", "diff id", "chain id", "cache id", "link", "status", "created by"}, rows)
}

// createdBy is a history entry as a Dockerfile instruction, or its
// comment when it has no created_by (docker import: "Imported from -").
func createdBy(by, comment string) string {
	if strings.TrimSpace(by) == "" {
		return comment
	}
	return Instruction(by)
}

// layerDirsText says where a layer's files are and how the layers below it
// are named, in the driver's words: "Layer dirs: <home>/<cache id>/diff;
// l/<link> -> ../<cache id>/diff."
func layerDirsText(x *inspect.ImageLayers, cat *du.Catalog) string {
	lay := cat.Layout
	switch {
	case lay.Content == "":
		return "Layer dirs: under " + Escape(x.DriverDir) + "."
	case cat.Home.LinkForm != "":
		return "Layer dirs: " + Escape(lay.Content) + "; " + cat.Home.LinkForm + "."
	case lay.Parents != "":
		return "Layer dirs: " + Escape(lay.Content) + "; the layers below each are listed in " + Escape(lay.Parents) + "."
	}
	return "Layer dirs: " + Escape(lay.Content) + "."
}
