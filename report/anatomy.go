package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/anatomy"
)

// AnatomyOptions choose what the anatomy's text shows.
type AnatomyOptions struct {
	// Layer lists the entries of the layer at this position (0: none).
	Layer int
	// Top is how many invisible files to name (0: 10).
	Top int
}

// AnatomyDoc is `dlayer layers --contents --format json`.
type AnatomyDoc struct {
	*anatomy.Report
}

// AnatomyJSON writes the anatomy as JSON.
func AnatomyJSON(w io.Writer, p Provenance, r *anatomy.Report) error {
	y := *r
	y.Layers = make([]anatomy.Layer, len(r.Layers))
	for i, l := range r.Layers {
		if l.Entries != nil {
			l.Entries = jsonChanges(l.Entries)
		}
		y.Layers[i] = l
	}
	y.Waste.Paths = make([]anatomy.Path, len(r.Waste.Paths))
	for i, q := range r.Waste.Paths {
		q.Path, _ = jsonString(q.Path)
		q.ByAt, _ = jsonString(q.ByAt)
		y.Waste.Paths[i] = q
	}
	y.Waste.Groups = make([]anatomy.Group, len(r.Waste.Groups))
	for i, g := range r.Waste.Groups {
		g.Paths = append([]string(nil), g.Paths...)
		for j := range g.Paths {
			g.Paths[j], _ = jsonString(g.Paths[j])
		}
		y.Waste.Groups[i] = g
	}
	return JSON(w, AnatomyDocument{NewHeader(SchemaAnatomy, p), AnatomyDoc{&y}})
}

// WasteLine is the one-line summary of an image's or a container's waste,
// for layers, images and explain ("" when there is none).
func WasteLine(r *anatomy.Report) string {
	if r.Waste.Bytes == 0 && r.Waste.Entries == 0 {
		return ""
	}
	who := "no container of this image can see"
	if r.Subject == anatomy.SubjectContainer {
		who = "this container cannot see"
	}
	return fmt.Sprintf("%s in %d %s %s: deleted, overwritten or hidden by a later layer, their bytes stay in the layer that wrote them",
		HumanBytes(r.Waste.Bytes), r.Waste.Entries, plural(r.Waste.Entries, "file", "files"), who)
}

// Anatomy writes what each layer added, changed and deleted, the waste
// with its causes and advice, and, with Layer, that layer's entries.
func Anatomy(w io.Writer, r *anatomy.Report, opt AnatomyOptions) error {
	b := buffered(w)
	if err := anatomyText(b, r, opt); err != nil {
		return err
	}
	return b.Flush()
}

func anatomyText(w io.Writer, r *anatomy.Report, opt AnatomyOptions) error {
	p := &printer{w: w}
	kind := "Image"
	if r.Subject == anatomy.SubjectContainer {
		kind = "Container"
	}
	wrap(p, "", fmt.Sprintf("%s %s (%s): %d layers, base first. Sizes are Docker's (st_size, each inode once, dirs 0).",
		kind, Escape(r.Name), shortID(strings.TrimPrefix(r.ID, "sha256:")), len(r.Layers)))
	p.f("\n")
	rows := make([][]string, 0, len(r.Layers))
	for _, l := range r.Layers {
		rows = append(rows, []string{strconv.Itoa(l.Position), anatomyRole(l), HumanBytes(l.Size), countCell(l.Added), countCell(l.Changed),
			strconv.Itoa(l.Deleted.Entries), countCell(l.Removed), HumanBytes(l.Wasted.Bytes), Escape(clip(Instruction(l.CreatedBy), 60))})
	}
	if p.err == nil {
		p.err = table(p.w, []string{"POS", "LAYER", "SIZE", "ADDED", "CHANGED", "WHITEOUTS", "REMOVED BELOW", "WASTED", "CREATED BY"}, rows)
	}
	p.f("\n")
	wrap(p, "", "ADDED: entries no layer below has. CHANGED: entries that take the place of one below (rewritten, or copied with new "+
		"metadata). WHITEOUTS: deletions. REMOVED BELOW: what this layer's whiteouts, opaque dirs and rewrites make invisible in the layers "+
		"below. WASTED: what of this layer's own bytes later layers make invisible: still on disk, in every pull and push, seen by no one.")
	p.f("\n")
	if r.Waste.Entries == 0 {
		p.oneLine("Waste: none. Every byte of these layers is visible in the merged view.")
	} else {
		p.oneLine("Waste: " + WasteLine(r))
		for _, g := range r.Waste.Groups {
			p.f("\n")
			wrap(p, "  ", fmt.Sprintf("%s: %s", HumanBytes(g.Bytes), groupShort(r, g)))
			wrap(p, "    ", groupAdvice(r, g))
		}
		top := opt.Top
		if top == 0 {
			top = 10
		}
		p.f("\n")
		p.f("Biggest invisible files:\n")
		var frows [][]string
		for i, q := range r.Waste.Paths {
			if i == top {
				break
			}
			frows = append(frows, []string{HumanBytes(q.Bytes), Escape(q.Path), strconv.Itoa(q.Layer), string(q.Kind), strconv.Itoa(q.By), Escape(q.ByAt)})
		}
		if p.err == nil {
			p.err = table(p.w, []string{"BYTES", "PATH", "IN LAYER", "HOW", "BY LAYER", "BY ENTRY"}, frows)
		}
		if n := len(r.Waste.Paths) + r.Waste.PathsLeft - len(frows); n > 0 {
			p.f("  … and %d more (--format json lists %d)\n", n, len(r.Waste.Paths))
		}
	}
	if opt.Layer > 0 {
		anatomyEntries(p, r, opt.Layer)
	}
	if !r.Complete {
		p.f("\n")
		wrap(p, "", "Incomplete: a layer could not be read whole (see the findings on stderr); the numbers are lower bounds.")
	}
	return p.err
}

