package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dlayer/dlayer/inspect/anatomy"
)

// CompareDoc is `dlayer layers --compare --format json`.
type CompareDoc struct {
	*anatomy.Comparison
}

// CompareJSON writes the comparison as JSON.
func CompareJSON(w io.Writer, p Provenance, c *anatomy.Comparison) error {
	y := *c
	y.Files = make([]anatomy.FileDiff, len(c.Files))
	for i, f := range c.Files {
		f.Path, _ = jsonString(f.Path)
		y.Files[i] = f
	}
	if y.Shared == nil {
		y.Shared = []anatomy.Brief{}
	}
	if y.AfterA == nil {
		y.AfterA = []anatomy.Brief{}
	}
	if y.AfterB == nil {
		y.AfterB = []anatomy.Brief{}
	}
	return JSON(w, CompareDocument{NewHeader(SchemaCompare, p), CompareDoc{&y}})
}

// reasonText says why the builds diverge, in the lesson's terms.
func reasonText(c *anatomy.Comparison) string {
	switch c.Reason {
	case anatomy.ReasonBase:
		return "their first layers differ: another base image (or another first instruction): nothing is shared."
	case anatomy.ReasonInstruction:
		return "the instruction differs: a changed Dockerfile line misses the build cache from this step on."
	case anatomy.ReasonCopySource:
		return fmt.Sprintf("the same %s of other content: the classic builder names what it copies by a hash of its content (%s vs %s), so a change in the build context misses the cache from this step on; the files below say which.",
			copyVerb(c.InstructionA), clip(c.SourceA, 22), clip(c.SourceB, 22))
	case anatomy.ReasonContent:
		return "the same instruction made other content: BuildKit's history records a COPY without a hash of what it copied, and a RUN can write something else each time; the files below say what differs."
	}
	return ""
}

// copyVerb is ADD or COPY, as the history text says.
func copyVerb(createdBy string) string {
	if strings.HasPrefix(Instruction(createdBy), "ADD") {
		return "ADD"
	}
	return "COPY"
}

// Compare writes where two builds share layers, where and why they
// diverge, which files differ there, and what each has after.
func Compare(w io.Writer, c *anatomy.Comparison) error {
	b := buffered(w)
	if err := compareText(b, c); err != nil {
		return err
	}
	return b.Flush()
}

func compareText(w io.Writer, c *anatomy.Comparison) error {
	p := &printer{w: w}
	a, b := Escape(c.A.Name), Escape(c.B.Name)
	wrap(p, "", fmt.Sprintf("Comparing %s (%s, %d layers) and %s (%s, %d layers), base first.", a, short(c.A.ID), c.A.Layers, b, short(c.B.ID), c.B.Layers))
	p.f("\n")
	if len(c.Shared) == 0 {
		p.f("Shared: no layer.\n")
	} else {
		wrap(p, "", fmt.Sprintf("Shared: %d %s with the same chain IDs (a rebuild's cache hits: a layer's chain ID covers it and every layer below):",
			len(c.Shared), plural(len(c.Shared), "layer", "layers")))
		rows := [][]string{}
		for _, l := range c.Shared {
			rows = append(rows, []string{strconv.Itoa(l.Position), short(l.ChainID), HumanBytes(l.Size), Escape(clip(Instruction(l.CreatedBy), 70))})
		}
		if p.err == nil {
			p.err = table(p.w, []string{"POS", "CHAIN ID", "SIZE", "CREATED BY"}, rows)
		}
	}
	p.f("\n")
	if c.Reason == anatomy.ReasonNone {
		switch {
		case len(c.AfterA) == 0 && len(c.AfterB) == 0:
			p.f("No difference: the same layers.\n")
		case len(c.AfterA) == 0:
			wrap(p, "", fmt.Sprintf("Every layer of %s is in %s, which adds %d on top of them.", a, b, len(c.AfterB)))
		default:
			wrap(p, "", fmt.Sprintf("Every layer of %s is in %s, which adds %d on top of them.", b, a, len(c.AfterA)))
		}
		return p.err
	}
	p.f("First difference: layer %d.\n", c.Position)
	rows := [][]string{{a, Escape(clip(Instruction(c.InstructionA), 90))}, {b, Escape(clip(Instruction(c.InstructionB), 90))}}
	if p.err == nil {
		p.err = table(p.w, []string{"IMAGE", "CREATED BY"}, rows)
	}
	wrap(p, "  ", "Why: "+reasonText(c))
	if len(c.Files) > 0 {
		p.f("\n")
		wrap(p, "", fmt.Sprintf("What differs in layer %d, A %s and B %s (sha256 of each file's content; - where that side has no such entry):", c.Position, a, b))
		rows := [][]string{}
		cell := func(typ, h string, size int64) string {
			switch {
			case typ == "":
				return "-"
			case h != "":
				return shortHash(h) + " (" + HumanBytes(size) + ")"
			case typ == "dir" || typ == "whiteout":
				return typ
			}
			return typ + " (" + HumanBytes(size) + ")"
		}
		for _, f := range c.Files {
			rows = append(rows, []string{Escape(f.Path), cell(f.TypeA, f.HashA, f.SizeA), cell(f.TypeB, f.HashB, f.SizeB)})
		}
		if p.err == nil {
			p.err = table(p.w, []string{"PATH", "A", "B"}, rows)
		}
		if c.FilesLeft > 0 {
			p.f("  … and %d more (--format json lists the first %d)\n", c.FilesLeft, len(c.Files))
		}
	} else if c.Reason == anatomy.ReasonContent {
		p.f("\n")
		wrap(p, "", "No file differs in content: the layers differ in metadata only (times, owners or modes of entries).")
	}
	p.f("\n")
	wrap(p, "", fmt.Sprintf("From layer %d on, %s has %d %s and %s %d: every layer above the first difference is rebuilt, its chain ID covering the layers below it.",
		c.Position, a, len(c.AfterA), plural(len(c.AfterA), "layer", "layers"), b, len(c.AfterB)))
	return p.err
}

// shortHash is a sha256's first 12 hex digits.
func shortHash(h string) string { return clip(h, 13) }
