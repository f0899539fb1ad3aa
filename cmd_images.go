package main

import (
	"io"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/anatomy"
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
			"(missing layers, unreadable entries) go to stderr; they do not change the exit code. --waste walks\n" +
			"every image's layers (as dlayer layers --contents does) for a WASTE column: the bytes no container of\n" +
			"the image can see.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "waste", Usage: "walk every image's layers for its waste: the bytes later layers delete, overwrite or hide (slower: reads every layer dir)"},
		},
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
			var waste report.Waste
			if c.Bool("waste") {
				if waste, err = imagesWaste(c, s, cat); err != nil {
					return err
				}
			}
			return o.render(c.App.Writer, "images",
				func(w io.Writer) error { return report.ImagesJSON(w, o.Provenance, cat, waste) },
				func(w io.Writer) error { return report.Images(w, cat, time.Now(), waste) })
		},
	}
}

// imagesWaste is each image's waste (an image whose layers could not all
// be walked has none: its findings go to stderr).
func imagesWaste(c *cli.Context, s *inspect.Store, cat *du.Catalog) (report.Waste, error) {
	waste := report.Waste{}
	memo := anatomy.NewMemo() // a layer several images share is walked once
	for _, im := range cat.Images {
		img, err := s.Image(im.ID)
		if err != nil {
			continue // the catalog's findings name it
		}
		a, err := anatomy.Image(s, img, anatomy.Options{MaxPaths: -1, Memo: memo})
		if err != nil || !a.Complete {
			if a != nil {
				if err := report.Findings(c.App.ErrWriter, a.Findings); err != nil {
					return nil, err
				}
			}
			continue
		}
		waste[im.ID] = a.Waste.Count
	}
	return waste, nil
}