func anatomyRole(l anatomy.Layer) string {
	switch l.Role {
	case inspect.RoleRW:
		return "rw"
	case inspect.RoleInit:
		return "init"
	}
	return short(l.ChainID)
}

func countCell(c anatomy.Count) string {
	if c.Entries == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", c.Entries, HumanBytes(c.Bytes))
}

// layerWords names the layer at position pos with its instruction.
func layerWords(r *anatomy.Report, pos int) string {
	if pos < 1 || pos > len(r.Layers) {
		return fmt.Sprintf("layer %d", pos)
	}
	l := r.Layers[pos-1]
	switch l.Role {
	case inspect.RoleRW:
		return "the writable layer"
	case inspect.RoleInit:
		return "the init layer"
	}
	s := fmt.Sprintf("layer %d", pos)
	if ins := Instruction(l.CreatedBy); ins != "" {
		s += " (`" + Escape(clip(ins, 50)) + "`)"
	}
	return s
}

// groupShort says where a group's bytes are and what made them invisible.
func groupShort(r *anatomy.Report, g anatomy.Group) string {
	paths := ""
	for i, q := range g.Paths {
		if i > 0 {
			paths += ", "
		}
		paths += Escape(q)
	}
	if more := g.Entries - len(g.Paths); more > 0 {
		paths += fmt.Sprintf(" and %d more", more)
	}
	verb := map[inspect.DeadKind]string{
		inspect.DeadDeleted:     "deleted by",
		inspect.DeadOverwritten: "overwritten by",
		inspect.DeadHidden:      "hidden by an opaque dir of",
		inspect.DeadReplaced:    "below a dir replaced by a file in",
	}[g.Kind]
	return fmt.Sprintf("%s in %s, %s %s", paths, layerWords(r, g.Layer), verb, layerWords(r, g.By))
}

// groupAdvice says, in the lesson's terms, how not to leave the bytes.
func groupAdvice(r *anatomy.Report, g anatomy.Group) string {
	by, in := layerWords(r, g.By), layerWords(r, g.Layer)
	size := HumanBytes(g.Bytes)
	switch g.Kind {
	case inspect.DeadDeleted:
		return fmt.Sprintf("%s leaves %s in %s: deleting a file in a later layer does not make an image smaller; delete it in the RUN that created it.", by, size, in)
	case inspect.DeadOverwritten:
		return fmt.Sprintf("%s rewrites what %s wrote: the older %s stays in the image; write the file once, in the last step that needs it.", by, in, size)
	case inspect.DeadHidden:
		return fmt.Sprintf("%s replaces a whole dir (opaque): the %s below it in %s stay; build the dir in one step.", by, size, in)
	default:
		return fmt.Sprintf("%s puts a file where %s has a dir: the %s below it stay; change the type in the step that made the dir.", by, in, size)
	}
}

// anatomyEntries lists the entries of the layer at pos.
func anatomyEntries(p *printer, r *anatomy.Report, pos int) {
	if pos > len(r.Layers) {
		return
	}
	l := r.Layers[pos-1]
	p.f("\n")
	wrap(p, "", fmt.Sprintf("Entries of %s, %s:", layerWords(r, pos), Escape(l.Dir)))
	rows := make([][]string, 0, len(l.Entries))
	for _, c := range l.Entries {
		size := ""
		if c.Type != "dir" && c.Kind != inspect.KindWhiteout {
			size = HumanBytes(c.Size)
		}
		what := ""
		if c.Origin != nil {
			verb := "shadows"
			if c.Kind == inspect.KindWhiteout {
				verb = "deletes"
			}
			what = verb + " layer " + strconv.Itoa(c.Origin.Position)
			if c.Origin.Layer != string(inspect.RoleImage) {
				what = verb + " " + c.Origin.Layer
			}
		}
		if len(c.Hides) > 0 {
			what += fmt.Sprintf("; hides %d", len(c.Hides))
		}
		rows = append(rows, []string{string(c.Kind), Escape(c.Path), c.Type, size, what})
	}
	if p.err == nil {
		p.err = table(p.w, []string{"KIND", "PATH", "TYPE", "SIZE", "BELOW"}, rows)
	}
}
