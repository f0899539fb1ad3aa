package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
)

// WhoseOptions tune the text form of a whose answer.
type WhoseOptions struct {
	// Quiet drops the plain-English explanations.
	Quiet bool
}

// whoseHelp explains, once, what a kind of path is, for a reader who has
// never looked inside /var/lib/docker.
var whoseHelp = map[string]string{
	inspect.PathLayerDir: "Each dir under overlay2/ is one layer: an image layer (named by its random cache-id), " +
		"a container's writable layer (its mount-id) or init layer (<mount-id>-init), or a build cache snapshot. " +
		"diff/ holds the layer's files, link its short name, lower the layers below it.",
	inspect.PathLayerEntry: "A layer's diff/ holds only what that layer changed. A container sees the union of its layers, " +
		"top first: the first layer holding a path decides, a whiteout there deletes it, an opaque dir hides " +
		"everything below it. So a file in a layer may be visible, or shadowed by an upper layer's own copy, or deleted.",
	inspect.PathMergedEntry: "merged/ is where overlayfs mounts a container's root file system while it runs: " +
		"nothing is stored there; every file comes from one of its layers.",
	inspect.PathLayerWork: "work/ is overlayfs' scratch space for the container's mount (renames, copy-up in progress); " +
		"it is empty when nothing is mounted.",
	inspect.PathShortLink: "l/ holds one short symlink per layer (26 characters) so that the lowerdir= mount option of a " +
		"deep stack fits in a page. dlayer reads it as text and never follows it.",
	inspect.PathLayerRecord: "layerdb/sha256/<chain id>/ is the layer store's record of an image layer: its diff ID " +
		"(sha256 of its tar), parent chain ID, size, the cache-id naming its overlay2 dir, and tar-split.json.gz " +
		"(the tar headers, to re-create the exact tar on push or save).",
	inspect.PathMountRecord: "layerdb/mounts/<container id>/ records a container's writable layer: mount-id and init-id " +
		"name its overlay2 dirs, parent the chain ID of its image's top layer.",
	inspect.PathImageConfig: "imagedb/content/sha256/<image id> is the image config; the image ID is the sha256 of " +
		"this file. Its rootfs.diff_ids list the layers, base first.",
}

