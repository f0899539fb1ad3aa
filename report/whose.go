package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/inspect/whose"
)

// WhoseOptions tune the text form of a whose answer.
type WhoseOptions struct {
	// Quiet drops the plain-English explanations.
	Quiet bool
}

// whoseHelp explains, once, what a kind of path of the storage driver
// driver is, for a reader who has never looked inside /var/lib/docker; ""
// for the kinds it leaves alone. What is the driver's own comes from its
// Terms t.
func whoseHelp(k whose.PathKind, driver string, t backend.Terms) string {
	switch k {
	case whose.PathLayerDir:
		return joinSentences("Each dir under "+driver+"/ is one layer: an image layer (named by its random cache-id), "+
			"a container's writable layer (its mount-id) or init layer (<mount-id>-init), or a build cache snapshot.", t.LayerDirHelp)
	case whose.PathLayerEntry:
		content := t.ContentHelp
		if content == "" {
			content = "A layer's content dir holds only what that layer changed."
		}
		return joinSentences(content, "A container sees the union of its layers, "+
			"top first: the first layer holding a path decides, a whiteout there deletes it, an opaque dir hides "+
			"everything below it. So a file in a layer may be visible, or shadowed by an upper layer's own copy, or deleted.")
	case whose.PathMergedEntry:
		return "A container's mount point is where the " + driver + " driver mounts its root file system while it runs: " +
			"nothing is stored there; every file comes from one of its layers."
	case whose.PathLayerWork:
		return "work/ is overlayfs' scratch space for the container's mount (renames, copy-up in progress); " +
			"it is empty when nothing is mounted."
	case whose.PathShortLink:
		return "l/ holds one short symlink per layer (26 characters) so that the lowerdir= mount option of a " +
			"deep stack fits in a page. dlayer reads it as text and never follows it."
	case whose.PathLayerRecord:
		return "layerdb/sha256/<chain id>/ is the layer store's record of an image layer: its diff ID " +
			"(sha256 of its tar), parent chain ID, size, the cache-id naming its " + driver + " dir, and tar-split.json.gz " +
			"(the tar headers, to re-create the exact tar on push or save)."
	case whose.PathMountRecord:
		return "layerdb/mounts/<container id>/ records a container's writable layer: mount-id and init-id " +
			"name its " + driver + " dirs, parent the chain ID of its image's top layer."
	case whose.PathImageConfig:
		return "imagedb/content/sha256/<image id> is the image config; the image ID is the sha256 of " +
			"this file. Its rootfs.diff_ids list the layers, base first."
	}
	return ""
}

// joinSentences joins the sentences that are not empty with a space.
func joinSentences(ss ...string) string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// Whose writes a whose answer for people.
func Whose(w io.Writer, a *whose.Answer, opt WhoseOptions) error {
	p := &printer{w: w}
	p.f("%s\n", Escape(a.Path))
	p.f("  is      %s\n", Escape(whoseWhat(a)))
	exists := "no"
	if a.Exists {
		exists = "yes, " + string(a.Type)
	}
	if a.Usage != nil {
		exists += fmt.Sprintf(", holds %s (%s on disk)", HumanBytes(a.Usage.Size), HumanBytes(a.Usage.DiskUsage))
	}
	p.f("  exists  %s\n", exists)
	if l := a.Link; l != nil && l.Target != "" {
		dangling := ""
		if l.Dangling {
			dangling = "  (dangling: no such dir)"
		}
		p.f("  link    l/%s -> %s%s\n", Escape(l.Name), Escape(l.Target), dangling)
	}
	for i, m := range a.Mounts {
		label := "        "
		if i == 0 {
			label = "mounts  "
		}
		p.f("  %s%s   (a live union mount uses this layer)\n", label, Escape(m))
	}
	if help := whoseHelp(a.Kind, a.Driver, a.Terms); !opt.Quiet && help != "" {
		wrap(p, "  ", "= "+help)
	}
	if a.Entry != nil {
		p.f("\n")
		whoseEntry(p, a)
	}
	p.f("\n")
	if err := whoseOwner(p, a); err != nil {
		return err
	}
	if len(a.Views) > 0 {
		p.f("\n")
		if err := whoseViews(p, a, opt); err != nil {
			return err
		}
	}
	p.f("\n")
	v := a.Verdict
	wrap(p, "", fmt.Sprintf("Safe to delete? %s: %s", v.Safe, Escape(v.Reason)))
	if v.Instead != "" {
		wrap(p, "  ", "instead: "+v.Instead)
	}
	if len(a.Notes) > 0 {
		p.f("\nNotes\n")
		for _, n := range a.Notes {
			wrap(p, "  ", "- "+Escape(n))
		}
	}
	explainFindings(p, a.Findings)
	return p.err
}

