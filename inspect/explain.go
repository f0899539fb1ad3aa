package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/inspect/progress"
	"github.com/opencontainers/go-digest"
)

// ExplainOptions are the inputs of Explain besides the store.
type ExplainOptions struct {
	// Mounts are the overlay mounts of mountinfo; MountsKnown says whether
	// mount data was read at all (--mountinfo none: it was not).
	Mounts      []LiveMount
	MountsKnown bool
	// Progress, when set, is called from another goroutine about every
	// ProgressEvery (default progress.Default) while the upper dir is
	// walked, with what the walk has read so far (a large upper dir takes
	// seconds); it is not called once the walk has ended.
	Progress      func(ExplainProgress)
	ProgressEvery time.Duration
	// diffOnly: the caller wants the docker diff lines (Diff) and the
	// stack, not the explanation of each change (see Store.Diff).
	diffOnly bool
}

// ExplainProgress is a snapshot of a running walk of an upper dir.
type ExplainProgress struct {
	// Entries is how many upper-dir entries have been read, Dirs how
	// many of them were directories entered.
	Entries, Dirs int64
}

// LayerRole is a layer's place in a container's stack.
type LayerRole string

// The roles of a container's layers, top to bottom.
const (
	RoleRW    LayerRole = "rw"    // the container's writable upper layer
	RoleInit  LayerRole = "init"  // the -init layer Docker creates per container
	RoleImage LayerRole = "image" // an image layer
	// RoleUnowned is a dir the driver mounts below the container that is
	// no image layer and not its init layer (backend.Lower.Unowned: on
	// containerd's store, a classic-builder build container's init
	// snapshot, which a RUN step's layer sits on).
	RoleUnowned LayerRole = "unowned"
)

// String returns the role as written in JSON.
func (r LayerRole) String() string { return string(r) }

// StackLayer is one layer of a container's stack, top to bottom.
type StackLayer struct {
	// Role is "rw" (the container's writable upper layer), "init" (the
	// -init layer Docker creates per container) or "image".
	Role LayerRole `json:"role"`
	// Position numbers image layers from the base: 1 = base.
	Position int           `json:"position,omitempty"`
	DiffID   digest.Digest `json:"diff_id,omitempty"`
	ChainID  digest.Digest `json:"chain_id,omitempty"`
	// CacheID is the layer's dir name under the driver home (for rw and
	// init: the mount-id and init-id).
	CacheID string `json:"cache_id"`
	// Dir is the layer's content dir (<driver home>/<cache id>/diff).
	Dir string `json:"dir"`
	// Link is the layer's short name (l/<link>).
	Link string `json:"link,omitempty"`
	// Size is the content size: layerdb's size for image layers; for rw,
	// Docker's SizeRw computed by the driver's rule (Terms.RWSize: the
	// upper dir's st_size, each inode once; on the legacy overlay driver
	// that of what docker diff lists as A or C); for init, the upper dir's.
	Size int64 `json:"size"`
	// DiskUsage is allocated bytes; computed for rw only (0 otherwise).
	DiskUsage int64     `json:"disk_usage,omitempty"`
	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created,omitzero"`
}

// ContainerInfo is the container part of an explanation.
type ContainerInfo struct {
	Container
	ImageTags []string `json:"image_tags"`
}

// Summary counts an explanation's changes.
type Summary struct {
	// Kinds counts changes by kind.
	Kinds map[ChangeKind]int `json:"kinds"`
	// CopyBytes is the st_size of all copies of lower files (modified,
	// copied_up, metadata_copy_up entries that are not dirs).
	CopyBytes int64 `json:"copy_bytes"`
	// DockerDiff counts the lines `docker diff` prints; NotInDiff the
	// entries it does not list (copies that changed nothing, and what it
	// folds into a parent), DiffOnly its lines that no entry of the upper
	// dir has (the lower entries a deleted or opaque dir hides).
	DockerDiff int `json:"docker_diff"`
	NotInDiff  int `json:"not_in_diff"`
	DiffOnly   int `json:"diff_only"`
	// Hidden is what of the image (and init) layers the writable layer
	// makes invisible to the container — files it deleted or rewrote,
	// entries below a dir it replaced: their bytes stay in those layers.
	Hidden EntryCount `json:"hidden"`
	// Attention lists what deserves a look first, kind by kind (of the
	// whole layer, before any --since/--until).
	Attention []Attention `json:"attention"`
}

