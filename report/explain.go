package report

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dlayer/dlayer/inspect"
)

// ExplainOptions tune the text form of an explanation.
type ExplainOptions struct {
	// Quiet drops the plain-English explanations.
	Quiet bool
	// Width is the terminal's width in columns that text is wrapped to;
	// 0 is DefaultWidth.
	Width int
}

// DefaultWidth is the width text is wrapped to when no terminal says
// otherwise.
const DefaultWidth = 100

// attentionLabel names each kind of attention in the summary.
func attentionLabel(k inspect.AttentionKind) string {
	return map[inspect.AttentionKind]string{
		inspect.AttentionSetID:        "setuid/setgid gained",
		inspect.AttentionCapability:   "file capabilities gained",
		inspect.AttentionExecAdded:    "executables added",
		inspect.AttentionExecReplaced: "executables replaced",
		inspect.AttentionSystemPath:   "system dirs changed",
		inspect.AttentionAfterStart:   "changed after the start",
	}[k]
}

// explainSummary writes the verdict first, in at most about 15 lines.
func explainSummary(p *printer, x *inspect.Explanation) {
	c := x.Container
	p.f("Container %s (%s)   %s\n", Escape(c.Name), shortID(c.ID), stateLine(c.State))
	img := "none (scratch)"
	if c.ImageID != "" {
		img = fmt.Sprintf("%s (image %s)", Escape(c.ImageRef), short(c.ImageID))
		if len(c.ImageTags) > 0 {
			img += ", tagged " + Escape(strings.Join(c.ImageTags, ", "))
		}
	}
	p.field("  image      ", img)
	life := "created " + when(c.Created)
	if !c.State.StartedAt.IsZero() && c.State.StartedAt.Year() > 1 {
		life += ", started " + when(c.State.StartedAt)
	}
	if !c.State.FinishedAt.IsZero() && c.State.FinishedAt.Year() > 1 {
		life += ", finished " + when(c.State.FinishedAt)
	}
	p.field("  driver     ", c.Driver+"; "+life)
	if up := x.RWLayer.UpperDir; up != "" {
		p.field("  upper dir  ", Escape(up))
	}
	n := max(x.Timeline.Total, len(x.Changes))
	var parts []string
	for _, k := range inspect.ChangeKinds() {
		if v := x.Summary.Kinds[k]; v > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", v, k))
		}
	}
	changes := fmt.Sprintf("%d entr%s", n, plural(n, "y", "ies"))
	if len(parts) > 0 {
		changes += " (" + strings.Join(parts, ", ") + ")"
	}
	p.field("  changes    ", fmt.Sprintf("%s; docker diff lists %d", changes, x.Summary.DockerDiff))
	if len(x.Layers) > 0 {
		p.field("  written    ", fmt.Sprintf("%s in the writable layer, %s of it copies of lower files", HumanBytes(x.Layers[0].Size), HumanBytes(x.Summary.CopyBytes)))
		if h := x.Summary.Hidden; h.Entries > 0 {
			p.field("  hidden     ", fmt.Sprintf("%d image %s (%s) this container deleted, rewrote or hid below a replaced dir: their bytes stay in the image layers "+
				"(the image's own waste: dlayer layers --contents)", h.Entries, plural(h.Entries, "file", "files"), HumanBytes(h.Bytes)))
		}
	}
	if len(x.Summary.Attention) == 0 {
		p.field("  attention  ", "nothing: no setuid/setgid or capability gained, no executable added or replaced, nothing under "+
			strings.Join(inspect.SystemDirs()[:3], ", ")+"… changed, nothing after the start")
		return
	}
	lead := "  attention  "
	for _, a := range x.Summary.Attention {
		ps := make([]string, 0, 3)
		for _, q := range a.Paths[:min(3, len(a.Paths))] {
			ps = append(ps, Escape(q))
		}
		text := strings.Join(ps, ", ")
		if more := a.Count - len(ps); more > 0 {
			text += fmt.Sprintf(" and %d more", more)
		}
		p.field(fmt.Sprintf("%s%-25s ", lead, attentionLabel(a.Kind)), text)
		lead = "             "
	}
}

