package browse

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/anatomy"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/report"
)

// The smallest screen the view draws in.
const (
	MinWidth  = 80
	MinHeight = 24
)

// The lines around the panes: the header, the panes' titles, the entry's
// details (a title and detailLines) and the key line.
const (
	detailLines = 5
	chromeLines = 1 + 1 + 1 + detailLines + 1
	// layerInfoLines are the selected layer's lines under the layer list.
	layerInfoLines = 8
)

// styles are the view's looks: reverse for titles and the cursor (no
// colour, so the view reads the same in every terminal and palette).
type styles struct {
	title, cursor, key, dim lipgloss.Style
}

func newStyles() styles {
	return styles{
		title:  lipgloss.NewStyle().Reverse(true).Bold(true),
		cursor: lipgloss.NewStyle().Reverse(true),
		key:    lipgloss.NewStyle().Bold(true),
		dim:    lipgloss.NewStyle().Faint(true),
	}
}

// legend is what the mark columns of the tree say.
const legend = "A added  M modified  C copied  m metadata only  O opaque dir  R renamed dir  " +
	"D deleted  H hidden (opaque dir)  x deleted above  ^ rewritten above  * changes inside"

func (m *Model) body() int { return max(1, m.height-chromeLines) }

// treeRows is how many tree lines fit.
func (m *Model) treeRows() int { return m.body() }

// layerRows is how many layers the list shows.
func (m *Model) layerRows() int { return max(3, m.body()-layerInfoLines) }

func (m *Model) leftWidth() int { return max(34, min(m.width*2/5, 56)) }

// View draws the screen: every name escaped, every line cut to the width.
func (m *Model) View() string {
	if m.width < MinWidth || m.height < MinHeight {
		return fit(fmt.Sprintf("dlayer browse needs at least %d×%d; this terminal is %d×%d. Make it bigger, or press q to quit.",
			MinWidth, MinHeight, m.width, m.height), m.width)
	}
	if m.showHelp {
		return m.helpView()
	}
	lw := m.leftWidth()
	rw := m.width - lw - 1
	left := m.layerPane(lw)
	right := m.treePane(rw)
	var b strings.Builder
	b.WriteString(m.st.title.Render(fit(m.header(), m.width)))
	b.WriteByte('\n')
	for i := range left {
		b.WriteString(left[i])
		b.WriteString(m.st.dim.Render("│"))
		b.WriteString(right[i])
		b.WriteByte('\n')
	}
	for _, l := range m.details() {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString(m.keyLine())
	return b.String()
}

func (m *Model) header() string {
	r := m.r
	s := fmt.Sprintf(" dlayer browse · %s %s (%s)", r.Subject, report.Escape(r.Name), inspect.ShortID(r.ID))
	if m.o.Image != "" {
		s += " · image " + report.Escape(m.o.Image)
	}
	s += fmt.Sprintf(" · %d layers · %s in %d paths", len(m.tree.Stack), report.HumanBytes(sizeOf(r)), m.tree.Nodes)
	if r.Waste.Bytes > 0 {
		s += " · " + report.HumanBytes(r.Waste.Bytes) + " wasted"
	}
	if !r.Complete {
		s += " · incomplete (see explain)"
	}
	return s
}

func sizeOf(r *anatomy.Report) int64 {
	var n int64
	for _, l := range r.Layers {
		n += l.Size
	}
	return n
}

// anat is the anatomy of the layer at stack index i.
func (m *Model) anat(i int) anatomy.Layer { return m.r.Layers[len(m.r.Layers)-1-i] }

// label names the layer at stack index i: rw, init, binit (a build
// container's init snapshot, in no image) or L<n>, the image's n-th layer
// from the base (docker history's layers, bottom up).
func (m *Model) label(i int) string {
	if i < 0 || i >= len(m.tree.Stack) {
		return "?"
	}
	switch m.tree.Stack[i].Role {
	case inspect.RoleRW:
		return "rw"
	case inspect.RoleInit:
		return "init"
	case inspect.RoleUnowned:
		return "binit"
	}
	n := 0
	for _, l := range m.tree.Stack[i:] {
		if l.Role == inspect.RoleImage {
			n++
		}
	}
	return "L" + strconv.Itoa(n)
}

// layerPane is the layer list, top first, and the selected layer's facts.
func (m *Model) layerPane(w int) []string {
	out := make([]string, 0, m.body()+1)
	title := " LAYERS (top first)"
	if m.focus == PaneLayers {
		title += " ◂"
	}
	out = append(out, m.st.title.Render(fit(title, w)))
	waste := m.r.Waste.Bytes > 0
	n := len(m.tree.Stack)
	rows := m.layerRows()
	for k := 0; k < rows; k++ {
		i := m.layerTop + k
		if i >= n {
			out = append(out, fit("", w))
			continue
		}
		a := m.anat(i)
		cur := "  "
		if i == m.layer {
			cur = "> "
		}
		s := fmt.Sprintf("%s%-5s%7s ", cur, m.label(i), report.HumanBytes(a.Size))
		if waste {
			wa := ""
			if a.Wasted.Bytes > 0 {
				wa = report.HumanBytes(a.Wasted.Bytes)
			}
			s += fmt.Sprintf("%7s ", wa)
		}
		s += report.Escape(m.layerWhat(i))
		s = fit(s, w)
		if i == m.layer && m.focus == PaneLayers {
			s = m.st.cursor.Render(s)
		}
		out = append(out, s)
	}
	for _, l := range m.layerInfo(w) {
		out = append(out, fit(l, w))
	}
	return out[:m.body()+1]
}

// layerWhat is a layer's one-line story: its instruction (content hashes
// of COPY and ADD sources cut to Docker's 12 hex), or its role.
func (m *Model) layerWhat(i int) string {
	l := m.tree.Stack[i]
	switch l.Role {
	case inspect.RoleRW:
		return "the container's writes"
	case inspect.RoleInit:
		return "Docker's per-container files"
	case inspect.RoleUnowned:
		return "a build step's init files (in no image)"
	}
	if l.CreatedBy == "" {
		return "(no history)"
	}
	return shortSources(report.Instruction(l.CreatedBy))
}

// shortSources cuts each content hash of a COPY or ADD source (64 hex
// or more after a colon: "file:", "dir:", "multi:") to Docker's 12, so
// that the destination stays in view: "COPY file:e8b62ed2b90e… in /data".
func shortSources(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			return b.String() + s
		}
		n := 0
		for i+1+n < len(s) && strings.IndexByte("0123456789abcdef", s[i+1+n]) >= 0 {
			n++
		}
		b.WriteString(s[:i+1])
		if n >= 64 {
			b.WriteString(s[i+1:i+13] + "…")
		} else {
			b.WriteString(s[i+1 : i+1+n])
		}
		s = s[i+1+n:]
	}
}

