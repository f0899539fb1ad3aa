package main

import (
	"io"

	"github.com/dlayer/dlayer/inspect/mounts"
	"github.com/dlayer/dlayer/mountinfo"
	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

func mountsCommand() *cli.Command {
	return &cli.Command{
		Name:  "mounts",
		Usage: "list the overlay and aufs mounts of the store's layers and flag leaked or missing ones",
		Description: "Reads the mount tables --mountinfo names (by default this process's mount namespace and those of\n" +
			"running dockerd and containerd processes, each namespace once) and lists every overlay or aufs mount\n" +
			"with a dir under --root or the store's driver dirs: its container (through layerdb/mounts/*/mount-id, or\n" +
			"the snapshot keyed by the container ID on the containerd store) and the container's state,\n" +
			"its upper, work and lower dirs (relative l/ forms resolved), propagation and namespaces.\n\n" +
			"Problems: leaked_mount (a layer's merged mount whose container is stopped, created, removed or\n" +
			"unknown), running_not_mounted, mount_lower_mismatch (mounted lowers differ from the store's lower\n" +
			"file), mount_upper_mismatch, upper_multiply_mounted. What could not be read goes to stderr.\n\n" +
			"EXIT CODES:\n   0  no problems\n   1  problems (listed on stdout)\n" +
			"   2  could not run (usage, unreadable store, --mountinfo none, or no mount table readable)",
		Flags: []cli.Flag{
			settleFlag(),
			&cli.BoolFlag{Name: "long", Aliases: []string{"l"}, Usage: "also print each mount's dirs, options and sightings"},
		},
		Action: func(c *cli.Context) error {
			o, err := readGlobalFor(c, anyFormat)
			if err != nil {
				return err
			}
			if c.NArg() != 0 {
				return usagef(c, "mounts takes no arguments: it lists every mount of the store")
			}
			if o.Mountinfo == "none" {
				return usagef(c, "mounts needs mount data: --mountinfo none reads none")
			}
			s, err := openStore(o)
			if err != nil {
				return err
			}
			tables, _, err := mountTables(o)
			if err != nil {
				return cli.Exit(err.Error(), exitUsage)
			}
			// Problems are re-read, the tables too, before they are
			// reported: a container being created or removed is not leaked.
			rc := mounts.Recheck{Delays: settleDelays(c)}
			rc.Tables = func() ([]mountinfo.Table, error) {
				t, _, err := mountTables(o)
				return t, err
			}
			mo := mounts.Options{Tables: tables, SysRoot: sysRoot, Recheck: rc}
			if o.Mountinfo == "auto" || o.Mountinfo == "" || isPID(o.Mountinfo) {
				mo.ProcRoot = procRoot // this host's tables: its processes say what is starting
			}
			r, err := mounts.Map(s, mo)
			if err != nil {
				return cli.Exit(err.Error(), exitUsage)
			}
			if err := report.Findings(c.App.ErrWriter, r.Warnings); err != nil {
				return err
			}
			err = o.render(c.App.Writer, "mounts",
				func(w io.Writer) error { return report.MountsJSON(w, o.Provenance, r) },
				func(w io.Writer) error { return report.Mounts(w, r, report.MountsOptions{Long: c.Bool("long")}) })
			if err != nil {
				return err
			}
			if len(r.Findings) > 0 {
				return cli.Exit("", exitFindings)
			}
			return nil
		},
	}
}
