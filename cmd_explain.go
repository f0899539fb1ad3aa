package main

import (
	"fmt"
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
		},
		Action: func(c *cli.Context) error {
			x, err := explainContainer(c)
			if err != nil {
				return err
			}
			if err := selectChanges(c, x, time.Now()); err != nil {
				return cli.Exit(err.Error(), exitUsage)
			}
			if c.String("format") == "json" {
				return report.ExplainJSON(c.App.Writer, x)
			}
			return report.Explain(c.App.Writer, x, report.ExplainOptions{Quiet: c.Bool("quiet"), Width: termWidth(c.App.Writer)})
		},
	}
}

// explainContainer is the shared front half of explain and diff.
func explainContainer(c *cli.Context) (*inspect.Explanation, error) {
	o, err := readGlobal(c)
	if err != nil {
		return nil, err
	}
	if c.NArg() != 1 {
		return nil, cli.Exit("want exactly one CONTAINER argument (see `dlayer ps`)", exitUsage)
	}
	s, err := openStoreFor(o, c.Args().First())
	if err != nil {
		return nil, err
	}
	mounts, known, finds := liveMounts(o, s)
	x, err := s.Explain(c.Args().First(), inspect.ExplainOptions{Mounts: mounts, MountsKnown: known})
	if err != nil {
		return nil, cli.Exit(err.Error(), exitUsage)
	}
	x.Findings = append(x.Findings, finds...)
	if err := report.Gaps(c.App.ErrWriter, x.Gaps); err != nil {
		return nil, err
	}
	if o.Daemon == "auto" {
		x.Findings = append(x.Findings, crossCheck(c.Context, depsOf(c).dial, s, x)...)
	}
	return x, nil
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