// layerInfo is what the selected layer is, in layerInfoLines lines.
func (m *Model) layerInfo(w int) []string {
	i := m.layer
	l, a := m.tree.Stack[i], m.anat(i)
	var out []string
	sep := strings.Repeat("─", w)
	out = append(out, m.st.dim.Render(sep))
	switch l.Role {
	case inspect.RoleRW:
		out = append(out, "rw: the writable (upper) layer, "+inspect.ShortID(l.CacheID))
	case inspect.RoleInit:
		out = append(out, "init: the -init layer, "+inspect.ShortID(l.CacheID))
	case inspect.RoleUnowned:
		out = append(out, "binit: a build step's init snapshot, "+report.Escape(inspect.ShortID(l.CreatedBy)))
	default:
		s := m.label(i) + ": read-only image layer"
		if l.ChainID != "" {
			s += ", chain " + inspect.ShortID(string(l.ChainID))
		}
		out = append(out, s)
	}
	out = append(out, fmt.Sprintf("+%d added  ~%d changed  -%d deleted", a.Added.Entries, a.Changed.Entries, a.Deleted.Entries))
	s := ""
	if a.Removed.Entries > 0 {
		s = fmt.Sprintf("kills %d below (%s)", a.Removed.Entries, report.HumanBytes(a.Removed.Bytes))
	}
	if a.Wasted.Bytes > 0 {
		s += cond(s != "", "  ", "") + report.HumanBytes(a.Wasted.Bytes) + " of it unseen"
	}
	if s == "" {
		s = "no waste"
	}
	out = append(out, s)
	what := report.Escape(m.layerWhat(i))
	out = append(out, wrapTo(what, w, 2)...)
	out = append(out, wrapTo(legend, w, layerInfoLines-len(out))...)
	for len(out) < layerInfoLines {
		out = append(out, "")
	}
	return out[:layerInfoLines]
}

// cond is a when ok, else b.
func cond[T any](ok bool, a, b T) T {
	if ok {
		return a
	}
	return b
}