// Explain writes an explanation for people: the summary first (what the
// container is, where its writable layer lives, what it did, and what
// deserves a look), then the details.
func Explain(w io.Writer, x *inspect.Explanation, opt ExplainOptions) error {
	b := buffered(w)
	if err := explain(b, x, opt); err != nil {
		return err
	}
	return b.Flush()
}

func explain(w io.Writer, x *inspect.Explanation, opt ExplainOptions) error {
	p := &printer{w: w, width: opt.Width}
	explainSummary(p, x)
	p.f("\n")
	explainDirs(p, x, opt)
	p.f("\n")
	if err := explainStack(p, x, opt); err != nil {
		return err
	}
	p.f("\n")
	if err := explainTimeline(p, x, opt); err != nil {
		return err
	}
	p.f("\n")
	explainChanges(p, x, opt)
	explainFindings(p, x.Findings)
	return p.err
}

func stateLine(s inspect.State) string {
	out := s.Status
	if s.Running {
		out += fmt.Sprintf(", pid %d", s.Pid)
	}
	if s.Status == "exited" {
		out += fmt.Sprintf(", exit code %d", s.ExitCode)
	}
	return out
}

func when(t time.Time) string {
	if t.IsZero() || t.Year() <= 1 {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
}

func explainDirs(p *printer, x *inspect.Explanation, opt ExplainOptions) {
	rw := x.RWLayer
	p.f("Where it lives on disk\n")
	t := rw.Terms
	if !opt.Quiet {
		wrap(p, "  ", "("+strings.ReplaceAll(t.Stacking, "\n", " ")+")")
	}
	mounted := "unknown (no mount data read)"
	if rw.Mounted != nil {
		mounted = "no"
		if *rw.Mounted {
			mounted = "yes, at " + Escape(rw.Mount.MountPoint)
		}
	}
	from := "layerdb/mounts/<container>/mount-id; not the container ID"
	if t.MountIDFrom != "" {
		from = t.MountIDFrom
	}
	p.field("  mount-id    ", rw.MountID+"   ("+from+")")
	if rw.Link != "" {
		p.field("  link        ", "l/"+rw.Link+"   (the rw layer's short name)")
	}
	p.field("  upper dir   ", Escape(rw.UpperDir))
	if t.WorkDir {
		p.field("  work dir    ", Escape(rw.WorkDir))
	}
	p.field("  merged dir  ", Escape(rw.MergedDir))
	p.field("  mounted     ", mounted)
	if !opt.Quiet {
		for _, l := range strings.Split(t.DirsHelp, "\n") {
			p.field("              ", l)
		}
	}
	p.field("  lower dirs  ", "(uppermost first, "+t.LowersFrom+")")
	for i, d := range rw.LowerDirs {
		ref := ""
		if i < len(rw.LowerLinks) {
			ref = rw.LowerLinks[i]
		}
		if d == "" {
			d = "(does not resolve)"
		}
		if !t.ShortLinks {
			p.field("    ", Escape(d))
			continue
		}
		p.field(fmt.Sprintf("    %-28s -> ", ref), Escape(d))
	}
	if !opt.Quiet && len(rw.LowerDirs) > 0 {
		p.field("              ", t.LowersHelp)
	}
}

func explainStack(p *printer, x *inspect.Explanation, opt ExplainOptions) error {
	p.f("Layer stack, top to bottom\n")
	var rows [][]string
	images := 0
	for _, l := range x.Layers {
		if l.Role == "image" {
			images++
		}
	}
	for _, l := range x.Layers {
		pos, what, chain := l.Role.String(), "", ""
		switch l.Role {
		case inspect.RoleRW:
			what = "the container's writable layer (upper dir)"
		case inspect.RoleInit:
			what = "Docker's per-container init layer"
		case inspect.RoleUnowned:
			pos = "below"
			what = clip("in no image: "+l.CreatedBy+" (a build container's init layer a RUN step sits on)", 60)
		default:
			pos = fmt.Sprintf("%d/%d", l.Position, images)
			what = clip(Instruction(l.CreatedBy), 60)
			chain = short(l.ChainID)
		}
		rows = append(rows, []string{pos, chain, short(l.DiffID), shortID(l.CacheID), HumanBytes(l.Size), Escape(what)})
	}
	if err := table(p.w, []string{"layer", "chain id", "diff id", "cache id", "size", "created by"}, rows); err != nil {
		return err
	}
	if !opt.Quiet {
		p.lines("  ", "  ", "The init layer holds what Docker prepares for every container: empty /.dockerenv, /etc/hosts, "+
			"/etc/resolv.conf, /etc/hostname and /dev/console (the real ones are bind-mounted from "+
			"containers/<id>/), dirs /dev/pts, /dev/shm, /proc, /sys, and /etc/mtab -> /proc/mounts.")
		p.lines("  ", "  ", "Image layers are shared, read-only, by every container of every image built on them.")
	}
	return nil
}

func explainChanges(p *printer, x *inspect.Explanation, opt ExplainOptions) {
	n := max(x.Timeline.Total, len(x.Changes)) // before --since/--until
	p.f("What the writable layer holds: %d entr%s; `docker diff` lists %d change%s\n",
		n, plural(n, "y", "ies"), len(x.Diff), plural(len(x.Diff), "", "s"))
	if why := diffCountWhy(x.Summary); why != "" {
		wrap(p, "  ", why)
	}
	if n == 0 {
		p.f("  nothing: the container has not written to its file system\n")
		return
	}
	if line := filterLine(x); line != "" {
		p.f("  %s\n", line)
		if len(x.Changes) == 0 {
			p.f("  none\n")
		}
	}
	seen := map[inspect.ChangeKind]bool{}
	for _, c := range x.Changes {
		letter := c.DockerDiff
		if letter == "" {
			letter = "-"
		}
		size := ""
		if c.Type != "dir" && c.Kind != inspect.KindWhiteout {
			size = ", " + HumanBytes(c.Size)
		}
		head := fmt.Sprintf("  %s %-16s %-13s %s  ", letter, c.Kind, c.Phase, stamp(x.Timeline.TimeOf(c)))
		if rest := Escape(c.Path) + "  (" + c.Type + size + ")"; utf8.RuneCountInString(head+rest) <= p.cols() {
			p.f("%s%s\n", head, rest)
		} else {
			p.lines(head, "      ", rest)
		}
		detail(p, c)
		wrap(p, "      ", timesLine(c))
		seen[c.Kind] = true
	}
	k := x.Summary.Kinds
	var parts []string
	for _, name := range inspect.ChangeKinds() {
		if k[name] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", k[name], name))
		}
	}
	all := "In all"
	if len(x.Changes) < n {
		all += " (the whole layer)"
	}
	wrap(p, "  ", fmt.Sprintf("%s: %s; copies of lower files cost %s.", all, strings.Join(parts, ", "), HumanBytes(x.Summary.CopyBytes)))
	if opt.Quiet {
		return
	}
	wrap(p, "  ", "The first column is what `docker diff` prints for the path (A added, C changed, D deleted; - not listed).")
	p.f("\nLegend: the kinds of change above\n")
	for _, k := range inspect.ChangeKinds() {
		if seen[k] {
			wrap(p, "  ", KindText(k.String(), x.RWLayer.Terms))
		}
	}
}

