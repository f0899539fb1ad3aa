package anatomy

import (
	"regexp"
	"slices"

	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
)

// Reason is why two builds' layers diverge where they do.
type Reason string

// The reasons.
const (
	// ReasonNone: one image's layers are all the other's (or both the same).
	ReasonNone Reason = "none"
	// ReasonBase: their first layers differ: another base image.
	ReasonBase Reason = "base"
	// ReasonInstruction: the instruction that made the layer differs.
	ReasonInstruction Reason = "instruction"
	// ReasonCopySource: the same ADD or COPY of the classic builder, of
	// other content (its file:<hash> or dir:<hash> differs).
	ReasonCopySource Reason = "copy_source"
	// ReasonContent: the same instruction made other content (BuildKit's
	// history names a COPY without a hash; a RUN whose output changed).
	ReasonContent Reason = "content"
)

// Side is one of the two images compared.
type Side struct {
	ID     digest.Digest `json:"id"`
	Name   string        `json:"name"`
	Layers int           `json:"layers"`
}

// Brief is one layer, shortly.
type Brief struct {
	Position  int           `json:"position"`
	ChainID   digest.Digest `json:"chain_id"`
	CreatedBy string        `json:"created_by"`
	Size      int64         `json:"size"`
}

// FileDiff is a path whose entry differs between the two layers that
// diverge: its type and, for regular files, the sha256 of its content on
// each side ("" where that side's layer has no such entry).
type FileDiff struct {
	Path  string `json:"path"`
	TypeA string `json:"type_a"`
	TypeB string `json:"type_b"`
	SizeA int64  `json:"size_a"`
	SizeB int64  `json:"size_b"`
	HashA string `json:"sha256_a"`
	HashB string `json:"sha256_b"`
}

// Comparison lines up two images layer by layer, base first.
type Comparison struct {
	A Side `json:"a"`
	B Side `json:"b"`
	// Shared are the layers both have, in the same order from the base
	// (the same chain IDs: a rebuild's cache hits).
	Shared []Brief `json:"shared"`
	// Reason is why the first layer after them differs, Position its
	// position; InstructionA and InstructionB the history entries that
	// made each side's layer there.
	Reason       Reason `json:"reason"`
	Position     int    `json:"position"`
	InstructionA string `json:"instruction_a"`
	InstructionB string `json:"instruction_b"`
	// SourceA and SourceB are a classic COPY's or ADD's content hashes.
	SourceA string `json:"source_a,omitempty"`
	SourceB string `json:"source_b,omitempty"`
	// Files are the paths whose entries differ between the two layers at
	// Position (at most maxFileDiffs; FilesLeft the rest).
	Files     []FileDiff `json:"files"`
	FilesLeft int        `json:"files_left"`
	// AfterA and AfterB are each side's layers from Position on.
	AfterA   []Brief           `json:"after_a"`
	AfterB   []Brief           `json:"after_b"`
	Findings []inspect.Finding `json:"findings"`
}

// maxFileDiffs caps Comparison.Files.
const maxFileDiffs = 200

// copySource is the classic builder's ADD or COPY history text: the
// content's hash and the rest.
var copySource = regexp.MustCompile(`#\(nop\) (ADD|COPY) ((?:file|dir|multi):[0-9a-f]+) in `)

// Compare lines up images a and b.
func Compare(s *inspect.Store, a, b *inspect.Image) (*Comparison, error) {
	sa, fa := s.ImageStack(a.ID)
	sb, fb := s.ImageStack(b.ID)
	c := &Comparison{A: side(a, len(sa)), B: side(b, len(sb)), Findings: append(append([]inspect.Finding{}, fa...), fb...), Files: []FileDiff{}}
	// stacks are top first; position p is index len-p
	at := func(st []inspect.StackLayer, p int) *inspect.StackLayer {
		if p < 1 || p > len(st) {
			return nil
		}
		return &st[len(st)-p]
	}
	p := 1
	for ; p <= min(len(sa), len(sb)); p++ {
		la, lb := at(sa, p), at(sb, p)
		if la.ChainID != lb.ChainID {
			break
		}
		c.Shared = append(c.Shared, brief(*la))
	}
	for q := p; q <= len(sa); q++ {
		c.AfterA = append(c.AfterA, brief(*at(sa, q)))
	}
	for q := p; q <= len(sb); q++ {
		c.AfterB = append(c.AfterB, brief(*at(sb, q)))
	}
	la, lb := at(sa, p), at(sb, p)
	c.Reason, c.Position = ReasonNone, p
	if la == nil || lb == nil {
		return c, nil
	}
	c.InstructionA, c.InstructionB = la.CreatedBy, lb.CreatedBy
	ma, mb := copySource.FindStringSubmatchIndex(la.CreatedBy), copySource.FindStringSubmatchIndex(lb.CreatedBy)
	switch {
	case p == 1:
		c.Reason = ReasonBase
	case ma != nil && mb != nil && la.CreatedBy[:ma[4]]+la.CreatedBy[ma[5]:] == lb.CreatedBy[:mb[4]]+lb.CreatedBy[mb[5]:]:
		c.Reason, c.SourceA, c.SourceB = ReasonCopySource, la.CreatedBy[ma[4]:ma[5]], lb.CreatedBy[mb[4]:mb[5]]
	case la.CreatedBy != lb.CreatedBy:
		c.Reason = ReasonInstruction
	default:
		c.Reason = ReasonContent
	}
	files, finds := diffLayers(s, sa, len(sa)-p, sb, len(sb)-p)
	c.Findings = append(c.Findings, finds...)
	if len(files) > maxFileDiffs {
		c.FilesLeft = len(files) - maxFileDiffs
		files = files[:maxFileDiffs]
	}
	c.Files = append(c.Files, files...)
	return c, nil
}

