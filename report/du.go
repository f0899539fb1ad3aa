package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/inspect/du"
)

// DUOptions choose the view of DU.
type DUOptions struct {
	// By is "" for the summary and biggest items, or one of "layer",
	// "image", "container", "orphan" for a table of those.
	By string
	// Top limits the rows of a table (the biggest items of the summary:
	// 10 when 0); 0 in a --by table means all rows.
	Top int
}

// DUViews are the values DUOptions.By accepts.
func DUViews() []string { return []string{"layer", "image", "container", "orphan"} }

// DU writes an audit as tables for people: the summary and the biggest
// items, or one --by table, then the problems found.
func DU(w io.Writer, r *du.Report, opt DUOptions) error {
	p := &printer{w: w}
	var err error
	switch opt.By {
	case "":
		duSummary(p, r)
		if p.err == nil {
			top := opt.Top
			if top <= 0 {
				top = 10
			}
			p.f("\nBiggest items (by disk usage)\n")
			err = duBiggest(p.w, r, top)
		}
	case "layer":
		err = duLayers(w, r, opt.Top)
	case "image":
		err = duImages(w, r, opt.Top)
	case "container":
		err = duContainers(w, r, opt.Top)
	case "orphan":
		err = duOrphans(w, r, opt.Top)
	default:
		return fmt.Errorf("unknown view %q: want one of %s", opt.By, strings.Join(DUViews(), ", "))
	}
	if err != nil {
		return err
	}
	duFindings(p, r)
	for _, o := range r.OtherStores {
		p.f("\nThis root also holds the %s store, audited on its own below (it walks the data root too: "+
			"the %s store's dirs are one line there, as another driver's).\n\n", o.Driver, r.Driver)
		if p.err == nil {
			p.err = DU(w, o, opt)
		}
	}
	return p.err
}

func duSummary(p *printer, r *du.Report) {
	s := r.Summary
	p.f("Docker data root %s (%s)\n", Escape(r.Root), r.Driver)
	if r.StoreRoot != "" {
		p.f("containerd root  %s (its content store and snapshots are Docker's images and containers)\n", Escape(r.StoreRoot))
	}
	p.f("\n")
	rows := [][]string{
		groupRow("Images", s.Images, true, true),
		groupRow("Containers", s.Containers, true, true),
		groupRow("Container dirs and logs", s.ContainerDirs, false, true),
		groupRow("Build cache", s.BuildCache, false, false),
		groupRow("Orphans", s.Orphans, false, true),
		groupRow(bookkeepingLabel(r), s.Bookkeeping, false, false),
	}
	if len(r.OtherDrivers) > 0 {
		rows = append(rows, groupRow("Inactive driver ("+strings.Join(r.OtherDrivers, ", ")+")", s.InactiveDriver, false, false))
	}
	rest := "Rest of the data root"
	if r.StoreRoot != "" {
		rows = append(rows, groupRow("Content store blobs", s.Content, true, false))
		if s.StackDirs.Count > 0 {
			rows = append(rows, groupRow("Build container init snapshots", s.StackDirs, false, false))
		}
		if s.Ingest.Count > 0 {
			rows = append(rows, groupRow("Unfinished blob writes (ingest/)", s.Ingest, false, false))
		}
		rest = "Rest of both roots"
	}
	rows = append(rows, [][]string{
		groupRow(rest, s.Other, false, false),
		{"Total", "", "", HumanBytes(s.Total.Size), HumanBytes(s.Total.DiskUsage), HumanBytes(s.Reclaimable.DiskUsage)},
	}...)
	if err := table(p.w, []string{"type", "count", "active", "size", "disk usage", "reclaimable"}, rows); err != nil {
		p.err = err
		return
	}
	p.f("\n")
	wrap(p, "", fmt.Sprintf("%s/ holds %s on disk (%s of content), every byte charged to the images, containers, "+
		"build cache, orphans or bookkeeping above; the whole data root %s.",
		filepath.Base(r.DriverDir), HumanBytes(s.DriverDir.DiskUsage), HumanBytes(s.DriverDir.Size), HumanBytes(s.DataRoot.DiskUsage)))
	if r.StoreRoot != "" {
		wrap(p, "", fmt.Sprintf("containerd's root holds %s on disk: its snapshots (%s/ above), %d content blobs (%s; %d referenced by images, "+
			"the rest kept by leases or other namespaces), its metadata and its runtime state. Both roots: %s.",
			HumanBytes(s.StoreTree.DiskUsage), filepath.Base(r.DriverDir), s.Content.Count, HumanBytes(s.Content.DiskUsage), s.Content.Active, HumanBytes(s.Total.DiskUsage)))
	}
	for _, d := range r.OtherDrivers {
		wrap(p, "", fmt.Sprintf("This root also holds the image store of the %s driver (a host migrated between drivers). "+
			"Its layer dirs and the dirs of its containers are one line above, \"Inactive driver\"; audit them with --driver %s.", d, d))
	}
	stoppedN, dangling := 0, 0
	for _, c := range r.Containers {
		if c.Stopped() {
			stoppedN++
		}
	}
	for _, im := range r.Images {
		if im.Dangling {
			dangling++
		}
	}
	wrap(p, "", fmt.Sprintf("Reclaimable: removing %d stopped %s (with their dirs and logs), %d dangling %s and %d %s would free %s on disk (%s of content).",
		stoppedN, plural(stoppedN, "container", "containers"), dangling, plural(dangling, "image", "images"),
		s.Orphans.Count, plural(s.Orphans.Count, "orphan", "orphans"), HumanBytes(s.Reclaimable.DiskUsage), HumanBytes(s.Reclaimable.Size)))
	if s.BuildCache.Count > 0 {
		wrap(p, "", fmt.Sprintf("Build cache is not in that sum: `docker builder prune` frees up to %s.", HumanBytes(s.BuildCache.DiskUsage)))
	}
	wrap(p, "", fmt.Sprintf("SIZE is Docker's content size (st_size of files, each inode once, dirs 0: what docker system df shows); "+
		"DISK USAGE is allocated blocks, each inode once (what du shows and deleting frees). Here they differ by dirs and block rounding, "+
		"%d sparse %s (%s of apparent size not allocated) and %d hardlinked %s (%d extra %s counted once).",
		s.SparseFiles, plural(int(s.SparseFiles), "file", "files"), HumanBytes(s.SparseBytes),
		s.HardlinkedInodes, plural(int(s.HardlinkedInodes), "inode", "inodes"), s.ExtraLinks, plural(int(s.ExtraLinks), "name", "names")))
	if len(r.Mounts) > 0 {
		wrap(p, "", fmt.Sprintf("%d mount %s not entered (as du -x), e.g. the merged dir of a running container: %s",
			len(r.Mounts), plural(len(r.Mounts), "point", "points"), Escape(r.Mounts[0])))
	}
}