// detail writes the lines under one change: where the shadowed entry came
// from and what differs.
func detail(p *printer, c inspect.Change) {
	if c.LinkTarget != "" {
		wrap(p, "      ", "symlink to "+Escape(c.LinkTarget)+" (never followed)")
	}
	if o := c.Origin; o != nil {
		verb := map[inspect.ChangeKind]string{
			inspect.KindWhiteout: "deletes", inspect.KindOpaque: "replaces dir", inspect.KindRedirect: "content from",
		}[c.Kind]
		if verb == "" {
			verb = "copy of"
		}
		what := c.Type
		if c.Kind == inspect.KindOpaque {
			what = ""
		}
		if o.Path != "" {
			what += " " + Escape(o.Path)
		}
		wrap(p, "      ", strings.TrimSpace(verb+" "+what)+" from "+layerName(o))
	}
	if len(c.Changed) > 0 {
		wrap(p, "      ", "changed: "+changedLine(c))
	}
	if c.SHA256 != "" {
		p.f("      sha256 %s\n", c.SHA256)
	}
	if c.Marker != "" {
		wrap(p, "      ", "marker: "+c.Marker)
	}
	if len(c.Hides) > 0 {
		shown := c.Hides
		if len(shown) > 10 {
			shown = shown[:10]
		}
		esc := make([]string, len(shown))
		for i, h := range shown {
			esc[i] = Escape(h)
		}
		more := ""
		if len(c.Hides) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(c.Hides)-len(shown))
		}
		wrap(p, "      ", fmt.Sprintf("hides %d lower entr%s: %s%s", len(c.Hides), plural(len(c.Hides), "y", "ies"), strings.Join(esc, ", "), more))
	}
	if c.Note != "" {
		wrap(p, "      ", "note: "+c.Note)
	}
}

