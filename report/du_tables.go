package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect/du"
	"github.com/opencontainers/go-digest"
)

// duItem is one row of the biggest items.
type duItem struct {
	kind, name string
	use        du.Usage
	what       string
}

// duBiggest lists every owner and orphan together, biggest disk usage
// first.
func duBiggest(w io.Writer, r *du.Report, top int) error {
	names := imageNames(r)
	var items []duItem
	for _, l := range r.Layers {
		what := fmt.Sprintf("%d %s: %s", l.Refcount, plural(l.Refcount, "image", "images"), joinClip(imageList(l.Images, names), 3))
		if l.Missing {
			what = "MISSING dir; " + what
		}
		items = append(items, duItem{"layer", short(l.ChainID), du.Usage{Size: l.Size, DiskUsage: l.DiskUsage}, what})
	}
	for _, c := range r.Containers {
		items = append(items, duItem{"container", c.Name + " (" + shortID(c.ID) + ")",
			du.Usage{Size: c.SizeRw + c.InitSize, DiskUsage: c.DiskUsage + c.InitDiskUsage},
			fmt.Sprintf("%s, rw and init layers of %s", c.State, c.Image)})
		if c.DirUsage.DiskUsage > 0 {
			items = append(items, duItem{"container dir", c.Name + " (" + shortID(c.ID) + ")", c.DirUsage,
				fmt.Sprintf("containers/%s/, logs %s", shortID(c.ID), HumanBytes(c.LogUsage.Size))})
		}
	}
	for _, d := range r.BuildCache {
		items = append(items, duItem{"build cache", d.Name, d.Usage, d.Why})
	}
	for _, d := range r.Orphans {
		items = append(items, duItem{"orphan", d.Name, d.Usage, d.Why})
	}
	for _, d := range r.Other {
		items = append(items, duItem{"other", d.Name, d.Usage, otherWhat(d)})
	}
	for _, d := range r.InactiveDriver {
		items = append(items, duItem{"inactive driver", d.Name, d.Usage, d.Why})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].use.DiskUsage > items[j].use.DiskUsage })
	var rows [][]string
	for _, it := range limit(items, top) {
		rows = append(rows, []string{it.kind, Escape(clip(it.name, 40)), HumanBytes(it.use.Size), HumanBytes(it.use.DiskUsage), Escape(clip(it.what, 90))})
	}
	return table(w, []string{"kind", "name", "size", "disk usage", "what"}, rows)
}

func duLayers(w io.Writer, r *du.Report, top int) error {
	names := imageNames(r)
	var rows [][]string
	for _, l := range limit(r.Layers, top) {
		size := HumanBytes(l.Size)
		if l.MeasuredSize >= 0 && l.MeasuredSize != l.Size {
			size += " (now " + HumanBytes(l.MeasuredSize) + ")"
		}
		disk := HumanBytes(l.DiskUsage)
		if l.Missing {
			disk = "MISSING"
		}
		shared := ""
		if l.Shared {
			shared = "shared"
		}
		rows = append(rows, []string{short(l.ChainID), shortID(l.CacheID), size, disk, fmtInt(l.Files), fmtInt(int64(l.Refcount)), shared,
			Escape(joinClip(imageList(l.Images, names), 3))})
	}
	return table(w, []string{"chain id", "cache id", "size", "disk usage", "files", "refs", "shared", "images"}, rows)
}

func duImages(w io.Writer, r *du.Report, top int) error {
	var rows [][]string
	for _, im := range limit(r.Images, top) {
		status := ""
		switch {
		case im.Dangling:
			status = "dangling"
		case len(im.Tags) == 0:
			status = "intermediate"
		}
		if len(im.MissingLayers) > 0 {
			status = strings.TrimPrefix(status+", broken", ", ")
		}
		tags := "<none>"
		if len(im.Tags) > 0 {
			tags = joinClip(im.Tags, 3)
		}
		rows = append(rows, []string{Escape(tags), short(im.ID), fmtInt(int64(len(im.Layers))), HumanBytes(im.Size), HumanBytes(im.SharedSize),
			HumanBytes(im.UniqueSize), HumanBytes(im.DiskUsage), HumanBytes(im.UniqueDiskUsage), fmtInt(int64(im.Containers)), status})
	}
	return table(w, []string{"image", "image id", "layers", "size", "shared size", "unique size", "disk usage", "unique disk", "containers", "status"}, rows)
}

func duContainers(w io.Writer, r *du.Report, top int) error {
	var rows [][]string
	for _, c := range limit(r.Containers, top) {
		rows = append(rows, []string{shortID(c.ID), Escape(c.Name), Escape(c.Image), c.State, HumanBytes(c.SizeRw), HumanBytes(c.SizeRootFs),
			HumanBytes(c.DiskUsage + c.InitDiskUsage), HumanBytes(c.LogUsage.Size), HumanBytes(c.DirUsage.DiskUsage)})
	}
	return table(w, []string{"container id", "name", "image", "state", "size rw", "size root fs", "disk usage", "logs", "dir disk"}, rows)
}

func duOrphans(w io.Writer, r *du.Report, top int) error {
	var rows [][]string
	for _, d := range limit(r.Orphans, top) {
		mod := "-"
		if !d.Modified.IsZero() {
			mod = d.Modified.Format("2006-01-02 15:04")
		}
		rows = append(rows, []string{Escape(d.Name), HumanBytes(d.Size), HumanBytes(d.DiskUsage), mod, Escape(d.Why)})
	}
	return table(w, []string{"dir", "size", "disk usage", "modified", "why"}, rows)
}

// imageNames maps image IDs to their first tag, or their short ID.
func imageNames(r *du.Report) map[digest.Digest]string {
	m := map[digest.Digest]string{}
	for _, im := range r.Images {
		m[im.ID] = imageName(im)
	}
	return m
}

func imageList(ids []digest.Digest, names map[digest.Digest]string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if n, ok := names[id]; ok {
			out = append(out, n)
		} else {
			out = append(out, short(id))
		}
	}
	// tagged images first, then untagged ones by short ID
	sort.Slice(out, func(i, j int) bool {
		ti, tj := strings.Contains(out[i], ":"), strings.Contains(out[j], ":")
		if ti != tj {
			return ti
		}
		return out[i] < out[j]
	})
	return out
}

// joinClip joins the first n strings and says how many more there are.
func joinClip(xs []string, n int) string {
	if len(xs) <= n {
		return strings.Join(xs, ", ")
	}
	return strings.Join(xs[:n], ", ") + fmt.Sprintf(" and %d more", len(xs)-n)
}

// otherWhat says what a row of the rest of the data root is: its own
// description, else that no owner is charged for it.
func otherWhat(d du.Dir) string {
	if d.Why != "" {
		return d.Why
	}
	return "a part of the data root that no image or container owns (disk usage only)"
}
