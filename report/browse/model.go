// Package browse is dlayer browse: an interactive view of an image's or a
// container's layers and of the merged tree as of each layer, with the
// provenance of every entry (which layer provides it, what it shadows,
// what a layer above does to it). It is a view over anatomy.Tree: it
// reads nothing but the content hash of a file, and only when asked.
package browse

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/anatomy"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/report"
)

// Options are what the view needs beyond the anatomy.
type Options struct {
	// Image names a container's image.
	Image string
	// Start is the time "newer than the start" compares mtimes with, and
	// StartWhat says what it is ("the container's start").
	Start     time.Time
	StartWhat string
	// Hash is the sha256 of the file at path p in layer dir dir (hex
	// digest form); nil: no hashes.
	Hash func(dir, p string) (string, error)
	// Terms are the driver's words for its kinds of change.
	Terms backend.Terms
}

// Filter narrows the tree to one kind of entry.
type Filter int

// The filters.
const (
	FilterNone Filter = iota
	// FilterAdded: entries the layer adds.
	FilterAdded
	// FilterChanged: entries the layer rewrites or copies from below.
	FilterChanged
	// FilterDeleted: entries of the layers below that the layer deletes
	// or hides.
	FilterDeleted
	// FilterWasted: files seen as of the layer that a layer above
	// deletes, hides or rewrites: their bytes stay in the image unseen.
	FilterWasted
	// FilterSetuid: setuid or setgid files.
	FilterSetuid
	// FilterNewer: entries modified after Options.Start.
	FilterNewer
)

func (f Filter) String() string {
	return [...]string{"all", "added", "changed", "deleted", "wasted", "setuid", "newer than start"}[f]
}

// Pane is the half of the screen the keys move in.
type Pane int

// The panes.
const (
	PaneLayers Pane = iota
	PaneTree
)

// Model is the view's state. The zero value is not usable: see New.
type Model struct {
	r    *anatomy.Report
	tree *anatomy.Tree
	o    Options
	keys keyMap
	help help.Model
	st   styles

	width, height int
	focus         Pane
	// layer is the selected layer's stack index (top first);
	// layerTop the first one listed.
	layer, layerTop int

	rows        []row
	cursor, top int
	// open are the open dirs; below the dirs holding entries of the
	// selected layer (marked when closed).
	open, below map[*anatomy.Node]bool

	filter    Filter
	search    textinput.Model
	searching bool
	query     string
	showHelp  bool

	hashes map[hashKey]string
}

// row is one line of the tree.
type row struct {
	n     *anatomy.Node
	depth int
	// ghost: the entry is not in the view as of the layer, which deletes
	// or hides it.
	ghost bool
	dir   bool
	// hit: narrowed, the entry matches (the others lead to one).
	hit bool
}

type hashKey struct {
	n     *anatomy.Node
	layer int
}

// hashMsg is the result of a content hash.
type hashMsg struct {
	k   hashKey
	sum string
}

// autoOpen is the most entries of a layer for which every dir holding
// one opens when the layer is selected (a base layer of many thousand
// files opens only at the top).
const autoOpen = 2000

// New is the view of r (whose Tree is set), its writable layer (or its top
// layer) selected.
func New(r *anatomy.Report, o Options) *Model {
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "part of a path"
	m := &Model{r: r, tree: r.Tree, o: o, keys: newKeyMap(), help: help.New(), st: newStyles(), search: in,
		width: 100, height: 30, focus: PaneLayers, hashes: map[hashKey]string{}}
	m.selectLayer(0)
	return m
}

// Init starts nothing: the data is all there.
func (m *Model) Init() tea.Cmd { return nil }

// Layer is the selected layer's stack index (top first).
func (m *Model) Layer() int { return m.layer }

// Focus is the pane the keys move in.
func (m *Model) Focus() Pane { return m.focus }

// Filter is the active filter.
func (m *Model) Filter() Filter { return m.filter }

