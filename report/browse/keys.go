package browse

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// keyMap is every key of the view, with the help it shows on screen.
type keyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
	Pane, Open, Close, Toggle             key.Binding
	Search, Clear                         key.Binding
	Added, Changed, Deleted, Wasted       key.Binding
	Setuid, Newer                         key.Binding
	Hash, Help, Quit                      key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+f"}, "pgdn", "page down"),
		Home:     b([]string{"home", "g"}, "g", "first"),
		End:      b([]string{"end", "G"}, "G", "last"),
		Pane:     b([]string{"tab", "shift+tab"}, "tab", "layers/tree"),
		Open:     b([]string{"right", "l"}, "→", "open dir"),
		Close:    b([]string{"left", "h"}, "←", "close dir / go to parent"),
		Toggle:   b([]string{"enter", " "}, "enter", "open/close dir"),
		Search:   b([]string{"/"}, "/", "search path"),
		Clear:    b([]string{"esc", "0"}, "esc", "clear filter and search"),
		Added:    b([]string{"a"}, "a", "added"),
		Changed:  b([]string{"c"}, "c", "changed"),
		Deleted:  b([]string{"d"}, "d", "deleted"),
		Wasted:   b([]string{"w"}, "w", "wasted"),
		Setuid:   b([]string{"s"}, "s", "setuid"),
		Newer:    b([]string{"n"}, "n", "newer than start"),
		Hash:     b([]string{"#"}, "#", "sha256"),
		Help:     b([]string{"?"}, "?", "help"),
		Quit:     b([]string{"q", "ctrl+c"}, "q", "quit"),
	}
}

// filterOf is the filter msg's key sets (FilterNone: not a filter key).
func (k keyMap) filterOf(msg tea.KeyMsg) Filter {
	for f, b := range map[Filter]key.Binding{FilterAdded: k.Added, FilterChanged: k.Changed, FilterDeleted: k.Deleted,
		FilterWasted: k.Wasted, FilterSetuid: k.Setuid, FilterNewer: k.Newer} {
		if key.Matches(msg, b) {
			return f
		}
	}
	return FilterNone
}

// FullHelp is the help screen's columns.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
		{k.Pane, k.Open, k.Close, k.Toggle, k.Search, k.Clear},
		{k.Added, k.Changed, k.Deleted, k.Wasted, k.Setuid, k.Newer},
		{k.Hash, k.Help, k.Quit},
	}
}
