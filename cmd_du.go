package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

// duOptions are the flags of dlayer du.
type duOptions struct {
	By  string
	Top int
}

func duCommand() *cli.Command {
	return &cli.Command{
		Name:  "du",
		Usage: "account for every byte under the data root: per layer, image and container, shared vs unique, and what nobody owns",
		Description: "Every dir of the storage driver's home (overlay2/, aufs/, …) is charged to an image layer, a container's rw or init layer, BuildKit's\n" +
			"build cache or the driver's bookkeeping, or reported as an orphan with the reason. Each gets two numbers:\n" +
			"SIZE, Docker's content size (equal to docker system df), and DISK USAGE, allocated blocks with each\n" +
			"inode counted once (equal to du -x; a file the driver hardlinks into several layers' dirs counts once, for the\n" +
			"layer it came from). Problems (missing layer dirs, dangling short links, leftovers) are\n" +
			"listed in the output; they do not change the exit code.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "by", Usage: "show one table: " + strings.Join(report.DUViews(), ", ")},
			&cli.IntFlag{Name: "top", Usage: "show at most `N` rows (default: 10 biggest items in the summary, all rows with --by)"},
		},
		Action: func(c *cli.Context) error {
			o, err := readGlobal(c)
			if err != nil {
				return err
			}
			d := duOptions{By: c.String("by"), Top: c.Int("top")}
			if d.By != "" && !slices.Contains(report.DUViews(), d.By) {
				return cli.Exit(fmt.Sprintf("--by %q: want one of %s", d.By, strings.Join(report.DUViews(), ", ")), exitUsage)
			}
			if d.Top < 0 {
				return cli.Exit(fmt.Sprintf("--top %d: want a number of rows ≥ 0", d.Top), exitUsage)
			}
			if c.NArg() != 0 {
				return cli.Exit("dlayer du takes no arguments (use --root for the data root)", exitUsage)
			}
			s, err := openStore(o)
			if err != nil {
				return err
			}
			// a layer dir a live mount uses is in use, whatever the records say
			mounts, _, mountFinds := liveMounts(o, s)
			update, done := progress(c.App.ErrWriter, report.DUProgress)
			audit := du.Audit
			if o.Driver == inspect.DriverAuto {
				audit = du.AuditAll
			}
			r, err := audit(s, du.Options{Mounts: mounts, Progress: func(p du.Progress) {
				if p.Done {
					done()
				} else if update != nil {
					update(p)
				}
			}})
			if err != nil {
				return cli.Exit(err.Error(), exitUsage)
			}
			r.Findings = append(r.Findings, mountFinds...)
			if o.Format == "json" {
				return report.DUJSON(c.App.Writer, o.Provenance, r)
			}
			return report.DU(c.App.Writer, r, report.DUOptions{By: d.By, Top: d.Top})
		},
	}
}
