package main

import (
	"fmt"
	"io"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/anatomy"
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
			&cli.BoolFlag{Name: "contents", Usage: "walk every layer: what each added, changed and deleted, and the bytes later layers make invisible (waste); " +
				"the argument may then be a CONTAINER too (a container first, as docker inspect looks)"},
			&cli.IntFlag{Name: "layer", Usage: "with --contents: also list the entries of the layer at position `N` (1 = base)"},
			&cli.IntFlag{Name: "top", Value: 10, Usage: "with --contents: name the `N` biggest invisible files"},
			&cli.BoolFlag{Name: "waste", Usage: "walk the layers for a waste line: the bytes no container of the image can see (slower: reads every layer dir)"},
			&cli.BoolFlag{Name: "compare", Usage: "line up two images (IMAGE A B): the layers they share (cache hits), the first that differs and why, " +
				"the files that differ there with both sha256s, and what each has after"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("compare") {
				return runCompare(c)
			}
			if c.Bool("contents") || c.IsSet("layer") {
				return runAnatomy(c)
			}
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
			// --waste: the layers walked for the waste line (their
			// findings are layers --contents's to print)
			var a *anatomy.Report
			if c.Bool("waste") {
				if a, err = anatomy.Image(s, img, anatomy.Options{MaxPaths: -1}); err != nil {
					a = nil
				}
			}
			return o.render(c.App.Writer, "layers",
				func(w io.Writer) error { return report.LayersJSON(w, o.Provenance, x, cat, a) },
				func(w io.Writer) error {
					return report.LayersTable(w, x, cat, report.LayersOptions{NoTrunc: c.Bool("no-trunc"), Anatomy: a})
				})
		},
	}
}

// runAnatomy is layers --contents: the anatomy of an image or a container.
func runAnatomy(c *cli.Context) error {
	o, err := readGlobal(c)
	if err != nil {
		return err
	}
	if c.NArg() != 1 {
		return usagef(c, "layers --contents wants exactly one IMAGE or CONTAINER argument, got %d", c.NArg())
	}
	if c.IsSet("layer") && c.Int("layer") < 1 {
		return usagef(c, "--layer %d: positions start at 1 (the base)", c.Int("layer"))
	}
	ref := c.Args().First()
	s, err := openStore(o)
	if err != nil {
		return err
	}
	r, _, err := anatomyFor(o, s, ref, anatomy.Options{Entries: c.Int("layer")})
	if err != nil {
		return err
	}
	if n := c.Int("layer"); n > len(r.Layers) {
		return usagef(c, "--layer %d: %s has %d layers", n, ref, len(r.Layers))
	}
	if err := report.Findings(c.App.ErrWriter, r.Findings); err != nil {
		return err
	}
	return o.render(c.App.Writer, "",
		func(w io.Writer) error { return report.AnatomyJSON(w, o.Provenance, r) },
		func(w io.Writer) error {
			return report.Anatomy(w, r, report.AnatomyOptions{Layer: c.Int("layer"), Top: c.Int("top")})
		})
}

// anatomyFor dissects ref, a container (asked first, as explain does) or
// an image; x is the container's stack, nil for an image.
func anatomyFor(o globalOptions, s *inspect.Store, ref string, opt anatomy.Options) (r *anatomy.Report, x *inspect.Explanation, err error) {
	if _, cerr := s.FindContainer(ref); cerr != nil {
		img, err := s.FindImage(ref)
		if err != nil {
			return nil, nil, cli.Exit(fmt.Sprintf("%v (and no container %q: %v)", err, ref, cerr), exitUsage)
		}
		if r, err = anatomy.Image(s, img, opt); err != nil {
			return nil, nil, cli.Exit(err.Error(), exitUsage)
		}
		return r, nil, nil
	}
	st := storeFor(o, s, ref)
	if x, err = st.Stack(ref); err != nil { // the layers are walked once, below
		return nil, nil, cli.Exit(err.Error(), exitUsage)
	}
	if r, err = anatomy.Container(st, x, opt); err != nil {
		return nil, nil, cli.Exit(err.Error(), exitUsage)
	}
	return r, x, nil
}

// runCompare is layers --compare A B.
func runCompare(c *cli.Context) error {
	o, err := readGlobal(c)
	if err != nil {
		return err
	}
	if c.NArg() != 2 {
		return usagef(c, "layers --compare wants two IMAGE arguments, got %d", c.NArg())
	}
	if c.Bool("contents") || c.IsSet("layer") {
		return usagef(c, "--compare and --contents (or --layer) are different questions: ask one")
	}
	s, err := openStore(o)
	if err != nil {
		return err
	}
	var imgs [2]*inspect.Image
	for i, ref := range c.Args().Slice() {
		if imgs[i], err = s.FindImage(ref); err != nil {
			return cli.Exit(err.Error(), exitUsage)
		}
	}
	cmp, err := anatomy.Compare(s, imgs[0], imgs[1])
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	if err := report.Findings(c.App.ErrWriter, cmp.Findings); err != nil {
		return err
	}
	return o.render(c.App.Writer, "",
		func(w io.Writer) error { return report.CompareJSON(w, o.Provenance, cmp) },
		func(w io.Writer) error { return report.Compare(w, cmp) })
}
