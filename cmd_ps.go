package main

import (
	"io"
	"time"

	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

func psCommand() *cli.Command {
	return &cli.Command{
		Name:    "ps",
		Aliases: []string{"containers"},
		Usage:   "list the store's containers, offline (like docker ps -a)",
		Action: func(c *cli.Context) error {
			o, err := readGlobalFor(c, anyFormat)
			if err != nil {
				return err
			}
			if c.NArg() != 0 {
				return usagef(c, "ps takes no arguments: it lists every container")
			}
			s, err := openStore(o)
			if err != nil {
				return err
			}
			cs, finds, err := s.Containers()
			if err != nil {
				return cli.Exit(err.Error(), exitUsage)
			}
			if err := report.Findings(c.App.ErrWriter, finds); err != nil {
				return err
			}
			return o.render(c.App.Writer, "containers",
				func(w io.Writer) error { return report.ContainersJSON(w, o.Provenance, cs) },
				func(w io.Writer) error { return report.Containers(w, cs, time.Now()) })
		},
	}
}
