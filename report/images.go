package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect/anatomy"
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/docker/go-units"
	"github.com/opencontainers/go-digest"
)

// ImageRow is one image of `dlayer images --format json`. Sizes are bytes,
// computed as the engine's /system/df computes them.
type ImageRow struct {
	// ID is the full image ID, "sha256:<64 hex>".
	ID digest.Digest `json:"id"`
	// Tags are the "name:tag" references of repositories.json, Digests
	// the "name@sha256:…" ones; both sorted, empty when there are none.
	Tags    []string `json:"tags"`
	Digests []string `json:"digests"`
	// Dangling: no reference at all and no child image (what docker image
	// prune removes).
	Dangling bool `json:"dangling"`
	// Counted: listed by docker images without -a and by docker system
	// df: it has a reference, or no child. An image that is not counted is
	// an intermediate image (docker images -a shows it as <none>).
	Counted bool `json:"counted"`
	// Parent is imagedb's parent (locally built images); Children the
	// number of images whose parent it is.
	Parent   digest.Digest `json:"parent,omitempty"`
	Children int           `json:"children"`
	// Created is the image config's created time.
	Created time.Time `json:"created"`
	// LayerCount is len(ChainIDs): the layers of rootfs.diff_ids, base
	// first, named by chain ID (the layerdb dir names).
	LayerCount int             `json:"layer_count"`
	ChainIDs   []digest.Digest `json:"chain_ids"`
	// Size is the sum of the layers' layerdb sizes; SharedSize the part in
	// layers that more than one counted image uses; UniqueSize = Size -
	// SharedSize.
	Size       int64 `json:"size"`
	SharedSize int64 `json:"shared_size"`
	UniqueSize int64 `json:"unique_size"`
	// Containers counts the containers created from the image;
	// ContainerNames names them, sorted.
	Containers     int      `json:"containers"`
	ContainerNames []string `json:"container_names"`
	// MissingLayers are chain IDs whose layerdb entry or driver dir is
	// missing (Size leaves out those without a layerdb entry).
	MissingLayers []digest.Digest `json:"missing_layers,omitempty"`
	// Waste is the bytes of its layers no container of it can see
	// (images --waste, layers); null when not walked.
	Waste *anatomy.Count `json:"waste"`
}

// Waste is each image's waste, by ID (images --waste).
type Waste map[digest.Digest]anatomy.Count

// ImageRows turns the catalog into rows, in its order (newest first),
// with each image's waste when waste has it.
func ImageRows(cat *du.Catalog, waste Waste) []ImageRow {
	rows := make([]ImageRow, 0, len(cat.Images))
	for _, im := range cat.Images {
		r := imageRow(cat, im)
		if w, ok := waste[im.ID]; ok {
			r.Waste = &w
		}
		rows = append(rows, r)
	}
	return rows
}

func imageRow(cat *du.Catalog, im du.Image) ImageRow {
	r := ImageRow{ID: im.ID, Tags: []string{}, Digests: []string{}, Dangling: im.Dangling, Counted: im.Counted,
		Parent: im.Parent, Children: im.Children, Created: im.Created, LayerCount: len(im.Layers), ChainIDs: im.Layers,
		Size: im.Size, SharedSize: im.SharedSize, UniqueSize: im.UniqueSize,
		Containers: im.Containers, ContainerNames: cat.ContainersOf(im.ID), MissingLayers: im.MissingLayers}
	for _, t := range im.Tags {
		if strings.Contains(t, "@") {
			r.Digests = append(r.Digests, t)
		} else {
			r.Tags = append(r.Tags, t)
		}
	}
	if r.ChainIDs == nil {
		r.ChainIDs = []digest.Digest{}
	}
	return r
}

// Images writes the catalog's images as a table, like `docker images -a`
// with Docker's /system/df sizes: one row per image, newest first.
// With waste (images --waste), a WASTE column and a total line.
func Images(w io.Writer, cat *du.Catalog, now time.Time, waste Waste) error {
	var rows [][]string
	var total anatomy.Count
	wasteful := 0
	for _, r := range ImageRows(cat, waste) {
		created := "-"
		if !r.Created.IsZero() {
			created = units.HumanDuration(now.Sub(r.Created)) + " ago"
		}
		ctrs := fmtInt(int64(r.Containers))
		if len(r.ContainerNames) > 0 {
			ctrs += ": " + strings.Join(r.ContainerNames, ", ")
		}
		layers := fmtInt(int64(r.LayerCount))
		if n := len(r.MissingLayers); n > 0 {
			layers += " (" + fmtInt(int64(n)) + " missing)"
		}
		row := []string{short(r.ID), Escape(clip(refsCell(r), 60)), created, layers,
			HumanBytes(r.Size), HumanBytes(r.SharedSize), HumanBytes(r.UniqueSize)}
		if waste != nil {
			cell := "-"
			if r.Waste != nil {
				cell = HumanBytes(r.Waste.Bytes)
				total = total.Plus(*r.Waste)
				if r.Waste.Entries > 0 {
					wasteful++
				}
			}
			row = append(row, cell)
		}
		rows = append(rows, append(row, Escape(clip(ctrs, 40))))
	}
	header := []string{"image id", "tags", "created", "layers", "size", "shared size", "unique size", "containers"}
	if waste != nil {
		header = slices.Insert(header, 7, "waste")
	}
	if err := table(w, header, rows); err != nil || waste == nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nWaste: %s in %d %s of %d %s that no container of theirs can see (deleted, overwritten or hidden by a later layer; "+
		"a layer several images share counts in each); dlayer layers --contents IMAGE says which and why.\n",
		HumanBytes(total.Bytes), total.Entries, plural(total.Entries, "file", "files"), wasteful, plural(wasteful, "image", "images"))
	return err
}

// refsCell is the tags of an image; its digest references when it has no
// tag; otherwise <none> and why: dangling, or an intermediate image.
func refsCell(r ImageRow) string {
	switch {
	case len(r.Tags) > 0:
		return strings.Join(r.Tags, ", ")
	case len(r.Digests) > 0:
		var ds []string
		for _, d := range r.Digests {
			name, dg, _ := strings.Cut(d, "@")
			ds = append(ds, name+"@"+shortDigest(dg))
		}
		return strings.Join(ds, ", ")
	case r.Dangling:
		return "<none> (dangling)"
	}
	return "<none> (intermediate)"
}

// shortDigest is "sha256:" and 12 hex digits.
func shortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok {
		return shortID(d)
	}
	return alg + ":" + shortID(hex)
}

// ImagesJSON writes the catalog's images as an ImagesDocument.
func ImagesJSON(w io.Writer, p Provenance, cat *du.Catalog, waste Waste) error {
	return JSON(w, ImagesDocument{NewHeader(SchemaImages, p), ImageRows(cat, waste)})
}
