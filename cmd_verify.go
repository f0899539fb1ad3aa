package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

// exitFindings is verify's exit code when it found problems.
const exitFindings = 1

// verifyOptions are the verify command's flags.
type verifyOptions struct {
	Quick   bool
	Quiet   bool
	Prom    string
	Jobs    int
	Readers int
}

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "check the integrity of every image and layer on disk, more strictly than Docker does",
		Description: "Metadata: image configs hash to their IDs; layer chains, layerdb, the storage driver's layer dirs,\n" +
			"short links and parents files, tags and containers agree. Content (skipped with --quick): each layer's tar stream is rebuilt from\n" +
			"tar-split.json.gz and the layer dir exactly as docker save does and must hash to its DiffID; each\n" +
			"file that differs is named. Tree: the layer dir is reconciled with the tar headers (mode, setuid,\n" +
			"owner, mtime, links, xattrs, added files, whiteouts, opaque dirs), which Docker never checks.\n" +
			"On Docker 29's containerd image store there is no tar-split: every content blob is re-hashed, and each\n" +
			"layer's blob decompressed (gzip, zstd, tar), hashed against its DiffID and reconciled with its snapshot.\n\n" +
			"EXIT CODES:\n   0  no findings\n   1  findings (listed on stdout)\n   2  could not run (usage, unreadable store, --prom not writable)",
		Flags: []cli.Flag{
			settleFlag(),
			&cli.BoolFlag{Name: "quick", Usage: "metadata checks only: read no layer content"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the findings (nothing when there are none): for cron"},
			&cli.StringFlag{Name: "prom", Usage: "also write Prometheus textfile metrics to `FILE` (atomically; never under --root)"},
			&cli.IntFlag{Name: "jobs", Usage: "layers hashed at once (default: the number of CPUs)"},
			&cli.IntFlag{Name: "readers", Usage: "goroutines opening and reading files (default: 4 per CPU, at least 8)"},
		},
		Action: func(c *cli.Context) error {
			o := verifyOptions{Quick: c.Bool("quick"), Quiet: c.Bool("quiet"), Prom: c.String("prom"),
				Jobs: c.Int("jobs"), Readers: c.Int("readers")}
			return runVerify(c, o)
		},
	}
}

func runVerify(c *cli.Context, o verifyOptions) error {
	g, err := readGlobal(c)
	if err != nil {
		return err
	}
	if c.NArg() != 0 {
		return cli.Exit("verify takes no arguments: it checks the whole store", exitUsage)
	}
	if o.Prom != "" {
		if o.Prom, err = promTarget(g.Root, o.Prom); err != nil {
			return cli.Exit(err.Error(), exitUsage)
		}
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	r, runErr := verifyStore(ctx, c.App.ErrWriter, g, o, settleDelays(c))
	if o.Prom != "" {
		m := report.VerifyMetrics{Report: r, Root: g.Root, Now: time.Now(), Duration: time.Since(start)}
		if r != nil {
			m.LastSuccess = m.Now
		} else if b, err := layerfs.ReadFileLimit(o.Prom, 1<<20); err == nil {
			m.LastSuccess, _ = report.LastVerifySuccess(bytes.NewReader(b))
		}
		if err := writeAtomic(depsOf(c).critical, o.Prom, func(w io.Writer) error { return report.VerifyProm(w, m) }); err != nil {
			return cli.Exit(fmt.Sprintf("--prom %s: %v", o.Prom, err), exitUsage)
		}
	}
	if runErr != nil {
		return cli.Exit(runErr.Error(), exitUsage)
	}
	if g.Format == "json" {
		err = report.VerifyJSON(c.App.Writer, g.Provenance, r, o.Quiet)
	} else {
		err = report.Verify(c.App.Writer, r, report.VerifyOptions{Quiet: o.Quiet})
	}
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	if err := report.Gaps(c.App.ErrWriter, r.Gaps); err != nil {
		return err
	}
	if !r.Complete {
		// Not a pass: what could not be seen was not checked.
		return cli.Exit("verify could not check everything (see above): not a pass", exitUsage)
	}
	if len(r.Findings) > 0 {
		return cli.Exit("", exitFindings)
	}
	return nil
}

// verifyStore opens the store and runs the checks, with a progress line
// on stderr when it is a terminal.
// With --driver auto, every driver's image store the root holds is
// verified (a host migrated from one driver to another keeps both).
// settle are the pauses before each re-read of what it found.
func verifyStore(ctx context.Context, stderr io.Writer, g globalOptions, o verifyOptions, settle []time.Duration) (*verify.Report, error) {
	s, err := inspect.OpenWith(g.Root, g.storeOptions())
	if err != nil {
		return nil, err
	}
	if err := notYetRead(s, "verify"); err != nil {
		return nil, err
	}
	opt := verify.Options{Quick: o.Quick, Jobs: o.Jobs, Readers: o.Readers, Recheck: verify.Recheck{Delays: settle}}
	if !o.Quiet {
		update, done := progress(stderr, report.VerifyProgress)
		opt.Progress = update
		defer done()
	}
	r, err := verify.Run(ctx, s, opt)
	if err != nil || g.Driver != inspect.DriverAuto {
		return r, err
	}
	for _, d := range s.Others {
		other, _ := s.Sibling(inspect.DriverName(d))
		if other.Graph().Terms().AuditPending != "" {
			fmt.Fprintf(stderr, "dlayer: verify: the %s store of this root is not yet read: %s\n", d, other.Graph().Terms().AuditPending)
			continue
		}
		or, err := verify.Run(ctx, other, opt)
		if err != nil {
			return nil, err
		}
		r.Merge(or)
	}
	return r, nil
}

// promTarget makes file absolute and refuses a file under root: dlayer
// never writes into the data root, whatever symlinks say.
func promTarget(root, file string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", fmt.Errorf("--prom %s: %w", file, err)
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", fmt.Errorf("--prom %s: its directory: %w", file, err)
	}
	r, err := filepath.EvalSymlinks(root)
	if err != nil {
		r = filepath.Clean(root)
	}
	if r, err = filepath.Abs(r); err != nil {
		return "", err
	}
	if dir == r || strings.HasPrefix(dir, strings.TrimSuffix(r, "/")+"/") {
		return "", fmt.Errorf("--prom %s: refusing to write under the data root %s", file, root)
	}
	if fi, err := os.Lstat(abs); err == nil && fi.IsDir() {
		return "", fmt.Errorf("--prom %s: is a directory", file)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("--prom %s: %w", file, err)
	}
	return filepath.Join(dir, filepath.Base(abs)), nil
}

// writeAtomic writes file through a temporary file in the same directory
// (named so that node_exporter's *.prom glob skips it) and a rename, so a
// reader sees the old file or the new one, never a part.
// critical, when set, is held throughout: a signal waits for the rename.
func writeAtomic(critical *sync.Mutex, file string, write func(io.Writer) error) error {
	if critical != nil {
		critical.Lock()
		defer critical.Unlock()
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*.tmp")
	if err != nil {
		return err
	}
	err = write(tmp)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