// Explanation is the whole answer of Explain.
type Explanation struct {
	Container ContainerInfo `json:"container"`
	RWLayer   RWLayer       `json:"rw_layer"`
	Layers    []StackLayer  `json:"layers"`
	Changes   []Change      `json:"changes"`
	// Diff is the container's `docker diff`, sorted by path.
	Diff     []DiffLine `json:"diff"`
	Summary  Summary    `json:"summary"`
	Findings []Finding  `json:"findings"`
	// Timeline places the changes in the container's life.
	Timeline Timeline `json:"timeline"`
	// Complete is false when this process cannot see everything the
	// changes depend on; Gaps say what and why.
	Complete bool  `json:"complete"`
	Gaps     []Gap `json:"gaps"`
}

// Explain reads everything about one container from the store: its layer
// stack, where each layer lives, and what its writable layer did.
func (s *Store) Explain(ref string, opt ExplainOptions) (*Explanation, error) {
	x, err := s.explainChanges(ref, opt)
	if err != nil {
		return nil, err
	}
	s.timeline(x)
	x.Summary.Attention = attention(x.Changes)
	if x.Summary.Attention == nil {
		x.Summary.Attention = []Attention{}
	}
	return x, nil
}

// Diff is Explain for `docker diff`: the stack, the dirs and Diff (the
// same lines Explain gives), without what only an explanation needs —
// what differs in each copied-up entry (no file content is compared, no
// symlink read), what an opaque dir hides, the init layer's size, the
// timeline and what deserves attention. Changes is left empty; Summary
// counts as Explain's, but for kinds: a copied-up entry may count as
// "copied_up" where Explain says "modified".
func (s *Store) Diff(ref string, opt ExplainOptions) (*Explanation, error) {
	opt.diffOnly = true
	return s.explainChanges(ref, opt)
}

// explainChanges is Explain without the timeline: the stack, the dirs
// and the classified changes.
func (s *Store) explainChanges(ref string, opt ExplainOptions) (*Explanation, error) {
	x, err := s.explainStack(ref, opt)
	if err != nil {
		return nil, err
	}
	if err := s.walkChanges(x, opt); err != nil {
		return nil, err
	}
	return x, nil
}

// Stack is Explain without the walk of the writable layer: the
// container, its stack (rw, init, image layers, top first) and dirs, and
// the findings about them; no changes. For a feature that walks the
// layers itself (layers --contents).
func (s *Store) Stack(ref string) (*Explanation, error) {
	return s.explainStack(ref, ExplainOptions{})
}

// explainStack is the part of an explanation before the walk.
func (s *Store) explainStack(ref string, opt ExplainOptions) (*Explanation, error) {
	c, err := s.FindContainer(ref)
	if err != nil {
		return nil, err
	}
	if c.Driver != "" && c.Driver != s.Driver {
		return nil, fmt.Errorf("container %s uses driver %q: %w", c.Name, c.Driver, ErrUnsupportedDriver)
	}
	x := &Explanation{Container: ContainerInfo{Container: c}, Findings: []Finding{}, Changes: []Change{}, Diff: []DiffLine{}, Gaps: []Gap{}}
	x.Gaps = append(x.Gaps, s.Gaps()...)
	x.Complete = len(x.Gaps) == 0
	images := s.imageLayers(c, x)
	if err := s.rwLayer(c, images, x, opt); err != nil {
		return nil, err
	}
	return x, nil
}

// imageLayers fills the image part of the stack (top first) and returns it,
// with the layer checks of ImageLayers as findings.
func (s *Store) imageLayers(c Container, x *Explanation) []StackLayer {
	if c.ImageID == "" {
		return nil
	}
	img, err := s.Image(c.ImageID)
	if err != nil {
		x.Findings = append(x.Findings, Finding{Kind: "image_unreadable", Message: err.Error()})
		return nil
	}
	x.Container.ImageTags = img.Tags
	il := s.ImageLayers(img)
	x.Findings = append(x.Findings, il.Findings...)
	out := make([]StackLayer, 0, len(il.Layers))
	for i := len(il.Layers) - 1; i >= 0; i-- {
		l := il.Layers[i]
		sl := StackLayer{Role: RoleImage, Position: l.Position, DiffID: l.DiffID, ChainID: l.ChainID, CacheID: l.CacheID,
			Link: l.Link, Size: l.Size, CreatedBy: l.CreatedBy, Created: l.Created}
		if sl.CreatedBy == "" {
			sl.CreatedBy = l.Comment // docker import: "Imported from -"
		}
		if l.CacheID != "" {
			sl.Dir = s.graph.Layout(l.CacheID).Content
		}
		out = append(out, sl)
	}
	return out
}