// treePane is the merged tree as of the selected layer.
func (m *Model) treePane(w int) []string {
	out := make([]string, 0, m.body()+1)
	title := fmt.Sprintf(" TREE as of %s · %d lines", m.label(m.layer), len(m.rows))
	if m.filter != FilterNone {
		title += " · " + m.filter.String()
		if m.filter == FilterNewer && m.o.StartWhat != "" {
			title += " (" + m.o.StartWhat + ")"
		}
	}
	if m.query != "" {
		title += " · /" + report.Escape(m.query)
	}
	if m.focus == PaneTree {
		title += " ◂"
	}
	out = append(out, m.st.title.Render(fit(title, w)))
	h := m.treeRows()
	for k := 0; k < h; k++ {
		i := m.top + k
		if i >= len(m.rows) {
			if len(m.rows) == 0 && k == 0 {
				out = append(out, fit("  (nothing here: esc clears the filter and the search)", w))
				continue
			}
			out = append(out, fit("", w))
			continue
		}
		s := fit(m.rowText(m.rows[i], i == m.cursor), w)
		if i == m.cursor && m.focus == PaneTree {
			s = m.st.cursor.Render(s)
		}
		out = append(out, s)
	}
	return out
}

// rowText is one tree line: cursor, own mark, fate above, mode, size,
// providing layer, the name indented by depth.
func (m *Model) rowText(r row, cur bool) string {
	i := m.layer
	c := m.version(r.n, r.ghost)
	mark, above := ' ', ' '
	if e, ok := r.n.Own(i); ok {
		mark = markOf(e)
	} else if r.dir && !m.open[r.n] && m.below[r.n] {
		mark = '*'
	}
	if !r.ghost {
		if e, ok := r.n.Above(i); ok {
			switch {
			case !e.Present():
				above = 'x'
			case e.Dead != "" && !r.dir:
				above = '^'
			}
		}
	}
	from := ""
	if e, ok := r.n.At(m.seen(r.ghost)); ok && e.Present() {
		from = m.label(e.Layer)
	}
	size := ""
	if c != nil && !isDir(c) && c.Kind != inspect.KindWhiteout {
		size = report.HumanBytes(c.Size)
	}
	name := report.Escape(r.n.Name)
	twisty := "  "
	if r.dir {
		twisty = cond(m.open[r.n] || m.narrowed(), "▾ ", "▸ ")
		name += "/"
	}
	if c != nil && c.LinkTarget != "" {
		name += " → " + report.Escape(c.LinkTarget)
	}
	curs := cond(cur, ">", " ")
	return fmt.Sprintf("%s%c%c %s %7s %-4s %s%s%s", curs, mark, above, modeString(c), size, from, strings.Repeat("  ", r.depth), twisty, name)
}

// markOf is the letter of what a layer does at a path.
func markOf(e anatomy.Event) rune {
	if e.Change == nil {
		if e.Dead == inspect.DeadHidden {
			return 'H'
		}
		return 'D'
	}
	switch e.Change.Kind {
	case inspect.KindAdded:
		return 'A'
	case inspect.KindModified:
		return 'M'
	case inspect.KindCopiedUp:
		return 'C'
	case inspect.KindMetadataCopyUp:
		return 'm'
	case inspect.KindOpaque:
		return 'O'
	case inspect.KindRedirect:
		return 'R'
	}
	return 'D'
}

// modeString is ls -l's mode: type letter and permissions.
func modeString(c *anatomy.Entry) string {
	if c == nil {
		return "?---------"
	}
	if c.Kind == inspect.KindWhiteout && c.Type == "" {
		return "whiteout  "
	}
	t := map[layerfs.Type]byte{layerfs.TypeDir: 'd', layerfs.TypeSymlink: 'l', layerfs.TypeChar: 'c', layerfs.TypeBlock: 'b',
		layerfs.TypeFIFO: 'p', layerfs.TypeSocket: 's', layerfs.TypeFile: '-'}[layerfs.Type(c.Type)]
	if t == 0 {
		t = '?'
	}
	v := inspect.ModeBits(c.Mode)
	b := []byte{t, 'r', 'w', 'x', 'r', 'w', 'x', 'r', 'w', 'x'}
	for k := 0; k < 9; k++ {
		if v&(1<<(8-k)) == 0 {
			b[k+1] = '-'
		}
	}
	special := func(bit uint64, at int, on, off byte) {
		if v&bit != 0 {
			b[at] = cond(b[at] == 'x', on, off)
		}
	}
	special(0o4000, 3, 's', 'S')
	special(0o2000, 6, 's', 'S')
	special(0o1000, 9, 't', 'T')
	return string(b)
}

