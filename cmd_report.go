package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

// defaultMaxChanges caps the change rows per container in the report: a
// container that unpacked a million files still makes a page a browser
// opens. dlayer explain lists them all.
const defaultMaxChanges = 10000

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "write a self-contained HTML incident report: layer towers, changes, disk use, integrity",
		ArgsUsage: "[CONTAINER…] (default: every container)",
		Description: "Writes one HTML file that needs nothing else to be read (no network: its styles and script are\n" +
			"inline, its charts SVG): for each CONTAINER, its layer tower (writable layer, init layer, image layers\n" +
			"down to the base, with size, instruction, chain ID and directory), where its upper, work, merged and\n" +
			"lower dirs are, and its change list with kind, origin layer and docker diff letter, filterable by\n" +
			"kind; the data root's disk use as a treemap (owners, images, layers) and shared vs unique per image;\n" +
			"verify's findings; and the report's provenance. Every name in it is text: a file named <script> is\n" +
			"shown, never run. The file is written whole (a temporary file renamed), never under --root.\n\n" +
			"EXIT CODES:\n   0  written (findings, if any, are in the report)\n" +
			"   2  could not run, or written with a CONTAINER that could not be explained (named on stderr and in it)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "html", Usage: "write the report to `FILE` (required; refused under --root)"},
			&cli.StringFlag{Name: "verify", Value: string(report.VerifyContent), Usage: "how far verify goes: content (re-hash every layer), quick (metadata only) or off"},
			&cli.IntFlag{Name: "max-changes", Value: defaultMaxChanges, Usage: "at most `N` change rows per container (0: all)"},
			settleFlag(),
		},
		Action: runReport,
	}
}

func runReport(c *cli.Context) error {
	o, err := readGlobal(c)
	if err != nil {
		return err
	}
	if o.Format != "table" {
		return usagef(c, "report writes HTML (--html FILE): --format %s does not apply", o.Format)
	}
	if c.String("html") == "" {
		return usagef(c, "report needs --html FILE: where to write the report")
	}
	file, err := outsideRoot("--html", o.Root, c.String("html"))
	if err != nil {
		return usagef(c, "%v", err)
	}
	depth := report.VerifyDepth(c.String("verify"))
	if !slices.Contains(report.VerifyDepths(), depth) {
		return usagef(c, "--verify %s: want content, quick or off", depth)
	}
	if c.Int("max-changes") < 0 {
		return usagef(c, "--max-changes %d: want 0 (all) or more", c.Int("max-changes"))
	}
	s, err := openStore(o)
	if err != nil {
		return err
	}
	in := report.HTMLInput{Provenance: o.Provenance, VerifyDepth: depth, MaxChanges: c.Int("max-changes")}
	refs := c.Args().Slice()
	if len(refs) == 0 {
		cs, _, err := s.Containers()
		if err != nil {
			return cli.Exit(err.Error(), exitUsage)
		}
		for _, ct := range cs {
			refs = append(refs, ct.ID)
		}
	}
	mounts, known, finds := liveMounts(o, s)
	for _, ref := range refs {
		x, err := storeFor(o, s, ref).Explain(ref, inspect.ExplainOptions{Mounts: mounts, MountsKnown: known})
		if err != nil {
			in.Errors = append(in.Errors, err.Error())
			fmt.Fprintf(c.App.ErrWriter, "dlayer: report: %v\n", err)
			continue
		}
		x.Findings = append(x.Findings, finds...)
		if o.Daemon == "auto" {
			x.Findings = append(x.Findings, crossCheck(c.Context, depsOf(c).dial, s, x)...)
		}
		in.Containers = append(in.Containers, x)
	}
	if in.DU, err = duAudit(o, s, mounts, finds, nil); err != nil {
		in.DUError = err.Error()
	}
	if depth != report.VerifyOff {
		vo := verifyOptions{Quick: depth == report.VerifyQuick, Quiet: true}
		if in.Verify, err = verifyOn(c.Context, c.App.ErrWriter, o, s, vo, settleDelays(c), nil); err != nil {
			in.VerifyError = err.Error()
		}
	}
	if err := writeAtomic(depsOf(c).critical, file, 0o644, func(w io.Writer) error { return report.HTML(w, in) }); err != nil {
		return cli.Exit(fmt.Sprintf("--html %s: %v", file, err), exitUsage)
	}
	if len(in.Errors) > 0 {
		return cli.Exit(fmt.Sprintf("report: %d of %d containers could not be explained (see %s)", len(in.Errors), len(refs), file), exitUsage)
	}
	return nil
}