// rwLayer fills RWLayer and the rw/init/image stack.
func (s *Store) rwLayer(c Container, images []StackLayer, x *Explanation, opt ExplainOptions) error {
	m, err := s.MountRecord(c.ID)
	if err != nil {
		return fmt.Errorf("container %s: rw layer: %w", c.Name, err)
	}
	if len(images) > 0 && m.Parent != images[0].ChainID {
		x.Findings = append(x.Findings, Finding{Kind: "parent_mismatch", Path: s.imageDir("layerdb", "mounts", c.ID, "parent"),
			Message: fmt.Sprintf("mount parent is %q, the image's top layer is %s", m.Parent, images[0].ChainID)})
	}
	up, in := s.graph.Layout(m.MountID), s.graph.Layout(m.InitID)
	rw := RWLayer{MountRecord: m, Driver: s.Driver, Terms: s.graph.Terms(), UpperDir: up.Content, WorkDir: up.Work, MergedDir: up.Merged, ParentsFile: up.Parents}
	if m.InitID != "" {
		rw.InitDir = in.Content
	}
	if link, err := s.graph.Link(m.MountID); err == nil {
		rw.Link = link
	}
	stack := []StackLayer{{Role: RoleRW, CacheID: m.MountID, Dir: up.Content, Link: rw.Link}}
	if m.InitID != "" {
		il, _ := s.graph.Link(m.InitID)
		stack = append(stack, StackLayer{Role: RoleInit, CacheID: m.InitID, Dir: in.Content, Link: il})
	}
	stack = append(stack, images...)

	// What the driver will mount: its record of the lower layers (overlay2's
	// lower file, aufs's layers file), checked against the chain.
	lowers, exists, err := s.graph.Lowers(m.MountID)
	stack = withUnowned(stack, lowers)
	x.Layers = stack
	want := stack[1:]
	switch {
	case err != nil:
		x.Findings = append(x.Findings, Finding{Kind: "lower_unreadable", Message: err.Error()})
	case !exists && len(want) > 0:
		x.Findings = append(x.Findings, Finding{Kind: "lower_missing", Path: up.Parents,
			Message: "the rw layer has no record of its lower layers, but the container has lower layers"})
	}
	for i, lw := range lowers {
		rw.LowerLinks = append(rw.LowerLinks, lw.Ref)
		if lw.Err != nil {
			x.Findings = append(x.Findings, Finding{Kind: "bad_link", Message: lw.Err.Error()})
			rw.LowerDirs = append(rw.LowerDirs, "")
			continue
		}
		rw.LowerDirs = append(rw.LowerDirs, lw.Content)
		if i < len(want) && want[i].CacheID != "" && lw.ID != want[i].CacheID {
			x.Findings = append(x.Findings, Finding{Kind: "lower_mismatch", Path: up.Parents,
				Message: fmt.Sprintf("entry %d (%s) is layer %s, the layer store says %s", i+1, lw.Ref, lw.ID, want[i].CacheID)})
		}
	}
	if exists && len(lowers) != len(want) {
		x.Findings = append(x.Findings, Finding{Kind: "lower_mismatch", Path: up.Parents,
			Message: fmt.Sprintf("%d entries, the layer store has %d lower layers", len(lowers), len(want))})
	}
	// What the driver mounts: the same dirs, or (legacy overlay) the one
	// whole tree that holds them. Its errors are those of Lowers.
	if mls, _, err := s.graph.MountLowers(m.MountID); err == nil {
		for _, lw := range mls {
			rw.MountLowerDirs = append(rw.MountLowerDirs, lw.Content)
		}
	}
	if opt.MountsKnown {
		s.checkMount(&rw, c, opt.Mounts, x)
	}
	x.RWLayer = rw
	return nil
}