// Query is the path search.
func (m *Model) Query() string { return m.query }

// Paths are the tree's lines as paths, ghosts (entries the layer deletes
// or hides) prefixed with "-".
func (m *Model) Paths() []string {
	out := make([]string, len(m.rows))
	for i, r := range m.rows {
		out[i] = r.n.Path()
		if r.ghost {
			out[i] = "-" + out[i]
		}
	}
	return out
}

// Selected is the path under the tree's cursor ("" when the tree is
// empty).
func (m *Model) Selected() string {
	if m.cursor >= len(m.rows) {
		return ""
	}
	return m.rows[m.cursor].n.Path()
}

// Update handles a key or a resize.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.scroll()
		return m, nil
	case hashMsg:
		m.hashes[msg.k] = msg.sum
		return m, nil
	case tea.KeyMsg:
		if m.searching {
			return m, m.searchKey(msg)
		}
		return m, m.key(msg)
	}
	return m, nil
}

// searchKey edits the search: the tree narrows as it is typed; enter
// keeps it, esc drops it.
func (m *Model) searchKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "enter":
		m.searching = false
		m.search.Blur()
		return nil
	case "esc", "ctrl+c":
		m.searching = false
		m.search.Blur()
		m.search.SetValue("")
		m.setQuery("")
		return nil
	}
	var cmd tea.Cmd
	m.search, cmd = m.search.Update(msg)
	m.setQuery(m.search.Value())
	return cmd
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	if m.showHelp {
		m.showHelp = false // any key goes back
		if key.Matches(msg, k.Quit) {
			return tea.Quit
		}
		return nil
	}
	f := k.filterOf(msg)
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.Pane):
		m.focus = 1 - m.focus
	case key.Matches(msg, k.Search):
		m.searching = true
		m.search.SetValue(m.query)
		m.search.CursorEnd()
		m.focus = PaneTree
		return m.search.Focus()
	case key.Matches(msg, k.Clear):
		m.filter = FilterNone
		m.search.SetValue("")
		m.setQuery("")
	case f != FilterNone:
		m.setFilter(f)
	case key.Matches(msg, k.Hash):
		return m.hash()
	case m.focus == PaneLayers:
		m.layerKey(msg)
	default:
		m.treeKey(msg)
	}
	return nil
}

// layerKey moves in the layer list: the tree follows the selected layer.
func (m *Model) layerKey(msg tea.KeyMsg) {
	k, n := m.keys, len(m.tree.Stack)
	to := m.layer
	switch {
	case key.Matches(msg, k.Up):
		to--
	case key.Matches(msg, k.Down):
		to++
	case key.Matches(msg, k.PageUp):
		to -= m.layerRows()
	case key.Matches(msg, k.PageDown):
		to += m.layerRows()
	case key.Matches(msg, k.Home):
		to = 0
	case key.Matches(msg, k.End):
		to = n - 1
	case key.Matches(msg, k.Open, k.Toggle):
		m.focus = PaneTree
		return
	default:
		return
	}
	m.selectLayer(max(0, min(to, n-1)))
}

// treeKey moves in the tree and opens and closes dirs.
func (m *Model) treeKey(msg tea.KeyMsg) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Up):
		m.cursor--
	case key.Matches(msg, k.Down):
		m.cursor++
	case key.Matches(msg, k.PageUp):
		m.cursor -= m.treeRows()
	case key.Matches(msg, k.PageDown):
		m.cursor += m.treeRows()
	case key.Matches(msg, k.Home):
		m.cursor = 0
	case key.Matches(msg, k.End):
		m.cursor = len(m.rows) - 1
	case key.Matches(msg, k.Open, k.Toggle, k.Close):
		if m.cursor >= len(m.rows) {
			return
		}
		r := m.rows[m.cursor]
		narrowed := m.narrowed()
		switch {
		case key.Matches(msg, k.Close) && (!r.dir || !m.open[r.n] || narrowed):
			m.toParent(r)
			return
		case !r.dir || narrowed:
			return
		case key.Matches(msg, k.Open):
			m.open[r.n] = true
		case key.Matches(msg, k.Close):
			delete(m.open, r.n)
		default:
			m.open[r.n] = !m.open[r.n]
		}
		m.flatten()
	}
	m.scroll()
}

