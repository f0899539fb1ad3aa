package main

import (
	"io"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "print a container's changes exactly as `docker diff` does, computed offline",
		ArgsUsage: "CONTAINER",
		Action: func(c *cli.Context) error {
			o, _, x, err := explainContainer(c, (*inspect.Store).Diff)
			if err != nil {
				return err
			}
			if err := report.Gaps(c.App.ErrWriter, x.Gaps); err != nil {
				return err
			}
			if len(x.Findings) > 0 {
				if err := report.Findings(c.App.ErrWriter, x.Findings); err != nil {
					return err
				}
			}
			return o.render(c.App.Writer, "changes",
				func(w io.Writer) error { return report.DiffJSON(w, o.Provenance, x.Diff) },
				func(w io.Writer) error { return report.Diff(w, x.Diff) })
		},
	}
}
