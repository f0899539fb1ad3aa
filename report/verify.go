package report

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/docker/go-units"
)

// VerifyOptions control the verify table.
type VerifyOptions struct {
	// Quiet prints only the findings: nothing at all when there are none.
	Quiet bool
}

// verifyHelp says, once per group of checks present, what its findings
// mean and whether Docker would notice them.
func verifyHelp(c verify.Check, docker bool) string {
	switch {
	case c == verify.CheckContent && !docker:
		return "content: bytes differ from the digests that name them (a content blob, a layer blob's tar, a layer dir's files " +
			"against that tar); Docker does not check these (docker save exports the blobs as they are)"
	}
	switch c {
	case verify.CheckMetadata:
		return "metadata: the image, layer and container records disagree with each other or with the storage driver's dirs"
	case verify.CheckContent:
		return "content: Docker's own check (rebuilding the layer's tar stream, as docker save and push do) fails on this layer"
	case verify.CheckTree:
		return "tree: the layer dir differs from its tar in what the DiffID does not cover; Docker never notices"
	}
	return c.String()
}

// Verify writes a verify report as a table of findings, a summary line and
// a note per group of checks present.
func Verify(w io.Writer, r *verify.Report, opt VerifyOptions) error {
	p := &printer{w: w}
	if len(r.Findings) > 0 {
		rows := make([][]string, 0, len(r.Findings))
		for _, f := range r.Findings {
			rows = append(rows, []string{f.Kind.String(), verifyObject(f), Escape(verifyShortPath(r.Root, f.Path)),
				Escape(verifyShortHex(f.Expected)), Escape(verifyShortHex(f.Actual)), verifyAffects(f.Affects)})
		}
		if err := table(w, []string{"kind", "object", "path", "expected", "actual", "affects"}, rows); err != nil {
			return err
		}
	}
	if opt.Quiet {
		return p.err
	}
	if len(r.Findings) > 0 {
		p.f("\n")
	}
	if len(r.Changed) > 0 {
		verifyChanged(p, r)
		p.f("\n")
	}
	p.oneLine(VerifySummary(r))
	verifyTrust(p, r.Trust)
	if len(r.Findings) > 0 {
		seen := map[verify.Check]bool{}
		docker := map[verify.Check]bool{}
		for _, f := range r.Findings {
			docker[f.Check] = docker[f.Check] || f.DockerDetects
		}
		for _, f := range r.Findings {
			if !seen[f.Check] {
				seen[f.Check] = true
				wrap(p, "  ", verifyHelp(f.Check, docker[f.Check] || r.Stats.Blobs == 0))
			}
		}
		p.f("  Each finding's message, and full IDs and paths: --format json.\n")
	}
	return p.err
}

// VerifySummary is the one-line summary of a run.
func VerifySummary(r *verify.Report) string {
	s := r.Stats
	var b strings.Builder
	fmt.Fprintf(&b, "dlayer verify %s (%s): %s, %s", Escape(r.Root), strings.Join(r.Drivers, " + "), verifyCount(s.Images, "image"), verifyCount(s.Layers, "layer"))
	if r.Quick {
		b.WriteString(" (metadata only: --quick)")
	} else {
		fmt.Fprintf(&b, " (%d rebuilt: %s of tar streams, %s entries", s.LayersHashed, units.HumanSize(float64(s.BytesHashed)), fmtInt(s.Entries))
		if r.Trust != nil {
			fmt.Fprintf(&b, "; %d trusted on ctime", r.Trust.LayersTrusted)
		}
		b.WriteString(")")
	}
	if s.Blobs > 0 {
		fmt.Fprintf(&b, ", %s", verifyCount(s.Blobs, "content blob"))
		if !r.Quick {
			fmt.Fprintf(&b, " (%d re-hashed: %s", s.BlobsHashed, units.HumanSize(float64(s.BlobBytes)))
			if r.Trust != nil {
				fmt.Fprintf(&b, "; %d trusted on ctime", r.Trust.BlobsTrusted)
			}
			b.WriteString(")")
		}
	}
	fmt.Fprintf(&b, ", %s in %s: ", verifyCount(s.Containers, "container"), r.Duration.Round(time.Millisecond))
	if len(r.Findings) == 0 {
		b.WriteString("no findings" + verifyChangedSummary(r))
		if !r.Complete {
			b.WriteString(", but INCOMPLETE: not everything could be seen (stderr says what), so this is not a pass")
		}
		return b.String()
	}
	byCheck := map[verify.Check]int{}
	docker := 0
	for _, f := range r.Findings {
		byCheck[f.Check]++
		if f.DockerDetects {
			docker++
		}
	}
	var parts []string
	for _, c := range []verify.Check{verify.CheckMetadata, verify.CheckContent, verify.CheckTree} {
		if byCheck[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", byCheck[c], c))
		}
	}
	fmt.Fprintf(&b, "%s (%s); Docker's own check would catch %d", verifyCount(len(r.Findings), "finding"), strings.Join(parts, ", "), docker)
	if !r.Complete {
		b.WriteString("; INCOMPLETE: not everything could be seen (stderr says what)")
	}
	b.WriteString(verifyChangedSummary(r))
	return b.String()
}

func verifyCount(n int, what string) string {
	return fmt.Sprintf("%d %s", n, plural(n, what, what+"s"))
}

// verifyObject is "layer 3 9aa2dd563675", "image cb433cfcb630", "container web".
func verifyObject(f verify.Finding) string {
	if f.Object == "" {
		return f.ObjectType.String()
	}
	return f.ObjectType.String() + " " + verifyShortHex(strings.TrimPrefix(f.Object, "sha256:"))
}

