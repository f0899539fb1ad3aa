package main

import (
	"io"

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
			o, err := readGlobalFor(c, anyFormat)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usagef(c, "layers wants exactly one IMAGE argument, got %d; dlayer images lists them", c.NArg())
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
			return o.render(c.App.Writer, "layers",
				func(w io.Writer) error { return report.LayersJSON(w, o.Provenance, x, cat) },
				func(w io.Writer) error {
					return report.LayersTable(w, x, cat, report.LayersOptions{NoTrunc: c.Bool("no-trunc")})
				})
		},
	}
}