// details are the lines about the entry under the cursor.
func (m *Model) details() []string {
	w := m.width
	out := []string{m.st.title.Render(fit(" ENTRY", w))}
	if m.cursor >= len(m.rows) {
		out = append(out, fit("  no entry: the tree is empty", w))
	} else {
		out = append(out, m.entryLines()...)
	}
	for len(out) < detailLines+1 {
		out = append(out, "")
	}
	for k := range out[1:] {
		out[k+1] = fit(out[k+1], w)
	}
	return out[:detailLines+1]
}

func (m *Model) entryLines() []string {
	r := m.rows[m.cursor]
	c := m.version(r.n, r.ghost)
	p := report.Escape(r.n.Path())
	if c != nil && c.LinkTarget != "" {
		p += " → " + report.Escape(c.LinkTarget)
	}
	out := []string{" " + p}
	if c != nil {
		meta := fmt.Sprintf(" %s %s  %d:%d", c.Type, modeString(c), c.UID, c.GID)
		if !isDir(c) {
			meta += "  " + report.HumanBytes(c.Size)
		}
		meta += "  mtime " + stamp(c.Mtime) + "  ctime " + stamp(c.Ctime)
		out = append(out, meta)
	}
	if r.ghost {
		out = append(out, " "+m.death(r.n))
	} else {
		out = append(out, " "+m.provenance(r.n))
		out = append(out, " "+m.fate(r.n, r.dir))
	}
	out = append(out, " "+m.hashLine(r))
	return out
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// provenance says which layer provides n as of the selected layer, how,
// and what it shadows.
func (m *Model) provenance(n *anatomy.Node) string {
	i := m.layer
	e, ok := n.At(i)
	if !ok || e.Change == nil {
		return "the root of the tree"
	}
	c := e.Change
	sh := n.Shadowed(i)
	lower := ""
	if len(sh) > 0 {
		lower = m.label(sh[0].Layer)
	}
	s := "from " + m.label(e.Layer) + ": "
	rwLike := m.tree.Stack[e.Layer].Role != inspect.RoleImage
	switch c.Kind {
	case inspect.KindAdded:
		s += "added (no layer below has it)"
	case inspect.KindModified:
		s += "modified over " + lower + "'s"
		if len(c.Changed) > 0 {
			s += " (" + strings.Join(c.Changed, ", ") + ")"
		}
	case inspect.KindCopiedUp:
		s += cond(rwLike, "copied up unchanged from ", "written again unchanged over ") + lower
	case inspect.KindMetadataCopyUp:
		s += "metadata-only copy: the data stays in " + lower
	case inspect.KindOpaque:
		s += "opaque dir: hides what the layers below have in it"
	case inspect.KindRedirect:
		s += "renamed dir, its content from " + report.Escape(c.Redirect)
	}
	if c.Origin != nil && c.Origin.CreatedBy != "" && c.Kind != inspect.KindAdded {
		s += " · " + lower + " made by " + report.Escape(report.Instruction(c.Origin.CreatedBy))
	}
	if len(sh) > 1 {
		names := make([]string, len(sh))
		for k, x := range sh {
			names[k] = m.label(x.Layer)
		}
		s += " · shadows " + strings.Join(names, ", ")
	}
	if m.tree.Stack[e.Layer].Role == inspect.RoleRW && c.Phase != "" {
		s += " · written " + strings.ReplaceAll(string(c.Phase), "-", " ")
	}
	return s
}

// fate says what the layers above the selected one do to n.
func (m *Model) fate(n *anatomy.Node, dir bool) string {
	i := m.layer
	if i == 0 {
		return "top of the stack: nothing above it"
	}
	e, ok := n.Above(i)
	if !ok {
		return "no layer above changes it: the top sees this version"
	}
	by := m.label(e.Layer)
	at := report.Escape(e.By)
	switch {
	case e.Present() && e.Dead == "":
		return by + " changes its metadata (" + string(e.Change.Kind) + "); the data stays here"
	case e.Present() && dir:
		return by + " has this dir too (" + string(e.Change.Kind) + ")"
	case e.Present():
		return by + " rewrites it: this version's bytes are wasted"
	case e.Dead == inspect.DeadHidden:
		return by + "'s opaque dir " + at + " hides it: wasted"
	case e.Dead == inspect.DeadReplaced:
		return by + " replaces the dir " + at + " with a non-dir: wasted"
	}
	return by + " deletes it (whiteout at " + at + "): its bytes stay here unseen"
}

// death says how the selected layer makes the ghost n invisible.
func (m *Model) death(n *anatomy.Node) string {
	e, _ := n.Own(m.layer)
	at := report.Escape(e.By)
	was := ""
	if lo, ok := n.At(m.layer + 1); ok && lo.Present() {
		was = " the version of " + m.label(lo.Layer)
	}
	switch {
	case e.Change != nil && e.Change.Kind == inspect.KindWhiteout && was == "":
		return "whiteout that deletes nothing: no layer below has this path"
	case e.Dead == inspect.DeadHidden:
		return "hidden: this layer's opaque dir " + at + " hides" + was
	case e.Dead == inspect.DeadReplaced:
		return "gone: this layer made " + at + " a non-dir, which removes" + was
	case e.Change != nil && e.Change.Kind == inspect.KindWhiteout:
		return "deleted: this layer's whiteout (" + report.Escape(e.Change.Marker) + ") removes" + was
	}
	return "deleted: this layer's whiteout at " + at + " removes" + was
}

func (m *Model) hashLine(r row) string {
	e, ok := r.n.Data(m.seen(r.ghost))
	if !ok || !isFile(e) {
		return ""
	}
	sum, done := m.hashes[hashKey{r.n, e.Layer}]
	if !done {
		return "sha256: press # (reads the file in " + m.label(e.Layer) + ")"
	}
	return cond(strings.HasPrefix(sum, "sha256:"), sum, "sha256: "+sum) // the digest, or hashing… or why not
}

// keyLine is the keys, or the search being typed.
func (m *Model) keyLine() string {
	if m.searching {
		return fit(m.search.View()+m.st.dim.Render("   enter keep · esc drop"), m.width)
	}
	parts := [][2]string{{"tab", "pane"}, {"↑↓", "move"}, {"enter", "open"}, {"/", "search"},
		{"a c d w s n", "filter"}, {"esc", "all"}, {"#", "sha256"}, {"?", "help"}, {"q", "quit"}}
	var b strings.Builder
	for k, p := range parts {
		if k > 0 {
			b.WriteString("  ")
		}
		b.WriteString(m.st.key.Render(p[0]) + " " + p[1])
	}
	return fit(b.String(), m.width)
}

// helpView is the help screen: the keys, the marks, and what the kind
// of the entry under the cursor means.
func (m *Model) helpView() string {
	h := m.help
	h.Width = m.width
	var lines []string
	lines = append(lines, m.st.title.Render(fit(" dlayer browse: help (any key returns)", m.width)), "")
	lines = append(lines, strings.Split(h.FullHelpView(m.keys.FullHelp()), "\n")...)
	lines = append(lines, "", "Filters: a added by the layer · c changed (rewritten or copied from below) · d deleted or hidden by the layer · "+
		"w wasted (a layer above deletes, hides or rewrites it) · s setuid/setgid · n modified after "+cond(m.o.StartWhat != "", m.o.StartWhat, "the start"), "")
	lines = append(lines, "Marks: "+legend, "")
	lines = append(lines, "The tree as of a layer is what a container of the stack cut off at that layer would see: "+
		"the layers are stacked, each hides what it rewrites or deletes below it, and nothing is ever removed from a layer below.")
	if m.cursor < len(m.rows) {
		if e, ok := m.rows[m.cursor].n.Own(m.layer); ok && e.Change != nil {
			if t := report.KindText(string(e.Change.Kind), m.o.Terms); t != "" {
				lines = append(lines, "", t)
			}
		}
	}
	var out []string
	for _, l := range lines {
		out = append(out, wrapTo(l, m.width, m.height)...)
	}
	for len(out) < m.height {
		out = append(out, "")
	}
	out = out[:m.height]
	for k := range out {
		out[k] = fit(out[k], m.width)
	}
	return strings.Join(out, "\n")
}

// fit cuts s to w cells (… marks a cut) and pads it to w.
func fit(s string, w int) string {
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}

// wrapTo wraps s into at most n lines of w cells; … ends the last when
// some of s is left out.
func wrapTo(s string, w, n int) []string {
	if n <= 0 {
		return nil
	}
	out := strings.Split(ansi.Wrap(s, w, " "), "\n")
	if len(out) > n {
		out = out[:n]
		out[n-1] = ansi.Truncate(out[n-1]+" …", w, "…")
	}
	return out
}