func groupRow(name string, g du.Group, active, reclaim bool) []string {
	row := []string{name, fmtInt(int64(g.Count)), "", HumanBytes(g.Size), HumanBytes(g.DiskUsage), "-"}
	if active {
		row[2] = fmtInt(int64(g.Active))
	}
	if reclaim {
		row[5] = HumanBytes(g.Reclaimable.DiskUsage)
	}
	return row
}

func duFindings(p *printer, r *du.Report) {
	if len(r.Findings) == 0 {
		return
	}
	p.f("\nProblems (%d)\n", len(r.Findings))
	for _, f := range r.Findings {
		where := ""
		if f.Path != "" {
			where = " " + Escape(f.Path) + ":"
		}
		p.f("  %s:%s %s\n", f.Kind, where, Escape(f.Message))
	}
}

// DUJSON writes the audit as one JSON object, every number in bytes.
// Names that are not valid UTF-8 are given in the escaped form.
func DUJSON(w io.Writer, p Provenance, r *du.Report) error {
	y := *r
	for _, ds := range []*[]du.Dir{&y.BuildCache, &y.Orphans, &y.Bookkeeping, &y.Other, &y.InactiveDriver} {
		out := make([]du.Dir, len(*ds))
		for i, d := range *ds {
			d.Name, _ = jsonString(d.Name)
			d.Path, _ = jsonString(d.Path)
			out[i] = d
		}
		*ds = out
	}
	y.Mounts = make([]string, len(r.Mounts))
	for i, m := range r.Mounts {
		y.Mounts[i], _ = jsonString(m)
	}
	return JSON(w, DUDocument{NewHeader(SchemaDU, p), y})
}

// limit returns the first n rows (all when n <= 0).
func limit[T any](xs []T, n int) []T {
	if n > 0 && len(xs) > n {
		return xs[:n]
	}
	return xs
}

// DUProgress is du's progress line: dirs done of the dirs found so far,
// files, disk usage so far.
func DUProgress(p du.Progress) string {
	return fmt.Sprintf("dlayer du: %d/%d dirs, %d files, %s", p.DirsDone, p.Dirs, p.Files, HumanBytes(p.DiskUsage))
}

// bookkeepingLabel names the driver's own files in the summary, in the
// driver's words.
func bookkeepingLabel(r *du.Report) string {
	if r.Home.Bookkeeping == "" {
		return "Driver bookkeeping"
	}
	return "Driver bookkeeping (" + r.Home.Bookkeeping + ")"
}
