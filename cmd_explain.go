package main

import (
	"fmt"
	"io"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

func explainCommand() *cli.Command {
	return &cli.Command{
		Name:      "explain",
		Usage:     "explain a container's layers, where they live, and what its writable layer did",
		ArgsUsage: "CONTAINER (full ID, unique ID prefix, or name)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "drop the plain-English explanations"},
			&cli.StringFlag{Name: "since", Usage: "list only changes at or after `WHEN`: RFC 3339 time, duration before now (10m), or created, started, finished"},
			&cli.StringFlag{Name: "until", Usage: "list only changes before `WHEN` (same forms as --since)"},
			&cli.StringFlag{Name: "sort", Value: "path", Usage: "order of the change list: path or time"},
			&cli.BoolFlag{Name: "hash", Usage: "add the sha256 of every added or changed regular file (to match against lists of known-bad hashes)"},
		},
		Action: func(c *cli.Context) error {
			o, s, x, err := explainContainer(c, (*inspect.Store).Explain)
			if err != nil {
				return err
			}
			if err := selectChanges(c, x, time.Now()); err != nil {
				return usagef(c, "%v", err)
			}
			if c.Bool("hash") {
				s.HashChanges(x)
			}
			if err := report.Gaps(c.App.ErrWriter, x.Gaps); err != nil {
				return err
			}
			return o.render(c.App.Writer, "",
				func(w io.Writer) error { return report.ExplainJSON(w, o.Provenance, x) },
				func(w io.Writer) error {
					return report.Explain(w, x, report.ExplainOptions{Quiet: c.Bool("quiet"), Width: termWidth(c.App.Writer)})
				})
		},
	}
}

// explainContainer is the shared front half of explain and diff (run is
// Store.Explain or Store.Diff). What the process could not see (x.Gaps)
// is for the caller to print, after its own usage checks: a usage error
// stays one line.
func explainContainer(c *cli.Context, run func(*inspect.Store, string, inspect.ExplainOptions) (*inspect.Explanation, error)) (globalOptions, *inspect.Store, *inspect.Explanation, error) {
	o, err := readGlobalFor(c, anyFormat)
	if err != nil {
		return o, nil, nil, err
	}
	if c.NArg() != 1 {
		return o, nil, nil, usagef(c, "%s wants exactly one CONTAINER argument, got %d; dlayer ps lists them", commandName(c), c.NArg())
	}
	s, err := openStoreFor(o, c.Args().First())
	if err != nil {
		return o, nil, nil, err
	}
	mounts, known, finds := liveMounts(o, s)
	x, err := run(s, c.Args().First(), inspect.ExplainOptions{Mounts: mounts, MountsKnown: known})
	if err != nil {
		return o, nil, nil, cli.Exit(err.Error(), exitUsage)
	}
	x.Findings = append(x.Findings, finds...)
	if o.Daemon == "auto" {
		x.Findings = append(x.Findings, crossCheck(c.Context, depsOf(c).dial, s, x)...)
	}
	return o, s, x, nil
}

// selectChanges applies --since, --until and --sort to the change list.
func selectChanges(c *cli.Context, x *inspect.Explanation, now time.Time) error {
	f := inspect.ChangeFilter{SinceArg: c.String("since"), UntilArg: c.String("until"), Sort: c.String("sort")}
	var err error
	if f.SinceArg != "" {
		if f.Since, err = x.Timeline.ParseBound(f.SinceArg, now); err != nil {
			return fmt.Errorf("--since: %w", err)
		}
	}
	if f.UntilArg != "" {
		if f.Until, err = x.Timeline.ParseBound(f.UntilArg, now); err != nil {
			return fmt.Errorf("--until: %w", err)
		}
	}
	return inspect.SelectChanges(x, f)
}