// withUnowned inserts into stack (rw first) the lowers the driver marks
// Unowned, where the driver mounts them.
func withUnowned(stack []StackLayer, lowers []backend.Lower) []StackLayer {
	any := false
	for _, lw := range lowers {
		any = any || lw.Unowned && lw.Err == nil
	}
	if !any || len(stack) == 0 {
		return stack
	}
	out := []StackLayer{stack[0]}
	j := 1
	for _, lw := range lowers {
		switch {
		case lw.Unowned && lw.Err == nil:
			out = append(out, StackLayer{Role: RoleUnowned, CacheID: lw.ID, Dir: lw.Content, CreatedBy: lw.Ref})
		case j < len(stack):
			out = append(out, stack[j])
			j++
		}
	}
	return append(out, stack[j:]...)
}

// checkMount finds the live overlay mount of the rw layer and compares its
// options with the store.
func (s *Store) checkMount(rw *RWLayer, c Container, mounts []LiveMount, x *Explanation) {
	mounted := false
	for i := range mounts {
		m := mounts[i]
		if filepath.Clean(m.UpperDir) != rw.UpperDir && filepath.Clean(m.MountPoint) != rw.MergedDir {
			continue
		}
		mounted = true
		rw.Mount = &m
		if m.WorkDir != "" && filepath.Clean(m.WorkDir) != rw.WorkDir {
			x.Findings = append(x.Findings, Finding{Kind: "mount_mismatch", Path: m.MountPoint,
				Message: fmt.Sprintf("mounted with workdir %s, the store says %s", m.WorkDir, rw.WorkDir)})
		}
		got := make([]string, len(m.LowerDirs))
		for j, d := range m.LowerDirs {
			got[j] = s.resolveLowerPath(d)
		}
		branchesKnown := m.UpperDir != "" || len(m.LowerDirs) > 0 // aufs behind si= with sysfs gone: unknown
		if branchesKnown && fmt.Sprint(got) != fmt.Sprint(rw.MountLowerDirs) {
			x.Findings = append(x.Findings, Finding{Kind: "mount_mismatch", Path: m.MountPoint,
				Message: fmt.Sprintf("mounted lower dirs resolve to %v, the store's %s to %v", got, filepath.Base(rw.ParentsFile), rw.MountLowerDirs)})
		}
		break
	}
	rw.Mounted = &mounted
	if !mounted && c.State.Running {
		x.Findings = append(x.Findings, Finding{Kind: "running_not_mounted", Path: rw.MergedDir,
			Message: "the container state says running, but mountinfo has no " + s.Driver + " mount of its rw layer (the state may be stale after a crash, or --root is a copy of the live root)"})
	}
}

// resolveLowerPath maps a mounted lowerdir (<home>/l/LINK) to the layer's
// diff dir, reading the link as text.
func (s *Store) resolveLowerPath(p string) string {
	p = filepath.Clean(p)
	rel, err := filepath.Rel(s.graph.Home(), p)
	if err != nil || strings.HasPrefix(rel, "..") {
		return p
	}
	if x := s.graph.ParsePath(strings.Split(rel, "/")); x.Kind == backend.PathShortLink && len(x.Rel) == 0 {
		if id, _, err := s.graph.ShortLink(x.Link); err == nil {
			return s.graph.Layout(id).Content
		}
	}
	return p
}

