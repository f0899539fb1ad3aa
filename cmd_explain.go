package main

import (
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
		},
		Action: func(c *cli.Context) error {
			x, err := explainContainer(c)
			if err != nil {
				return err
			}
			if c.String("format") == "json" {
				return report.ExplainJSON(c.App.Writer, x)
			}
			return report.Explain(c.App.Writer, x, report.ExplainOptions{Quiet: c.Bool("quiet")})
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
	if o.Daemon == "auto" {
		x.Findings = append(x.Findings, crossCheck(c.Context, s, x)...)
	}
	return x, nil
}