// verifyAffects is "e2e:1, e2e:2; containers c1, c2".
func verifyAffects(a verify.Affects) string {
	var parts []string
	if len(a.Images) > 0 {
		var ims []string
		for i, im := range a.Images {
			if i == 3 {
				ims = append(ims, fmt.Sprintf("+%d more", len(a.Images)-3))
				break
			}
			ims = append(ims, Escape(verifyShortHex(im)))
		}
		parts = append(parts, strings.Join(ims, ", "))
	}
	if len(a.Containers) > 0 {
		var cs []string
		for i, c := range a.Containers {
			if i == 5 {
				cs = append(cs, fmt.Sprintf("+%d more", len(a.Containers)-5))
				break
			}
			cs = append(cs, Escape(c))
		}
		parts = append(parts, plural(len(cs), "container ", "containers ")+strings.Join(cs, ", "))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

var verifyHex64 = regexp.MustCompile(`[0-9a-f]{64}`)

// verifyShortHex shortens every 64-hex-digit ID in s to its first 12 digits, as
// the Docker CLI prints IDs.
func verifyShortHex(s string) string {
	return verifyHex64.ReplaceAllStringFunc(s, func(h string) string { return h[:12] })
}

// verifyShortPath makes a store path relative to the root and shortens its IDs.
func verifyShortPath(root, p string) string {
	if rest, ok := strings.CutPrefix(p, strings.TrimSuffix(root, "/")+"/"); ok && root != "" {
		p = rest
	}
	return verifyShortHex(p)
}

// VerifyJSON writes the report as one JSON object (Quiet: only the
// findings array).
func VerifyJSON(w io.Writer, p Provenance, r *verify.Report, quiet bool) error {
	fs := r.Findings
	if fs == nil {
		fs = []verify.Finding{}
	}
	out := make([]verify.Finding, len(fs))
	for i, f := range fs {
		f.Path, _ = jsonString(f.Path)
		f.File, _ = jsonString(f.File)
		f.Expected, _ = jsonString(f.Expected)
		f.Actual, _ = jsonString(f.Actual)
		out[i] = f
	}
	if quiet {
		return JSON(w, VerifyFindingsDocument{NewHeader(SchemaVerifyFindings, p), out})
	}
	byKind := map[string]int{}
	byCheck := map[string]int{}
	docker := 0
	for _, f := range out {
		byKind[f.Kind.String()]++
		byCheck[f.Check.String()]++
		if f.DockerDetects {
			docker++
		}
	}
	mode := "content"
	if r.Quick {
		mode = "quick"
	}
	return JSON(w, VerifyDocument{Header: NewHeader(SchemaVerify, p), Root: r.Root, Drivers: r.Drivers, Mode: mode,
		Started: r.Started, DurationSeconds: r.Duration.Seconds(), Stats: r.Stats,
		Summary:  VerifyCounts{Findings: len(out), ByKind: byKind, ByCheck: byCheck, DockerDetects: docker},
		Findings: out, Complete: r.Complete, Gaps: orEmpty(r.Gaps), Changed: verifyChangedJSON(r.Changed), State: verifyTrustJSON(r.Trust)})
}

// verifyTrustJSON is the state report with its text made valid JSON.
func verifyTrustJSON(t *verify.TrustReport) *verify.TrustReport {
	if t == nil {
		return nil
	}
	c := *t
	c.File, _ = jsonString(c.File)
	c.Problem, _ = jsonString(c.Problem)
	return &c
}

// verifyTrust says, after the summary of a run with --state, what was
// trusted on ctime, since when, and why that is sound.
func verifyTrust(p *printer, t *verify.TrustReport) {
	if t == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "state %s: ", Escape(t.File))
	switch {
	case t.Problem != "":
		fmt.Fprintf(&b, "not usable (%s), so every layer was re-hashed; ", Escape(t.Problem))
	case t.RecordedAt == nil:
		b.WriteString("no record yet, so every layer was re-hashed; ")
	default:
		fmt.Fprintf(&b, "recorded %s; ", t.RecordedAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "%s trusted on ctime, not re-hashed", verifyCount(t.LayersTrusted, "layer"))
	if t.BlobsTrusted > 0 {
		fmt.Fprintf(&b, " (and %s)", verifyCount(t.BlobsTrusted, "content blob"))
	}
	if t.Oldest != nil {
		fmt.Fprintf(&b, ", resting on full re-hashes since %s", t.Oldest.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "; %d re-hashed (%s entries stat-ed to tell which)", t.LayersRehashed, fmtInt(t.EntriesWalked))
	if t.MaxAge != "" {
		fmt.Fprintf(&b, "; --max-age %s", t.MaxAge)
	}
	wrap(p, "  ", b.String())
	if t.LayersTrusted > 0 || t.BlobsTrusted > 0 {
		wrap(p, "    ", t.Statement)
	}
}

// VerifyProgress is the progress line of a running verify, for a terminal.
func VerifyProgress(p verify.Progress) string {
	rate := 0.0
	if p.Elapsed > 0 {
		rate = float64(p.BytesHashed) / p.Elapsed.Seconds()
	}
	return fmt.Sprintf("verify: %d/%d layers, %s entries, %s hashed (%s/s), %s",
		p.LayersDone, p.LayersTotal, fmtInt(p.Entries), units.HumanSize(float64(p.BytesHashed)), units.HumanSize(rate),
		p.Elapsed.Round(time.Second))
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
