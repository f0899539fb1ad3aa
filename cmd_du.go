package main

import (
	"fmt"
	"io"
	"time"

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
			&cli.StringFlag{Name: "prom", Usage: "also write Prometheus textfile metrics to `FILE` (atomically; never under --root): dlayer serve's du families"},
			&cli.IntFlag{Name: "top-images", Value: 10, Usage: "with --prom: per-image series for the `N` biggest images"},
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
			prom := c.String("prom")
			if prom != "" {
				if prom, err = outsideRoot("--prom", o.Root, prom); err != nil {
					return cli.Exit(err.Error(), exitUsage)
				}
			}
			update, done := progress(c.App.ErrWriter, report.DUProgress)
			start := time.Now()
			r, err := duScan(o, func(p du.Progress) {
				if p.Done {
					done()
				} else if update != nil {
					update(p)
				}
			})
			if prom != "" {
				if err := writeDUProm(c, prom, o.Root, r, err, start, c.Int("top-images")); err != nil {
					return cli.Exit(fmt.Sprintf("--prom %s: %v", prom, err), exitUsage)
				}
			}
			if err != nil {
				return err
			}
			if o.Format == "json" {
				return report.DUJSON(c.App.Writer, o.Provenance, r)
			}
			return report.DU(c.App.Writer, r, report.DUOptions{By: d.By, Top: d.Top})
		},
	}
}

// duScan opens the store and audits it (every store of the root with
// --driver auto), live mounts counted as uses.
func duScan(o globalOptions, progress func(du.Progress)) (*du.Report, error) {
	s, err := openStore(o)
	if err != nil {
		return nil, err
	}
	// a layer dir a live mount uses is in use, whatever the records say
	mounts, _, mountFinds := liveMounts(o, s)
	return duAudit(o, s, mounts, mountFinds, progress)
}

// duAudit audits the opened store s as duScan does, with the live mounts
// (and the findings of reading them) the caller read.
func duAudit(o globalOptions, s *inspect.Store, mounts []inspect.LiveMount, mountFinds []inspect.Finding, progress func(du.Progress)) (*du.Report, error) {
	audit := du.Audit
	if o.Driver == inspect.DriverAuto {
		audit = du.AuditAll
	}
	r, err := audit(s, du.Options{Mounts: mounts, Progress: progress})
	if err != nil {
		return nil, cli.Exit(err.Error(), exitUsage)
	}
	r.Findings = append(r.Findings, mountFinds...)
	return r, nil
}

// writeDUProm writes du's textfile metrics: the audit r (nil when it
// could not run: then runErr, and the last success kept from the
// previous file).
func writeDUProm(c *cli.Context, file, root string, r *du.Report, runErr error, start time.Time, top int) error {
	now := time.Now()
	st := report.ScanStatus{Scan: report.ScanDU, OK: runErr == nil, LastRun: now, Duration: now.Sub(start)}
	if runErr == nil {
		st.LastSuccess = now
	} else {
		st.LastError = runErr.Error()
		st.LastSuccess = lastSuccess(file, report.ScanDU)
	}
	m := report.Metrics{Root: root, TopImages: top, Scans: []report.ScanStatus{st}}
	if runErr == nil {
		m.DU = r
	}
	return writeAtomic(depsOf(c).critical, file, 0o644, func(w io.Writer) error { return report.WriteMetrics(w, m) })
}
