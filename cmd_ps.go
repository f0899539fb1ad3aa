package main

import (
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
			o, err := readGlobal(c)
			if err != nil {
				return err
			}
			if c.NArg() != 0 {
				return cli.Exit("ps takes no arguments: it lists every container", exitUsage)
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
			if o.Format == "json" {
				return report.ContainersJSON(c.App.Writer, cs)
			}
			return report.Containers(c.App.Writer, cs, time.Now())
		},
	}
}
