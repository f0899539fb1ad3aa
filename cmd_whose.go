package main

import (
	"io"

	"github.com/dlayer/dlayer/inspect/whose"
	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

func whoseCommand() *cli.Command {
	return &cli.Command{
		Name:  "whose",
		Usage: "say what owns a path under the data root (a layer, a container, build cache, or nothing) and whether deleting it is safe",
		ArgsUsage: "PATH (absolute or relative to --root, e.g. overlay2/<id>/diff/etc/passwd; or a bare short link name,\n" +
			"   layer dir id, chain ID, image ID or container ID)",
		Description: "PATH is resolved lexically against --root: no symlink inside the data root is followed (an l/<LINK>\n" +
			"short link is read as text). For a file inside a layer's diff/, whose also says, for every container\n" +
			"and image using the layer, whether the file is visible there or shadowed, deleted or hidden by an\n" +
			"upper layer, and which. A path outside --root, or one that neither exists nor is named by the\n" +
			"store's metadata, is exit 2.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "drop the plain-English explanations"},
		},
		Action: func(c *cli.Context) error {
			o, err := readGlobalFor(c, anyFormat)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usagef(c, "whose wants exactly one PATH argument, got %d", c.NArg())
			}
			s, err := openStore(o)
			if err != nil {
				return err
			}
			mounts, known, finds := liveMounts(o, s)
			a, err := whose.Ask(s, c.Args().First(), whose.Options{Mounts: mounts, MountsKnown: known})
			if err != nil { // ErrOutsideRoot, ErrNotFound, or an unreadable store
				return cli.Exit(err.Error(), exitUsage)
			}
			a.Findings = append(a.Findings, finds...)
			if err := report.Gaps(c.App.ErrWriter, s.Gaps()); err != nil {
				return err
			}
			return o.render(c.App.Writer, "",
				func(w io.Writer) error { return report.WhoseJSON(w, o.Provenance, a) },
				func(w io.Writer) error { return report.Whose(w, a, report.WhoseOptions{Quiet: c.Bool("quiet")}) })
		},
	}
}
