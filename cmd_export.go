package main

import (
	"fmt"
	"io"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/export"
	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write a container's changes as a layer tar, with a manifest of every entry's sha256",
		ArgsUsage: "CONTAINER",
		Description: "Writes one tar entry for each line of docker diff, parents first: an added or changed entry with the\n" +
			"content and metadata the container sees, a deleted one as a .wh. whiteout (the layer tar form docker\n" +
			"load and docker import apply). The manifest (JSON, schema export) lists each entry with its sha256,\n" +
			"the layer its content came from, the tar's own sha256, and the export's provenance. Both files are\n" +
			"written whole (a temporary file renamed), never under --root; --format json also prints the manifest.\n" +
			"Nothing of the container is changed.\n\n" +
			"EXIT CODES:\n   0  written, every entry exported\n" +
			"   1  written, but some entries could not be read (left out: listed on stderr and in the manifest)\n" +
			"   2  could not run",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the layer tar to `FILE` (required; refused under --root)"},
			&cli.StringFlag{Name: "manifest", Usage: "write the manifest to `FILE` (default: the tar's name + .manifest.json)"},
		},
		Action: runExport,
	}
}

func runExport(c *cli.Context) error {
	o, err := readGlobal(c)
	if err != nil {
		return err
	}
	if c.NArg() != 1 {
		return usagef(c, "export wants exactly one CONTAINER argument, got %d; dlayer ps lists them", c.NArg())
	}
	if c.String("output") == "" {
		return usagef(c, "export needs -o FILE: where to write the layer tar")
	}
	tarFile, err := outsideRoot("--output", o.Root, c.String("output"))
	if err != nil {
		return usagef(c, "%v", err)
	}
	m := c.String("manifest")
	if m == "" {
		m = tarFile + ".manifest.json"
	}
	manifest, err := outsideRoot("--manifest", o.Root, m)
	if err != nil {
		return usagef(c, "%v", err)
	}
	if manifest == tarFile {
		return usagef(c, "--manifest %s is the tar itself", m)
	}
	ref := c.Args().First()
	s, err := openStoreFor(o, ref)
	if err != nil {
		return err
	}
	x, err := s.Diff(ref, inspect.ExplainOptions{})
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	var res *export.Result
	err = writeAtomic(depsOf(c).critical, tarFile, 0o644, func(w io.Writer) error {
		var err error
		// whiteouts get the export's time, as docker gives them its own
		res, err = export.Write(s, x, w, o.Provenance.Started)
		return err
	})
	if err != nil {
		return cli.Exit(fmt.Sprintf("--output %s: %v", tarFile, err), exitUsage)
	}
	doc := report.ExportManifest{Container: x.Container.Container, Tar: tarFile, Result: res}
	if err := writeAtomic(depsOf(c).critical, manifest, 0o644, func(w io.Writer) error { return report.ExportJSON(w, o.Provenance, doc) }); err != nil {
		return cli.Exit(fmt.Sprintf("--manifest %s: %v", manifest, err), exitUsage)
	}
	if err := report.Findings(c.App.ErrWriter, res.Findings); err != nil {
		return err
	}
	if o.Format == "json" { // the manifest on stdout too
		if err := report.ExportJSON(c.App.Writer, o.Provenance, doc); err != nil {
			return cli.Exit(err.Error(), exitUsage)
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "dlayer: export: %d entries of %s (a %d-byte tar, sha256 %s) to %s; manifest %s\n",
		len(res.Entries), ref, res.Bytes, res.SHA256, tarFile, manifest)
	if len(res.Findings) > 0 {
		return cli.Exit("", exitFindings)
	}
	return nil
}
