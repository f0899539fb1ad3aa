// Command dlayer is a read-only storage forensics tool for Docker's data
// root: it explains what a container's layers are, where they live, and what
// its writable layer did, from the files alone.
//
// Exit codes: 0 success; 1 verify findings or mounts problems; 2 usage
// error, or the store cannot be read (the message names the path and the
// cause).
package main

import (
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"errors"
	"fmt"
	"github.com/dlayer/dlayer/report"
	"golang.org/x/sys/unix"
	"io"
	"os"

	"github.com/dlayer/dlayer/aufs"
	"github.com/dlayer/dlayer/containerd"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/dlayer/dlayer/overlay"
	"github.com/dlayer/dlayer/overlay2"
	"github.com/urfave/cli/v2"
)

// Exit codes, documented in --help and docs/exit-codes.md.
const (
	exitOK    = 0
	exitUsage = 2
)

func main() {
	deferFirstGC(gcFloor)
	d := deps{backends: backends(), dial: dialDaemon, critical: &sync.Mutex{}, settle: verify.DefaultRecheck().Delays}
	stopOnSignal(d.critical, os.Args, os.Stderr)
	os.Exit(runWith(d, os.Args, os.Stdout, os.Stderr))
}

// Exit codes of a run stopped by a signal, as shells report them.
const (
	exitSIGINT  = 128 + int(syscall.SIGINT)  // 130
	exitSIGTERM = 128 + int(syscall.SIGTERM) // 143
)

// stopOnSignal ends the process at once on SIGINT or SIGTERM, whatever it
// is doing: dlayer holds nothing that needs undoing (it never writes under
// the data root), except a file it is writing outside it (verify --prom),
// which critical keeps whole: the exit waits for it. It says on stderr
// what was interrupted.
func stopOnSignal(critical *sync.Mutex, args []string, stderr io.Writer) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-ch
		critical.Lock()
		code := exitSIGTERM
		if sig == syscall.SIGINT {
			code = exitSIGINT
		}
		fmt.Fprintf(stderr, "dlayer: interrupted by %s: %s stopped before it finished; its output is incomplete (nothing under the data root was written)\n",
			unix.SignalName(sig.(syscall.Signal)), report.Escape(strings.Join(args, " ")))
		os.Exit(code)
	}()
}

// backends are the storage backends dlayer reads, in the order --driver
// auto prefers them when a data root holds several. Adding a backend is
// adding its constructor here.
func backends() *backend.Registry {
	return backend.NewRegistry(overlay2.New(), aufs.New(), overlay.New(), containerd.New(containerd.Config{}))
}

// deps are what the program is wired with: the backends it reads and the
// opener every read under the root goes through. Tests inject their own.
type deps struct {
	backends *backend.Registry
	// fs reads the root; nil confines every read to --root
	// (layerfs.Beneath).
	fs layerfs.Opener
	// privilege is what the process can see; nil reads /proc/self.
	privilege *layerfs.Privilege
	// argv is the command line, for the provenance of the JSON documents.
	argv []string
	// dial connects to the Docker daemon, for --daemon auto; nil: never.
	dial func() dockerAPI
	// critical is held while a file outside the root is being written, so
	// that a signal does not stop the process half-way through it.
	critical *sync.Mutex
	// settle are the pauses before each re-read of what verify and mounts
	// found (verify.Recheck, mounts.Recheck); nil re-reads nothing.
	settle []time.Duration
}

// run is the whole program with its outputs injected, for tests: what
// verify and mounts find is re-read as often as main does, without the
// pauses (a test's store does not change meanwhile).
func run(args []string, stdout, stderr io.Writer) int {
	d := deps{backends: backends(), dial: dialDaemon, critical: &sync.Mutex{}, settle: make([]time.Duration, len(verify.DefaultRecheck().Delays))}
	return runWith(d, args, stdout, stderr)
}

// runWith is run with its dependencies injected.
func runWith(d deps, args []string, stdout, stderr io.Writer) int {
	d.argv = args
	app := newApp(d, stdout, stderr)
	ordered, unknown := orderArgs(app, args)
	if unknown != "" {
		fmt.Fprintf(stderr, "dlayer: unknown command %q (see dlayer --help)\n", unknown)
		return exitUsage
	}
	err := app.Run(ordered)
	if err == nil {
		return exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintf(stderr, "dlayer: %s\n", msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintf(stderr, "dlayer: %s\n", err)
	return exitUsage
}

func newApp(d deps, stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "dlayer",
		Usage: "read-only storage forensics for Docker's data root",
		Description: "dlayer reads a Docker data root (/var/lib/docker, a copy of one, or a mounted disk image)\n" +
			"and explains it from the files alone: it never writes there and never needs the daemon.\n\n" +
			exitCodesText(),
		Metadata:             map[string]any{metaDeps: d},
		Writer:               report.WithWidth(stdout, termWidth(stdout)),
		ErrWriter:            stderr,
		Version:              version(),
		EnableBashCompletion: false,
		ExitErrHandler:       func(*cli.Context, error) {},
		Flags:                globalFlags(d.backends),
		Commands: withUsageErrors([]*cli.Command{explainCommand(), diffCommand(), psCommand(), imagesCommand(), layersCommand(), duCommand(), verifyCommand(), mountsCommand(), whoseCommand(), serveCommand(), reportCommand(), exportCommand(), browseCommand(),
			manCommand(), completionCommand()}),
		OnUsageError: onUsageError(""),
	}
}

// withUsageErrors makes every command's flag errors one line (and exit 2)
// instead of its help text.
func withUsageErrors(cmds []*cli.Command) []*cli.Command {
	for _, cmd := range cmds {
		cmd.OnUsageError = onUsageError(cmd.Name)
	}
	return cmds
}
