package main

import (
	"io"
	"time"

	"github.com/dlayer/dlayer/inspect/du"
	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

func imagesCommand() *cli.Command {
	return &cli.Command{
		Name:  "images",
		Usage: "list the store's images, offline (like docker images -a), with Docker's sizes and the containers using each",
		Description: "One row per image of imagedb, newest first: tags (or <none>: dangling when it has no child,\n" +
			"intermediate when it has), created time, layer count, SIZE, SHARED SIZE and UNIQUE SIZE exactly as\n" +
			"docker system df -v computes them, and the containers created from it. Problems in the metadata\n" +
			"(missing layers, unreadable entries) go to stderr; they do not change the exit code.",
		Action: func(c *cli.Context) error {
			o, err := readGlobalFor(c, anyFormat)
			if err != nil {
				return err
			}
			if c.NArg() != 0 {
				return usagef(c, "images takes no arguments (use --root for the data root)")
			}
			s, err := openStore(o)
			if err != nil {
				return err
			}
			cat, err := du.ReadCatalog(s)
			if err != nil {
				return cli.Exit(err.Error(), exitUsage)
			}
			if err := report.Findings(c.App.ErrWriter, cat.Findings); err != nil {
				return err
			}
			return o.render(c.App.Writer, "images",
				func(w io.Writer) error { return report.ImagesJSON(w, o.Provenance, cat) },
				func(w io.Writer) error { return report.Images(w, cat, time.Now()) })
		},
	}
}