// walkChanges classifies the upper dir against the lower dirs.
func (s *Store) walkChanges(x *Explanation, opt ExplainOptions) error {
	rw := x.RWLayer
	upper, err := s.fs.OpenDir(rw.UpperDir)
	if err != nil {
		return fmt.Errorf("container %s: upper dir: %w", x.Container.Name, err)
	}
	defer upper.Close()
	// The lower dirs: as the lower file says when it resolves, else as the
	// layer store says.
	dirs := rw.LowerDirs
	if len(dirs) != len(x.Layers)-1 || contains(dirs, "") {
		dirs = nil
		for _, l := range x.Layers[1:] {
			dirs = append(dirs, l.Dir)
		}
	}
	w := &walker{f: s.graph.Format(), inodes: map[[2]uint64]bool{}, diffOnly: opt.diffOnly}
	var hidden EntryCount
	if !opt.diffOnly {
		var tally DeadTally
		w.dead = func(d DeadEntry) {
			if n, live := tally.Add(d); !live && !d.Stat.IsDir() {
				hidden = hidden.Plus(n)
			}
		}
	}
	if opt.Progress != nil {
		defer progress.Every(opt.ProgressEvery, func() {
			opt.Progress(ExplainProgress{Entries: w.entriesRead.Load(), Dirs: w.dirsEntered.Load()})
		})()
	}
	layerOf := map[string]int{}
	for i, l := range x.Layers {
		layerOf[l.Dir] = i
	}
	for _, d := range dirs {
		ld, err := s.fs.OpenDir(d)
		if err != nil {
			x.Findings = append(x.Findings, Finding{Kind: "layer_dir_missing", Path: d, Message: err.Error()})
			continue
		}
		defer ld.Close()
		idx, ok := layerOf[d]
		if !ok {
			idx = -1
		}
		w.roots = append(w.roots, ldir{layer: idx, d: ld})
	}
	w.origin = func(layer int, p string) *Origin { return stackOrigin(x.Layers, layer, p) }
	if err := w.walk(upper, w.roots); err != nil {
		return fmt.Errorf("container %s: %w", x.Container.Name, err)
	}
	if !opt.diffOnly {
		x.Changes = w.changes
	}
	x.Findings = append(x.Findings, w.finds...)
	x.Layers[0].Size, x.Layers[0].DiskUsage = w.rwSize, w.rwDisk
	switch s.graph.Terms().RWSize {
	case backend.SizeChanges:
		x.Layers[0].Size = w.diffSize
	case backend.SizeUsage: // the upper dir's allocated bytes, itself included
		if fi, err := s.fs.Lstat(rw.UpperDir); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				x.Layers[0].Size = w.rwDisk + st.Blocks*512
			}
		}
	}
	if len(x.Layers) > 1 && x.Layers[1].Role == RoleInit && !opt.diffOnly {
		if sz, _, err := treeUsage(s.fs, x.Layers[1].Dir); err == nil {
			x.Layers[1].Size = sz
		}
	}
	x.Summary = Summary{Kinds: map[ChangeKind]int{}, Hidden: hidden}
	x.Diff = slices.Grow(x.Diff, w.list.len()+len(w.extra))
	w.list.each(func(c *Change) {
		x.Summary.Kinds[c.Kind]++
		if c.DockerDiff != "" {
			x.Diff = append(x.Diff, DiffLine{Kind: c.DockerDiff, Path: c.Path})
		} else {
			x.Summary.NotInDiff++
		}
		if c.Type == string(layerfs.TypeFile) && (c.Kind == KindModified || c.Kind == KindCopiedUp || c.Kind == KindMetadataCopyUp) {
			x.Summary.CopyBytes += c.Size
		}
	})
	x.Diff = append(x.Diff, w.extra...)
	x.Summary.DiffOnly = len(w.extra)
	slices.SortFunc(x.Diff, func(a, b DiffLine) int { return strings.Compare(a.Path, b.Path) })
	x.Summary.DockerDiff = len(x.Diff)
	return nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// treeUsage is Docker's directory.Size of a tree (st_size of non-dirs,
// each inode once) and the disk usage of its entries (st_blocks*512, each
// inode once; the dir itself not counted). Depth first, one open
// descriptor per level.
func treeUsage(o layerfs.Opener, dir string) (size, disk int64, err error) {
	d, err := o.OpenDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, 0, nil
		}
		return 0, 0, err
	}
	type level struct {
		d     *layerfs.Dir
		names []string
	}
	w := &walker{inodes: map[[2]uint64]bool{}}
	names, err := d.Names()
	stack := []level{{d, names}}
	for len(stack) > 0 && err == nil {
		top := &stack[len(stack)-1]
		if len(top.names) == 0 {
			top.d.Close()
			stack = stack[:len(stack)-1]
			continue
		}
		n := top.names[0]
		top.names = top.names[1:]
		st, ok, lerr := top.d.Lstat(n)
		if lerr != nil || !ok {
			continue
		}
		w.countSize(st)
		if st.IsDir() {
			sub, serr := top.d.Sub(n)
			if serr != nil {
				continue
			}
			var sn []string
			sn, err = sub.Names()
			stack = append(stack, level{sub, sn})
		}
	}
	for _, l := range stack {
		l.d.Close()
	}
	return w.rwSize, w.rwDisk, err
}
