package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/dlayer/dlayer/exporter"
	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/dlayer/dlayer/report"
	"github.com/docker/go-units"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/urfave/cli/v2"
	"golang.org/x/time/rate"
)

// serveOptions are dlayer serve's flags.
type serveOptions struct {
	Listen         string
	WebConfig      string
	Interval       time.Duration
	VerifyInterval time.Duration
	CPUs           int
	ReadRate       int64
	TopImages      int
	TmpDir         string
}

// defaultListen is where dlayer serve listens unless told: this host
// only. Exposing it is a choice (--listen :9847, with --web.config.file
// for TLS and basic auth).
const defaultListen = "127.0.0.1:9847"

// shutdownWait bounds a clean stop: the HTTP server's in-flight requests,
// then the scan under way (verify stops at once; a du walk is left to the
// exit, which undoes nothing because nothing was written).
const shutdownWait = 5 * time.Second

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "a Prometheus exporter: run du and verify on a schedule and serve their last results at /metrics",
		Description: "dlayer serve runs du and verify --quick every --interval and the full verify every --verify-interval, one scan at a time,\n" +
			"and serves the last completed results: /metrics (Prometheus), /healthz, /api/v1/du, /api/v1/verify and\n" +
			"/api/v1/verify/quick (each scan's --format json document). A scrape never starts a scan. It is read-only like\n" +
			"every command. TLS and basic auth: --web.config.file, the Prometheus exporter toolkit's web config (as node_exporter's).\n" +
			"SIGTERM or SIGINT stops it cleanly (exit 0). See docs/serve.md.",
		Flags: []cli.Flag{
			settleFlag(),
			&cli.StringFlag{Name: "listen", Value: defaultListen, Usage: "listen on `ADDR` (host:port)"},
			&cli.StringFlag{Name: "web.config.file", Usage: "TLS and basic auth configuration `FILE` (exporter toolkit web config)"},
			&cli.DurationFlag{Name: "interval", Value: 10 * time.Minute, Usage: "run du and verify --quick every `DURATION`"},
			&cli.DurationFlag{Name: "verify-interval", Value: 24 * time.Hour, Usage: "run the full verify (every layer re-hashed) every `DURATION`; 0: never"},
			&cli.IntFlag{Name: "cpus", Value: 1, Usage: "use at most `N` CPUs for the scans (the CPU budget)"},
			&cli.StringFlag{Name: "read-rate", Value: "64MiB", Usage: "read layer content at most `RATE` bytes a second (the I/O budget; 0: no limit)"},
			&cli.IntFlag{Name: "top-images", Value: 10, Usage: "export per-image series for the `N` biggest images"},
			&cli.StringFlag{Name: "tmpdir", Usage: "put the private copies of bolt databases (containerd's meta.db, BuildKit's snapshots.db) in `DIR` (never under --root)"},
		},
		Action: func(c *cli.Context) error {
			o := serveOptions{Listen: c.String("listen"), WebConfig: c.String("web.config.file"), Interval: c.Duration("interval"),
				VerifyInterval: c.Duration("verify-interval"), CPUs: c.Int("cpus"), TopImages: c.Int("top-images"), TmpDir: c.String("tmpdir")}
			rr, err := parseRate(c.String("read-rate"))
			if err != nil {
				return cli.Exit(err.Error(), exitUsage)
			}
			o.ReadRate = rr
			return runServe(c, o)
		},
	}
}

// parseRate reads --read-rate: a byte count a second ("64MiB", "100m",
// "0").
func parseRate(s string) (int64, error) {
	n, err := units.RAMInBytes(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--read-rate %q: want bytes a second, e.g. 64MiB (0: no limit)", s)
	}
	return n, nil
}