// Whose writes a whose answer for people.
func Whose(w io.Writer, a *inspect.WhoseAnswer, opt WhoseOptions) error {
	p := &printer{w: w}
	p.f("%s\n", Escape(a.Path))
	p.f("  is      %s\n", Escape(whoseWhat(a)))
	exists := "no"
	if a.Exists {
		exists = "yes, " + a.Type
	}
	if a.Usage != nil {
		exists += fmt.Sprintf(", holds %s (%s on disk)", bytesHuman(a.Usage.Size), bytesHuman(a.Usage.DiskUsage))
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
		p.f("  %s%s   (a live overlay mount uses this layer)\n", label, Escape(m))
	}
	if !opt.Quiet && whoseHelp[a.Kind] != "" {
		wrap(p, "  ", "= "+whoseHelp[a.Kind])
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
	wrap(p, "", fmt.Sprintf("Safe to delete? %s: %s", v.Safe, v.Reason))
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

// whoseWhat says what the path is, in one line.
func whoseWhat(a *inspect.WhoseAnswer) string {
	o := whoseOwnerPhrase(a)
	switch a.Kind {
	case inspect.PathDataRoot:
		return "the Docker data root"
	case inspect.PathDriverHome:
		return "the " + a.Driver + " driver's dir: one dir per layer"
	case inspect.PathDriverBookkeeping:
		return "the " + a.Driver + " driver's own " + a.LayerDir + ": " + a.Owner.Why
	case inspect.PathShortLink:
		return "the short link of " + o
	case inspect.PathLayerDir:
		if a.Owner.Kind == inspect.OwnerOrphan {
			return "a layer dir that nothing owns (an orphan)"
		}
		return "the dir of " + o
	case inspect.PathLayerContent:
		return "the content dir (diff/) of " + o
	case inspect.PathLayerEntry:
		return a.InLayer + " in the content dir of " + o
	case inspect.PathLayerWork:
		return "the overlay work dir of " + o
	case inspect.PathLayerMountpoint:
		return "the mount point (merged/) of " + o
	case inspect.PathMergedEntry:
		return a.InLayer + " in the mounted root file system (merged/) of " + o
	case inspect.PathLayerFile:
		return "the " + a.Name + " file of " + o + whoseFileHelp[a.Name]
	case inspect.PathLayerRecord, inspect.PathMountRecord:
		s := "the layerdb record of " + o
		if a.Name != "" {
			s = "the " + a.Name + " file of " + s + whoseFileHelp[a.Name]
		}
		return s
	case inspect.PathLayerdbTmp:
		return "a layer being written (layerdb/tmp)"
	case inspect.PathImageConfig:
		return "the config of " + o
	case inspect.PathImageMetadata:
		return "metadata of " + o
	case inspect.PathRepositories:
		return "the tag store (repositories.json)"
	case inspect.PathDistribution:
		return "the registry digest cache (distribution/)"
	case inspect.PathImageStore:
		if a.Driver == "" {
			return "the image and layer stores (image/<driver>/)"
		}
		return "the image and layer store of the " + a.Driver + " driver"
	case inspect.PathContainers:
		return "the container store"
	case inspect.PathContainerDir:
		return "the dir of " + o
	case inspect.PathContainerFile:
		if strings.Contains(a.Name, "-json.log") {
			return "the json-file log (" + a.Name + ") of " + o
		}
		return a.Name + " of " + o + whoseFileHelp[a.Name]
	case inspect.PathBuildKit:
		return "BuildKit's state (buildkit/)"
	}
	if a.Owner.Why != "" {
		return a.Owner.Why
	}
	return "a part of the data root dlayer does not know"
}

// whoseFileHelp says what a small metadata file holds.
var whoseFileHelp = map[string]string{
	"link":              ": its short name in l/",
	"lower":             ": the short links of the layers below it, uppermost first",
	"committed":         ": marks that a layer was created on top of it",
	"diff":              ": the layer's diff ID (sha256 of its tar)",
	"parent":            ": the chain ID below it",
	"size":              ": its content size",
	"cache-id":          ": the name of its layer dir",
	"tar-split.json.gz": ": the tar headers, to re-create the exact tar",
	"mount-id":          ": the name of the rw layer dir",
	"init-id":           ": the name of the init layer dir",
	"config.v2.json":    ": its config and last state",
	"hostconfig.json":   ": its host settings (mounts, ports, restart policy, log driver)",
	"hostname":          ", bind-mounted as /etc/hostname",
	"hosts":             ", bind-mounted as /etc/hosts",
	"resolv.conf":       ", bind-mounted as /etc/resolv.conf",
}

// whoseOwnerPhrase names the owner.
func whoseOwnerPhrase(a *inspect.WhoseAnswer) string {
	o := a.Owner
	switch o.Kind {
	case inspect.OwnerImageLayer:
		l := o.Layer
		s := "image layer " + shortID(l.CacheID)
		if len(l.Images) > 0 {
			im := l.Images[0]
			s = fmt.Sprintf("image layer %d/%d of %s (cache id %s)", im.Position, im.Layers, whoseImage(im.ID, im.Tags), shortID(l.CacheID))
			if len(l.Images) > 1 {
				s += fmt.Sprintf(", shared by %d images", len(l.Images))
			}
		}
		return s
	case inspect.OwnerRWLayer:
		return "the writable (rw) layer of container " + whoseCtr(o.Container)
	case inspect.OwnerInitLayer:
		return "the init layer of container " + whoseCtr(o.Container)
	case inspect.OwnerContainer:
		return "container " + whoseCtr(o.Container)
	case inspect.OwnerImage:
		return "image " + whoseImage(o.Image.ID, o.Image.Tags) + " (" + short(o.Image.ID) + ")"
	case inspect.OwnerBuildCache:
		return "a BuildKit build cache snapshot"
	case inspect.OwnerOrphan:
		return "nothing: an orphan"
	case inspect.OwnerBookkeeping:
		return "the driver's bookkeeping"
	case inspect.OwnerOtherDriver:
		return "another storage driver"
	}
	return "an unknown owner"
}

func whoseCtr(c *inspect.WhoseContainer) string {
	name := c.Name
	if name == "" {
		name = "?"
	}
	return fmt.Sprintf("%s (%s, %s)", Escape(name), shortID(c.ID), c.State)
}

func whoseImage(id digest.Digest, tags []string) string {
	if len(tags) > 0 {
		return Escape(tags[0])
	}
	return short(id)
}

// whoseEntry writes what the layer holds at the path.
func whoseEntry(p *printer, a *inspect.WhoseAnswer) {
	e := a.Entry
	p.f("In this layer\n")
	if !e.Exists {
		p.f("  %s: nothing (%s)\n", Escape(e.Path), Escape(e.Note))
		return
	}
	what := e.Type
	switch e.Kind {
	case "whiteout":
		what = "whiteout (" + e.Marker + "): deletes " + Escape(e.Deletes) + " from the layers below"
	case "opaque_dir":
		what = "opaque dir (" + e.Marker + "): hides everything the layers below have in it"
	case "redirect_dir":
		what = "renamed dir: its content comes from " + Escape(e.Redirect)
	case "metacopy":
		what = "metadata-only copy: its data is still read from a lower layer"
	case "bookkeeping":
		what = "the driver's own file, not part of the container's file system"
	}
	p.f("  %s  %s\n", Escape(e.Path), what)
	if e.Kind != "whiteout" {
		size := ", size " + bytesHuman(e.Size)
		if e.Type == "dir" {
			size = ""
		}
		line := fmt.Sprintf("mode %s, owner %d:%d%s, modified %s", e.Mode, e.UID, e.GID, size, when(e.Mtime))
		if e.Nlink > 1 && e.Type != "dir" {
			line += fmt.Sprintf(", %d hard links", e.Nlink)
		}
		p.f("  %s\n", line)
	}
	if e.LinkTarget != "" {
		p.f("  symlink to %s (never followed)\n", Escape(e.LinkTarget))
	}
}

// whoseOwner writes the owner block.
func whoseOwner(p *printer, a *inspect.WhoseAnswer) error {
	o := a.Owner
	switch {
	case o.Layer != nil:
		l := o.Layer
		p.f("Owner: image layer\n")
		p.f("  cache id  %s\n", l.CacheID)
		p.f("  dir       %s\n", Escape(l.Dir))
		p.f("  chain id  %s\n", l.ChainID)
		p.f("  diff id   %s\n", l.DiffID)
		p.f("  size      %s (layerdb)\n", bytesHuman(l.Size))
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
			rows = append(rows, []string{tag, short(im.ID), fmt.Sprintf("%d/%d", im.Position, im.Layers), Escape(clip(instruction(im.CreatedBy), 60))})
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
		p.f("Owner: %s\n", strings.ReplaceAll(o.Kind, "_", " "))
		if o.ID != "" {
			p.f("  id   %s\n", Escape(o.ID))
		}
		if o.Why != "" {
			wrap(p, "  ", Escape(o.Why))
		}
	}
	return nil
}

func whoseContainers(p *printer, cs []inspect.WhoseContainer) error {
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
func whoseViews(p *printer, a *inspect.WhoseAnswer, opt WhoseOptions) error {
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
		layer := v.Role
		if v.Role == "image" {
			layer = fmt.Sprintf("%d/%d", v.Position, v.Layers)
		}
		rows = append(rows, []string{v.Of + " " + Escape(name), layer, strings.ReplaceAll(v.Result, "_", " "), Escape(whoseBecause(a, v))})
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

// whoseBecause says why a view shows what it shows.
func whoseBecause(a *inspect.WhoseAnswer, v inspect.WhoseView) string {
	by := func(h *inspect.WhoseHit) string {
		return whoseHit(h) + " has " + whoseArticle(h.Entry) + " " + h.Entry + " " + h.Path
	}
	above := func(h *inspect.WhoseHit) string {
		if h == nil {
			return ""
		}
		return whoseHit(h) + " has " + whoseArticle(h.Entry) + " " + h.Entry + " at " + h.Path + ", above it"
	}
	switch v.Result {
	case inspect.ViewVisible:
		if v.Below == nil {
			return "no lower layer has it"
		}
		verb := "shadows"
		if a.Entry != nil && a.Entry.Type == "dir" && v.Below.Entry == "dir" {
			verb = "merges with"
			if a.Entry.Kind == "opaque_dir" {
				verb = "hides"
			}
		}
		return verb + " the " + v.Below.Entry + " of " + whoseHit(v.Below)
	case inspect.ViewDeletes:
		if v.Below == nil {
			return "deletes nothing: no lower layer has it"
		}
		return "deletes the " + v.Below.Entry + " of " + whoseHit(v.Below)
	case inspect.ViewMerged:
		return by(v.By) + " on top; the entries of both show"
	case inspect.ViewShadowed:
		if v.By.Entry == "opaque dir" {
			return by(v.By) + ", which hides it"
		}
		return whoseHit(v.By) + " has its own " + v.By.Entry + " " + v.By.Path
	case inspect.ViewWhitedOut:
		return whoseHit(v.By) + " deletes it: a whiteout " + v.By.Path
	case inspect.ViewHidden:
		return above(v.By)
	case inspect.ViewFrom:
		return "the " + v.By.Entry + " of " + whoseHit(v.By)
	case inspect.ViewAbsent:
		if v.By != nil {
			return by(v.By)
		}
		return "no layer has it"
	}
	return ""
}

// whoseHit names the layer of an entry: "the rw layer", "layer 2 (RUN …)".
func whoseHit(h *inspect.WhoseHit) string {
	switch h.Role {
	case "rw":
		return "the rw layer"
	case "init":
		return "the init layer"
	}
	s := fmt.Sprintf("layer %d", h.Position)
	if h.CreatedBy != "" {
		s += " (" + clip(instruction(h.CreatedBy), 40) + ")"
	}
	return s
}

func whoseArticle(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// whoseIndent writes a table two spaces in.
type whoseIndent struct{ w io.Writer }

func (i whoseIndent) Write(b []byte) (int, error) {
	var out []byte
	start := true
	for _, c := range b {
		if start && c != '\n' {
			out = append(out, ' ', ' ')
		}
		out = append(out, c)
		start = c == '\n'
	}
	if _, err := i.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// WhoseJSON writes the answer as one JSON object. Paths that are not
// valid UTF-8 are given in dlayer's escaped form.
func WhoseJSON(w io.Writer, a *inspect.WhoseAnswer) error {
	y := *a
	y.Path, _ = jsonString(a.Path)
	y.Rel, _ = jsonString(a.Rel)
	y.Arg, _ = jsonString(a.Arg)
	y.InLayer, _ = jsonString(a.InLayer)
	if a.Entry != nil {
		e := *a.Entry
		e.Path, _ = jsonString(e.Path)
		e.LinkTarget, _ = jsonString(e.LinkTarget)
		y.Entry = &e
	}
	y.Views = make([]inspect.WhoseView, len(a.Views))
	for i, v := range a.Views {
		for _, h := range []**inspect.WhoseHit{&v.By, &v.Below} {
			if *h != nil {
				c := **h
				c.Path, _ = jsonString(c.Path)
				*h = &c
			}
		}
		y.Views[i] = v
	}
	return JSON(w, &y)
}
