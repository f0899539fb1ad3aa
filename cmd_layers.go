package main

import (
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

func layersCommand() *cli.Command {
	return &cli.Command{
		Name:      "layers",
		Usage:     "show an image's layers, base first: the instruction that made each, its IDs, dir, short link, size and sharing",
		ArgsUsage: "IMAGE (image ID, unique ID prefix, or name:tag)",
		Description: "Every history entry of the image, base first (docker history lists newest first); entries that made\n" +
			"no layer (ENV, CMD, LABEL…) have no position and size 0, as in docker history. Each layer: diff ID,\n" +
			"chain ID (its layerdb dir), cache ID (its dir in the driver's home), short link (overlay2's l/), layerdb size (docker\n" +
			"history's SIZE) and how many images share it. Missing or damaged layerdb entries, layer dirs and\n" +
			"links are findings on stderr; every other layer is still shown; the exit code stays 0.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-trunc", Usage: "full IDs and whole instructions"},
		},
		Action: func(c *cli.Context) error {
			o, err := readGlobal(c)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return cli.Exit("want exactly one IMAGE argument (see `dlayer images`)", exitUsage)
			}
			s, err := openStore(o)
			if err != nil {
				return err
			}
			img, err := s.FindImage(c.Args().First())
			if err != nil {
				return cli.Exit(err.Error(), exitUsage)
			}
			x, cat, err := du.ReadLayers(s, img)
			if err != nil {
				return cli.Exit(err.Error(), exitUsage)
			}
			if err := report.Findings(c.App.ErrWriter, x.Findings); err != nil {
				return err
			}
			if o.Format == "json" {
				return report.LayersJSON(c.App.Writer, x, cat)
			}
			return report.LayersTable(c.App.Writer, x, cat, report.LayersOptions{NoTrunc: c.Bool("no-trunc")})
		},
	}
}
