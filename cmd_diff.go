package main

import (
	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "print a container's changes exactly as `docker diff` does, computed offline",
		ArgsUsage: "CONTAINER",
		Action: func(c *cli.Context) error {
			x, err := explainContainer(c)
			if err != nil {
				return err
			}
			if len(x.Findings) > 0 {
				if err := report.Findings(c.App.ErrWriter, x.Findings); err != nil {
					return err
				}
			}
			if c.String("format") == "json" {
				return report.DiffJSON(c.App.Writer, x.Diff)
			}
			return report.Diff(c.App.Writer, x.Diff)
		},
	}
}