func side(img *inspect.Image, layers int) Side {
	s := Side{ID: img.ID, Name: inspect.ShortID(string(img.ID)), Layers: layers}
	if len(img.Tags) > 0 {
		s.Name = img.Tags[0]
	}
	return s
}

func brief(l inspect.StackLayer) Brief {
	return Brief{Position: l.Position, ChainID: l.ChainID, CreatedBy: l.CreatedBy, Size: l.Size}
}

// diffLayers compares layer i of stack a with layer j of stack b, each
// walked against its own layers below: the paths whose entries differ in
// type, size or (for regular files) content, sorted.
func diffLayers(s *inspect.Store, a []inspect.StackLayer, i int, b []inspect.StackLayer, j int) ([]FileDiff, []inspect.Finding) {
	var finds []inspect.Finding
	entries := func(st []inspect.StackLayer, k int) map[string]inspect.Change {
		w, err := s.WalkLayer(st, k)
		if err != nil {
			finds = append(finds, inspect.Finding{Kind: "layer_unreadable", Path: st[k].Dir, Message: err.Error()})
			return nil
		}
		finds = append(finds, w.Findings...)
		m := make(map[string]inspect.Change, len(w.Changes))
		for _, c := range w.Changes {
			m[c.Path] = c
		}
		return m
	}
	ea, eb := entries(a, i), entries(b, j)
	hash := func(st []inspect.StackLayer, k int, c inspect.Change, ok bool) string {
		if !ok || c.Type != "file" || c.Kind == inspect.KindWhiteout {
			return ""
		}
		d, _, err := s.HashFile(st[k].Dir, c.Path)
		if err != nil {
			finds = append(finds, inspect.Finding{Kind: "unreadable_entry", Path: st[k].Dir + c.Path, Message: err.Error()})
			return ""
		}
		return d.Encoded()
	}
	typ := func(c inspect.Change, ok bool) string {
		switch {
		case !ok:
			return ""
		case c.Kind == inspect.KindWhiteout:
			return "whiteout"
		}
		return c.Type
	}
	var paths []string
	for p := range ea {
		paths = append(paths, p)
	}
	for p := range eb {
		if _, ok := ea[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var out []FileDiff
	for _, p := range paths {
		ca, oka := ea[p]
		cb, okb := eb[p]
		d := FileDiff{Path: p, TypeA: typ(ca, oka), TypeB: typ(cb, okb)}
		if oka && d.TypeA != "dir" && d.TypeA != "whiteout" {
			d.SizeA = ca.Size
		}
		if okb && d.TypeB != "dir" && d.TypeB != "whiteout" {
			d.SizeB = cb.Size
		}
		if d.TypeA == d.TypeB && (d.TypeA == "dir" || d.TypeA == "whiteout") {
			continue // a dir is the same dir; what differs is below it
		}
		if d.TypeA == d.TypeB && d.SizeA == d.SizeB && d.TypeA != "file" && ca.LinkTarget == cb.LinkTarget && ca.Mode == cb.Mode {
			continue
		}
		d.HashA, d.HashB = hash(a, i, ca, oka), hash(b, j, cb, okb)
		if d.TypeA == d.TypeB && d.TypeA == "file" && d.HashA == d.HashB && ca.Mode == cb.Mode {
			continue
		}
		out = append(out, d)
	}
	return out, finds
}
