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
	// State is --state FILE; MaxAge --max-age (nil: no limit).
	State  string
	MaxAge *time.Duration
	// pace holds content reads to a rate (dlayer serve --read-rate); nil:
	// none.
	pace verify.Pace
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
			"EXIT CODES:\n   0  no findings\n   1  findings (listed on stdout)\n   2  could not run (usage, unreadable store, --prom or --state not writable)\n\n" +
			"With --state FILE, a later run re-hashes only the layers whose trees differ by stat from what the last full re-hash\n" +
			"established, and says how many it trusted on ctime instead (which only the kernel sets): see docs/verify.md.",
		Flags: []cli.Flag{
			settleFlag(),
			&cli.BoolFlag{Name: "quick", Usage: "metadata checks only: read no layer content"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the findings (nothing when there are none): for cron"},
			&cli.StringFlag{Name: "prom", Usage: "also write Prometheus textfile metrics to `FILE` (atomically; never under --root)"},
			&cli.IntFlag{Name: "jobs", Usage: "layers hashed at once (default: the number of CPUs)"},
			&cli.IntFlag{Name: "readers", Usage: "goroutines opening and reading files (default: 4 per CPU, at least 64)"},
			&cli.StringFlag{Name: "state", Usage: "record in `FILE` (never under --root) what each layer's full re-hash established, and re-hash " +
				"only the layers whose trees differ from it by stat (size, mode, owner, inode, mtime, ctime); the others are trusted on ctime, which only the kernel sets"},
			&cli.DurationFlag{Name: "max-age", Usage: "with --state: re-hash in full the layers whose last full re-hash is older than `DURATION` (e.g. 168h; 0: all of them)"},
		},
		Action: func(c *cli.Context) error {
			o := verifyOptions{Quick: c.Bool("quick"), Quiet: c.Bool("quiet"), Prom: c.String("prom"),
				Jobs: c.Int("jobs"), Readers: c.Int("readers"), State: c.String("state")}
			if c.IsSet("max-age") {
				d := c.Duration("max-age")
				o.MaxAge = &d
			}
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
		if o.Prom, err = outsideRoot("--prom", g.Root, o.Prom); err != nil {
			return cli.Exit(err.Error(), exitUsage)
		}
	}
	vs, err := openState(g.Root, o, time.Now())
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	var trust *verify.Trust
	if vs != nil {
		vs.warn(c.App.ErrWriter)
		trust = &vs.trust
	}
	r, runErr := verifyStore(ctx, c.App.ErrWriter, g, o, settleDelays(c), trust)
	if vs != nil && runErr == nil {
		vs.note(r, o.MaxAge)
		if err := vs.write(depsOf(c), r); err != nil {
			return cli.Exit(fmt.Sprintf("--state %s: %v", vs.file, err), exitUsage)
		}
	}
	if o.Prom != "" {
		m := report.VerifyMetrics{Report: r, Quick: o.Quick, Root: g.Root, Now: time.Now(), Duration: time.Since(start), Err: runErr}
		if r != nil {
			m.LastSuccess = m.Now
		} else {
			m.LastSuccess = lastSuccess(o.Prom, m.Scan())
		}
		if err := writeAtomic(depsOf(c).critical, o.Prom, 0o644, func(w io.Writer) error { return report.VerifyProm(w, m) }); err != nil {
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
// settle are the pauses before each re-read of what it found; trust,
// when set, the records of --state.
func verifyStore(ctx context.Context, stderr io.Writer, g globalOptions, o verifyOptions, settle []time.Duration, trust *verify.Trust) (*verify.Report, error) {
	s, err := inspect.OpenWith(g.Root, g.storeOptions())
	if err != nil {
		return nil, err
	}
	return verifyOn(ctx, stderr, g, s, o, settle, trust)
}

// verifyOn runs verifyStore's checks on the opened store s.
func verifyOn(ctx context.Context, stderr io.Writer, g globalOptions, s *inspect.Store, o verifyOptions, settle []time.Duration, trust *verify.Trust) (*verify.Report, error) {
	if err := notYetRead(s, "verify"); err != nil {
		return nil, err
	}
	opt := verify.Options{Quick: o.Quick, Jobs: o.Jobs, Readers: o.Readers, Recheck: verify.Recheck{Delays: settle}, Trust: trust, Pace: o.pace}
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

// outsideRoot makes file (the value of flag) absolute and refuses a file
// under root: dlayer never writes into the data root, whatever symlinks
// and ".." say.
func outsideRoot(flag, root, file string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, file, err)
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", fmt.Errorf("%s %s: its directory: %w", flag, file, err)
	}
	under, err := underRoot(root)
	if err != nil {
		return "", err
	}
	if under(dir) {
		return "", fmt.Errorf("%s %s: refusing to write under the data root %s", flag, file, root)
	}
	target := filepath.Join(dir, filepath.Base(abs))
	if fi, err := os.Lstat(target); err == nil && fi.IsDir() {
		return "", fmt.Errorf("%s %s: is a directory", flag, file)
	} else if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if to := linkTarget(target); under(to) {
			return "", fmt.Errorf("%s %s: a symlink to %s, under the data root %s: refusing it", flag, file, to, root)
		}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s %s: %w", flag, file, err)
	}
	return target, nil
}

// lastSuccess is the last success of scan that a previous textfile at
// file records (zero when none): a run that cannot complete keeps it.
func lastSuccess(file string, scan report.Scan) time.Time {
	b, err := layerfs.ReadFileLimit(file, 1<<20)
	if err != nil {
		return time.Time{}
	}
	t, _ := report.LastSuccess(bytes.NewReader(b), scan)
	return t
}

// underRoot returns whether a path, its symlinks resolved, is root or
// beneath it.
func underRoot(root string) (func(p string) bool, error) {
	r, err := filepath.EvalSymlinks(root)
	if err != nil {
		r = filepath.Clean(root)
	}
	if r, err = filepath.Abs(r); err != nil {
		return nil, err
	}
	return func(p string) bool { return p == r || strings.HasPrefix(p, strings.TrimSuffix(r, "/")+"/") }, nil
}

// outsideRootDir makes dir (the value of flag) absolute, its symlinks
// resolved, and refuses it unless it is a directory outside root.
func outsideRootDir(flag, root, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, dir, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%s %s: not a directory", flag, dir)
	}
	under, err := underRoot(root)
	if err != nil {
		return "", err
	}
	if under(abs) {
		return "", fmt.Errorf("%s %s: refusing to write under the data root %s", flag, dir, root)
	}
	return abs, nil
}

// linkTarget is where the symlink p points, its dir's symlinks resolved
// (the target itself may not exist yet).
func linkTarget(p string) string {
	if to, err := filepath.EvalSymlinks(p); err == nil {
		return to
	}
	to, err := os.Readlink(p)
	if err != nil {
		return p
	}
	if !filepath.IsAbs(to) {
		to = filepath.Join(filepath.Dir(p), to)
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(to)); err == nil {
		return filepath.Join(dir, filepath.Base(to))
	}
	return filepath.Clean(to)
}

// writeAtomic writes file through a temporary file in the same directory
// (named so that node_exporter's *.prom glob skips it) and a rename, so a
// reader sees the old file or the new one, never a part.
// critical, when set, is held throughout: a signal waits for the rename.
// mode is the file's permission bits.
func writeAtomic(critical *sync.Mutex, file string, mode os.FileMode, write func(io.Writer) error) error {
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
		err = tmp.Chmod(mode)
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