// toParent puts the cursor on r's parent dir's line.
func (m *Model) toParent(r row) {
	for i := m.cursor - 1; i >= 0; i-- {
		if m.rows[i].depth < r.depth {
			m.cursor = i
			break
		}
	}
	m.scroll()
}

func (m *Model) setFilter(f Filter) {
	if m.filter == f {
		f = FilterNone
	}
	m.filter = f
	m.flatten()
}

func (m *Model) setQuery(q string) {
	m.query = q
	m.flatten()
}

// narrowed says whether a filter or a search chooses the lines (every
// dir on the way to one is then open).
func (m *Model) narrowed() bool { return m.filter != FilterNone || m.query != "" }

// selectLayer shows the tree as of layer i, the dirs holding its entries
// open (all of them when it has at most autoOpen).
func (m *Model) selectLayer(i int) {
	m.layer = i
	m.below = map[*anatomy.Node]bool{}
	count := 0
	var mark func(n *anatomy.Node) bool
	mark = func(n *anatomy.Node) bool {
		has := false
		for _, c := range n.Children {
			if _, own := c.Own(i); own {
				has = true
				count++
			}
			if len(c.Children) > 0 && mark(c) {
				has = true
			}
		}
		if has {
			m.below[n] = true
		}
		return has
	}
	mark(m.tree.Root)
	m.open = map[*anatomy.Node]bool{m.tree.Root: true}
	if count <= autoOpen {
		for n := range m.below {
			m.open[n] = true
		}
	}
	m.flatten()
	m.scroll()
}

// shown says whether n has a line as of the selected layer, and whether
// it is a ghost (deleted or hidden by the layer itself).
func (m *Model) shown(n *anatomy.Node) (show, ghost bool) {
	if n.Visible(m.layer) {
		return true, false
	}
	_, own := n.Own(m.layer)
	return own, own
}

// seen is the layer a line's version is read as of: the selected one, or
// for a ghost the layer below it (the version the selected layer removes).
func (m *Model) seen(ghost bool) int {
	if ghost {
		return m.layer + 1
	}
	return m.layer
}

// version is the change that the line of n shows: the entry seen as of
// the layer, or for a ghost the one the layer deletes (nil for a
// whiteout that deletes nothing: then the whiteout itself).
func (m *Model) version(n *anatomy.Node, ghost bool) *anatomy.Entry {
	if e, ok := n.At(m.seen(ghost)); ok && e.Present() {
		return e.Change
	}
	if e, ok := n.Own(m.layer); ok {
		return e.Change
	}
	return nil
}

func isDir(c *anatomy.Entry) bool { return c != nil && c.Type == string(layerfs.TypeDir) }

// isFile says whether e's entry is a regular file (what # hashes).
func isFile(e anatomy.Event) bool {
	return e.Change != nil && e.Change.Type == string(layerfs.TypeFile)
}