// whoseEntry writes what the layer holds at the path.
func whoseEntry(p *printer, a *whose.Answer) {
	e := a.Entry
	p.f("In this layer\n")
	if !e.Exists {
		p.f("  %s: nothing (%s)\n", Escape(e.Path), Escape(e.Note))
		return
	}
	what := string(e.Type)
	switch e.Kind {
	case whose.EntryWhiteout:
		what = "whiteout (" + e.Marker + "): deletes " + Escape(e.Deletes) + " from the layers below"
	case whose.EntryOpaqueDir:
		what = "opaque dir (" + e.Marker + "): hides everything the layers below have in it"
	case whose.EntryRedirectDir:
		what = "renamed dir: its content comes from " + Escape(e.Redirect)
	case whose.EntryMetacopy:
		what = "metadata-only copy: its data is still read from a lower layer"
	case whose.EntryBookkeeping:
		what = "the driver's own file, not part of the container's file system"
	}
	p.f("  %s  %s\n", Escape(e.Path), what)
	if e.Kind != whose.EntryWhiteout {
		size := ", size " + HumanBytes(e.Size)
		if e.Type == layerfs.TypeDir {
			size = ""
		}
		line := fmt.Sprintf("mode %s, owner %d:%d%s, modified %s", e.Mode, e.UID, e.GID, size, when(e.Mtime))
		if e.Nlink > 1 && e.Type != layerfs.TypeDir {
			line += fmt.Sprintf(", %d hard links", e.Nlink)
		}
		p.f("  %s\n", line)
	}
	if e.LinkTarget != "" {
		p.f("  symlink to %s (never followed)\n", Escape(e.LinkTarget))
	}
}

// whoseOwner writes the owner block.
func whoseOwner(p *printer, a *whose.Answer) error {
	o := a.Owner
	switch {
	case o.Layer != nil:
		l := o.Layer
		p.f("Owner: image layer\n")
		p.f("  cache id  %s\n", l.CacheID)
		p.f("  dir       %s\n", Escape(l.Dir))
		p.f("  chain id  %s\n", l.ChainID)
		p.f("  diff id   %s\n", l.DiffID)
		p.f("  size      %s (layerdb)\n", HumanBytes(l.Size))
		if l.Link != "" {
			p.f("  link      l/%s\n", l.Link)
		}
		if l.BuildCache {
			p.f("  also BuildKit build cache (buildkit/snapshots.db names it)\n")
		}
		var rows [][]string
		for _, im := range l.Images {
			tag := "<none>"
			if len(im.Tags) > 0 {
				tag = Escape(strings.Join(im.Tags, ", "))
			}
			rows = append(rows, []string{tag, short(im.ID), fmt.Sprintf("%d/%d", im.Position, im.Layers), Escape(clip(Instruction(im.CreatedBy), 60))})
		}
		p.f("  used by %d image%s (layer 1 = base)\n", len(l.Images), plural(len(l.Images), "", "s"))
		if len(rows) > 0 {
			if err := table(whoseIndent{p.w}, []string{"image", "image id", "layer", "created by"}, rows); err != nil {
				return err
			}
		}
		p.f("  and %d container%s\n", len(l.Containers), plural(len(l.Containers), "", "s"))
		return whoseContainers(p, l.Containers)
	case o.Container != nil:
		c := o.Container
		p.f("Owner: container %s\n", Escape(c.Name))
		p.f("  id        %s\n", c.ID)
		p.f("  state     %s\n", c.State)
		if c.Image != "" {
			p.f("  image     %s (%s)\n", Escape(c.Image), short(c.ImageID))
		}
		if c.MountID != "" {
			p.f("  mount-id  %s   (rw layer dir)\n", c.MountID)
		}
		if c.InitID != "" {
			p.f("  init-id   %s   (init layer dir)\n", c.InitID)
		}
	case o.Image != nil:
		im := o.Image
		p.f("Owner: image %s\n", whoseImage(im.ID, im.Tags))
		p.f("  id        %s\n", im.ID)
		if len(im.Tags) > 0 {
			p.f("  tags      %s\n", Escape(strings.Join(im.Tags, ", ")))
		}
		p.f("  layers    %d\n", im.Layers)
		if im.Children > 0 {
			p.f("  children  %d images built FROM it\n", im.Children)
		}
		p.f("  used by %d container%s\n", len(im.Containers), plural(len(im.Containers), "", "s"))
		return whoseContainers(p, im.Containers)
	default:
		p.f("Owner: %s\n", strings.ReplaceAll(string(o.Kind), "_", " "))
		if o.ID != "" {
			p.f("  id   %s\n", Escape(o.ID))
		}
		if o.Why != "" {
			wrap(p, "  ", Escape(o.Why))
		}
	}
	return nil
}

func whoseContainers(p *printer, cs []whose.Container) error {
	if len(cs) == 0 {
		return nil
	}
	var rows [][]string
	for _, c := range cs {
		rows = append(rows, []string{shortID(c.ID), Escape(c.Name), c.State, Escape(c.Image)})
	}
	return table(whoseIndent{p.w}, []string{"container id", "name", "state", "image"}, rows)
}

// whoseViews writes what each container and image sees at the path.
func whoseViews(p *printer, a *whose.Answer, opt WhoseOptions) error {
	p.f("Who sees %s\n", Escape(a.InLayer))
	var rows [][]string
	for _, v := range a.Views {
		name := v.Name
		if name == "" {
			name = shortID(strings.TrimPrefix(v.ID, "sha256:"))
		}
		if v.State != "" {
			name += " (" + v.State + ")"
		}
		layer := string(v.Role)
		if v.Role == whose.RoleImage {
			layer = fmt.Sprintf("%d/%d", v.Position, v.Layers)
		}
		rows = append(rows, []string{string(v.Of) + " " + Escape(name), layer, strings.ReplaceAll(string(v.Result), "_", " "), Escape(whoseBecause(a, v))})
	}
	if err := table(whoseIndent{p.w}, []string{"view", "layer", "result", "because"}, rows); err != nil {
		return err
	}
	if !opt.Quiet {
		wrap(p, "  ", "= LAYER is where this layer sits in each stack (rw, init, or image layer N of M, 1 = base). "+
			"The first layer holding a path decides what the container sees.")
	}
	return nil
}