// changedLine says what differs, with the values where they are short:
// "mode 0644 -> 4755 (setuid), size 5B -> 8B, content, mtime".
func changedLine(c inspect.Change) string {
	lo := c.Lower
	var parts []string
	for _, what := range c.Changed {
		switch {
		case lo == nil:
			parts = append(parts, what)
		case what == "mode":
			s := fmt.Sprintf("mode %s -> %s", lo.Mode, c.Mode)
			if special := specialBits(c.Mode, lo.Mode); special != "" {
				s += " (" + special + ")"
			}
			parts = append(parts, s)
		case what == "owner":
			parts = append(parts, fmt.Sprintf("owner %d:%d -> %d:%d", lo.UID, lo.GID, c.UID, c.GID))
		case what == "size":
			parts = append(parts, fmt.Sprintf("size %s -> %s", HumanBytes(lo.Size), HumanBytes(c.Size)))
		case what == "type":
			parts = append(parts, fmt.Sprintf("type %s -> %s", lo.Type, c.Type))
		default:
			parts = append(parts, what)
		}
	}
	return strings.Join(parts, ", ")
}

// specialBits names the setuid, setgid and sticky bits a new mode gains.
func specialBits(now, was string) string {
	var n, w uint32
	fmt.Sscanf(now, "%o", &n)
	fmt.Sscanf(was, "%o", &w)
	var out []string
	for _, b := range []struct {
		bit  uint32
		name string
	}{{0o4000, "setuid"}, {0o2000, "setgid"}, {0o1000, "sticky"}} {
		if n&b.bit != 0 && w&b.bit == 0 {
			out = append(out, b.name+" added")
		}
	}
	return strings.Join(out, ", ")
}

func layerName(o *inspect.Origin) string {
	switch o.Layer {
	case "init":
		return "the init layer"
	case "image":
		s := fmt.Sprintf("layer %d (%s)", o.Position, short(o.ChainID))
		if o.CreatedBy != "" {
			s += ": " + Escape(clip(Instruction(o.CreatedBy), 70))
		}
		return s
	}
	return "an unknown layer"
}

func explainFindings(p *printer, fs []inspect.Finding) {
	if len(fs) == 0 {
		return
	}
	p.f("\nFindings (%d)\n", len(fs))
	for _, f := range fs {
		where := ""
		if f.Path != "" {
			where = " " + Escape(f.Path) + ":"
		}
		p.f("  %s:%s %s\n", f.Kind, where, Escape(f.Message))
	}
}

// ExplainJSON writes the explanation as one JSON object. Strings that are
// not valid UTF-8 are given escaped, and their change is marked escaped.
func ExplainJSON(w io.Writer, p Provenance, x *inspect.Explanation) error {
	y := *x
	y.Changes = jsonChanges(x.Changes)
	y.Diff = make([]inspect.DiffLine, len(x.Diff))
	for i, d := range x.Diff {
		d.Path, _ = jsonString(d.Path)
		y.Diff[i] = d
	}
	return JSON(w, ExplainDocument{NewHeader(SchemaExplain, p), y})
}