func runServe(c *cli.Context, o serveOptions) error {
	g, err := readGlobal(c)
	if err != nil {
		return err
	}
	if c.NArg() != 0 {
		return cli.Exit("dlayer serve takes no arguments (use --root for the data root)", exitUsage)
	}
	switch {
	case o.Interval <= 0:
		return cli.Exit(fmt.Sprintf("--interval %v: want a duration > 0", o.Interval), exitUsage)
	case o.VerifyInterval < 0:
		return cli.Exit(fmt.Sprintf("--verify-interval %v: want a duration ≥ 0", o.VerifyInterval), exitUsage)
	case o.CPUs < 1:
		return cli.Exit(fmt.Sprintf("--cpus %d: want at least 1", o.CPUs), exitUsage)
	case o.TopImages < 0:
		return cli.Exit(fmt.Sprintf("--top-images %d: want a number ≥ 0", o.TopImages), exitUsage)
	}
	if o.TmpDir != "" {
		dir, err := outsideRootDir("--tmpdir", g.Root, o.TmpDir)
		if err != nil {
			return cli.Exit(err.Error(), exitUsage)
		}
		// The bolt copies are made with os.CreateTemp(""), which reads it.
		os.Setenv("TMPDIR", dir)
	}
	if o.WebConfig != "" {
		if err := web.Validate(o.WebConfig); err != nil {
			return cli.Exit(fmt.Sprintf("--web.config.file %s: %v", o.WebConfig, err), exitUsage)
		}
	}
	if _, err := openStore(g); err != nil { // a root that is no data root is a usage error now, not a failing scan later
		return err
	}
	runtime.GOMAXPROCS(o.CPUs)
	// serve stops itself on a signal, cleanly: not the whole-process
	// handler main installed for the one-shot commands.
	signal.Reset(syscall.SIGINT, syscall.SIGTERM)
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	e := exporter.New(exporter.Config{Root: g.Root, TopImages: o.TopImages}, serveJobs(c, g, o, ctx)...)
	reg, err := e.Registry()
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name: "dlayer", Description: "read-only storage forensics for Docker's data root " + report.Escape(g.Root), Version: version(),
		Links: []web.LandingLinks{{Address: exporter.PathMetrics, Text: "Metrics"}, {Address: exporter.PathHealth, Text: "Health"},
			{Address: exporter.PathDU, Text: "Last du (JSON)"}, {Address: exporter.PathVerify, Text: "Last verify (JSON)"},
			{Address: exporter.PathVerifyQuick, Text: "Last verify --quick (JSON)"}},
	})
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	logger := slog.New(slog.NewTextHandler(c.App.ErrWriter, nil))
	srv := &http.Server{Handler: e.Handler(reg, landing), ReadHeaderTimeout: 10 * time.Second}
	scans := make(chan error, 1)
	go func() { scans <- e.Run(ctx) }()
	served := make(chan error, 1)
	go func() {
		addrs, sd := []string{o.Listen}, false
		served <- web.ListenAndServe(srv, &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: &sd, WebConfigFile: &o.WebConfig}, logger)
	}()
	select {
	case err := <-served: // could not listen, or a bad web config
		stop()
		return cli.Exit(fmt.Sprintf("serve: --listen %s: %v", o.Listen, err), exitUsage)
	case <-ctx.Done():
	}
	logger.Info("stopping: a signal came", "root", g.Root)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("stopping: requests still open", "err", err)
	}
	select {
	case <-scans:
	case <-sctx.Done():
		logger.Info("stopping: left the scan under way (it wrote nothing)")
	}
	return nil
}

// serveJobs are the three scans, each opening the store afresh (a live
// engine changes between scans) and leaving its JSON document.
func serveJobs(c *cli.Context, g globalOptions, o serveOptions, ctx context.Context) []exporter.Job {
	d := depsOf(c)
	settle := settleDelays(c)
	pace := readPace(ctx, o.ReadRate)
	doc := func(start time.Time, write func(io.Writer, report.Provenance) error) ([]byte, error) {
		var b bytes.Buffer
		err := write(&b, provenance(d.argv, g.Root, g.ContainerdRoot, start))
		return b.Bytes(), err
	}
	verifyJob := func(scan report.Scan, quick bool, every time.Duration) exporter.Job {
		return exporter.Job{Scan: scan, Every: every, Run: func(ctx context.Context) (exporter.Result, error) {
			start := time.Now()
			r, err := verifyStore(ctx, io.Discard, g, verifyOptions{Quick: quick, Quiet: true, pace: pace}, settle, nil)
			if err != nil {
				return exporter.Result{}, err
			}
			b, err := doc(start, func(w io.Writer, p report.Provenance) error { return report.VerifyJSON(w, p, r, false) })
			return exporter.Result{Verify: r, Document: b}, err
		}}
	}
	jobs := []exporter.Job{
		{Scan: report.ScanDU, Every: o.Interval, Run: func(context.Context) (exporter.Result, error) {
			start := time.Now()
			r, err := duScan(g, nil)
			if err != nil {
				return exporter.Result{}, err
			}
			b, err := doc(start, func(w io.Writer, p report.Provenance) error { return report.DUJSON(w, p, r) })
			return exporter.Result{DU: r, Document: b}, err
		}},
		verifyJob(report.ScanVerifyQuick, true, o.Interval),
	}
	if o.VerifyInterval > 0 {
		jobs = append(jobs, verifyJob(report.ScanVerify, false, o.VerifyInterval))
	}
	return jobs
}

// readPace holds content reads to bytesPerSec (nil: no limit), in bursts
// of at most a tenth of a second's worth (and at least 1 MiB, a reader's
// largest read).
func readPace(ctx context.Context, bytesPerSec int64) verify.Pace {
	if bytesPerSec <= 0 {
		return nil
	}
	burst := int(min(max(bytesPerSec/10, 1<<20), 1<<30))
	lim := rate.NewLimiter(rate.Limit(bytesPerSec), burst)
	return func(n int) {
		for n > 0 {
			k := min(n, burst)
			if lim.WaitN(ctx, k) != nil { // the run ends
				return
			}
			n -= k
		}
	}
}