// flatten lists the tree's lines: the open dirs' entries, or, narrowed,
// every matching entry with the dirs on the way to it. The cursor stays
// on its path when it still has a line.
func (m *Model) flatten() {
	var keep *anatomy.Node
	if m.cursor < len(m.rows) {
		keep = m.rows[m.cursor].n
	}
	m.rows = m.rows[:0]
	q := strings.ToLower(m.query)
	narrowed := m.narrowed()
	var walk func(n *anatomy.Node, p string, depth int) bool
	walk = func(n *anatomy.Node, p string, depth int) bool {
		any := false
		for _, c := range n.Children {
			show, ghost := m.shown(c)
			if !show {
				continue
			}
			cp := p + "/" + c.Name
			at := len(m.rows)
			r := row{n: c, depth: depth, ghost: ghost, dir: isDir(m.version(c, ghost))}
			m.rows = append(m.rows, r)
			if !narrowed {
				if r.dir && m.open[c] {
					walk(c, cp, depth+1)
				}
				continue
			}
			hit := m.match(c, ghost) && (q == "" || strings.Contains(strings.ToLower(report.Escape(cp)), q))
			sub := r.dir && walk(c, cp, depth+1)
			if !hit && !sub {
				m.rows = m.rows[:at]
				continue
			}
			m.rows[at].hit = hit
			any = true
		}
		return any
	}
	walk(m.tree.Root, "", 0)
	m.cursor = 0
	first := -1 // narrowed: the first matching line
	for i, r := range m.rows {
		if r.n == keep && (!narrowed || r.hit) {
			m.cursor, first = i, -2
			break
		}
		if r.hit && first == -1 {
			first = i
		}
	}
	if first >= 0 {
		m.cursor = first
	}
	m.scroll()
}

// match says whether n passes the filter as of the selected layer.
func (m *Model) match(n *anatomy.Node, ghost bool) bool {
	i := m.layer
	own, isOwn := n.Own(i)
	c := m.version(n, ghost)
	switch m.filter {
	case FilterAdded:
		return isOwn && own.Present() && own.Change.Kind == inspect.KindAdded
	case FilterChanged:
		return isOwn && own.Present() && own.Change.Kind != inspect.KindAdded &&
			!(isDir(own.Change) && own.Change.Kind == inspect.KindCopiedUp)
	case FilterDeleted:
		return ghost
	case FilterWasted:
		return !ghost && c != nil && !isDir(c) && wastedAbove(n, i)
	case FilterSetuid:
		return !ghost && c != nil && !isDir(c) && setuid(c.Mode)
	case FilterNewer:
		return !ghost && c != nil && !m.o.Start.IsZero() && c.Mtime.After(m.o.Start)
	}
	return true
}

// wastedAbove says whether a layer above i makes the version seen as of i
// invisible (deletes, hides or rewrites it; a metadata-only copy keeps
// using its data).
func wastedAbove(n *anatomy.Node, i int) bool {
	e, ok := n.Above(i)
	return ok && (!e.Present() || e.Dead != "")
}

func setuid(mode string) bool { return inspect.ModeBits(mode)&0o6000 != 0 }

// hash asks for the sha256 of the file under the cursor, from the layer
// holding its data.
func (m *Model) hash() tea.Cmd {
	if m.o.Hash == nil || m.cursor >= len(m.rows) {
		return nil
	}
	r := m.rows[m.cursor]
	e, ok := r.n.Data(m.seen(r.ghost))
	if !ok || !isFile(e) {
		return nil
	}
	k := hashKey{r.n, e.Layer}
	if _, done := m.hashes[k]; done {
		return nil
	}
	m.hashes[k] = "hashing…"
	dir, p, hash := m.tree.Stack[e.Layer].Dir, r.n.Path(), m.o.Hash
	return func() tea.Msg {
		sum, err := hash(dir, p)
		if err != nil {
			sum = "cannot hash: " + err.Error()
		}
		return hashMsg{k: k, sum: sum}
	}
}

// scroll keeps the cursors in range and on screen.
func (m *Model) scroll() {
	m.cursor = max(0, min(m.cursor, len(m.rows)-1))
	h := m.treeRows()
	if m.cursor < m.top {
		m.top = m.cursor
	}
	if m.cursor >= m.top+h {
		m.top = m.cursor - h + 1
	}
	m.top = max(0, min(m.top, len(m.rows)-h))
	lh := m.layerRows()
	if m.layer < m.layerTop {
		m.layerTop = m.layer
	}
	if m.layer >= m.layerTop+lh {
		m.layerTop = m.layer - lh + 1
	}
}