// jsonChanges are changes with their names as JSON holds them (Escaped
// set where a name held bytes that are not UTF-8).
func jsonChanges(cs []inspect.Change) []inspect.Change {
	out := make([]inspect.Change, len(cs))
	for i, c := range cs {
		var e1, e2 bool
		c.Path, e1 = jsonString(c.Path)
		c.LinkTarget, e2 = jsonString(c.LinkTarget)
		c.Escaped = e1 || e2
		if len(c.Hides) > 0 {
			c.Hides = append([]string(nil), c.Hides...)
			for j := range c.Hides {
				var e bool
				c.Hides[j], e = jsonString(c.Hides[j])
				c.Escaped = c.Escaped || e
			}
		}
		out[i] = c
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// wrap writes text in lines of at most the printer's width, each line
// after the first indented two more.
func wrap(p *printer, indent, text string) { p.lines(indent, indent+"  ", text) }

// lines writes text after first, wrapped to the printer's width, the next
// lines after indent. A word too long for any line (a path, an ID)
// stands alone on a line of its own, with nothing else.
func (p *printer) lines(first, indent, text string) {
	width := p.cols()
	if !strings.ContainsRune(text, '\n') && utf8.RuneCountInString(first+text) <= width {
		p.f("%s\n", strings.TrimRight(first+text, " ")) // fits: as written, spacing kept
		return
	}
	line, lead := first, first
	flush := func() {
		if line != lead || lead == first {
			p.f("%s\n", strings.TrimRight(line, " "))
		}
		line, lead = indent, indent
	}
	for _, word := range strings.Fields(text) {
		switch {
		case len(indent)+len(word) > width: // alone, unindented
			if line != lead {
				flush()
			} else if lead == first && strings.TrimSpace(first) != "" {
				flush()
			}
			p.f("%s\n", word)
			line, lead = indent, indent
			continue
		case len(line)+1+len(word) > width && (line != lead || strings.TrimSpace(lead) != ""):
			flush() // a label or prefix alone on its line, the word below it
		}
		if line != lead && !strings.HasSuffix(line, " ") {
			line += " "
		}
		line += word
	}
	if line != lead || lead == first {
		p.f("%s\n", strings.TrimRight(line, " "))
	}
}

// printer remembers the first write error, and the width lines wrap to.
type printer struct {
	w     io.Writer
	err   error
	width int
}

// cols is the width lines wrap to: the printer's own, else its
// writer's (WithWidth), else DefaultWidth.
func (p *printer) cols() int {
	if p.width > 0 {
		return p.width
	}
	if n := widthOf(p.w); n > 0 {
		return n
	}
	return DefaultWidth
}

// oneLine writes a line meant to stay whole (a summary a log greps):
// wrapped only on a terminal narrower than it.
func (p *printer) oneLine(text string) {
	if widthOf(p.w) > 0 {
		wrap(p, "", text)
		return
	}
	p.f("%s\n", text)
}

// field writes a label and its value, wrapped under the value's column.
func (p *printer) field(label, value string) {
	p.lines(label, strings.Repeat(" ", len(label)), value)
}

func (p *printer) f(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

// Gaps writes, one a line, what the run could not see and why: the
// answers above them may be incomplete.
func Gaps(w io.Writer, gaps []inspect.Gap) error {
	for _, g := range gaps {
		if _, err := fmt.Fprintf(w, "dlayer: incomplete: %s\n  because %s\n", g.What, g.Why); err != nil {
			return err
		}
	}
	return nil
}

// diffCountWhy says why docker diff's count differs from the entries':
// the entries it does not list, and its lines no entry has.
func diffCountWhy(s inspect.Summary) string {
	var parts []string
	if s.NotInDiff > 0 {
		parts = append(parts, fmt.Sprintf("%d of the entries %s not listed (a copy that changed nothing, or a change docker diff folds into its parent's line)",
			s.NotInDiff, plural(s.NotInDiff, "is", "are")))
	}
	if s.DiffOnly > 0 {
		parts = append(parts, fmt.Sprintf("%d of its lines %s no entry here: %s entries it lists one by one below a dir the container recreated (opaque) or renamed",
			s.DiffOnly, plural(s.DiffOnly, "has", "have"), plural(s.DiffOnly, "it is one of", "they are")))
	}
	if len(parts) == 0 {
		return ""
	}
	return "The counts differ: " + strings.Join(parts, "; ") + "."
}
