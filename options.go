package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dlayer/dlayer/containerd"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/verify"
	"github.com/dlayer/dlayer/mountinfo"
	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	Root      string
	Mountinfo string // auto, none, a PID or a file
	Format    string // table, json, or a template (then Template is it)
	// Template is the parsed --format template, nil for table or json.
	Template *report.Template
	Daemon   string // auto or off
	Driver   string // auto, or a registered backend's name
	// ContainerdRoot is containerd's root for the containerd image
	// store, "" derived from Root; Namespace dockerd's namespace there.
	ContainerdRoot, Namespace string
	// Backends are the storage backends main registered; FS the opener
	// of the root.
	Backends *backend.Registry
	FS       layerfs.Opener
	// Privilege is what the process can see; nil reads /proc/self.
	Privilege *layerfs.Privilege
	// Provenance is this run's, for the header of every JSON document.
	Provenance report.Provenance
}

// metaDeps is the App.Metadata key of the program's deps.
const metaDeps = "dlayer.deps"

// depsOf returns the deps main put in the app.
func depsOf(c *cli.Context) deps {
	d, _ := c.App.Metadata[metaDeps].(deps)
	return d
}

// driverUsage is the --driver flag's help: auto, then the backends reg
// registers, in the order auto prefers them.
func driverUsage(reg *backend.Registry) string {
	var names []string
	for _, n := range reg.Names() {
		names = append(names, n.String())
	}
	prefer := ""
	if len(names) > 1 {
		prefer = "; " + names[0] + " when it holds several"
	}
	list := strings.Join(names, ", ")
	if i := strings.LastIndex(list, ", "); i >= 0 {
		list = list[:i] + " or " + list[i+2:]
	}
	return "storage driver whose image store to read: auto (the one the root holds" + prefer +
		", and each container by its own driver), " + list
}

func globalFlags(reg *backend.Registry) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "root", Value: "/var/lib/docker", EnvVars: []string{"DLAYER_ROOT"},
			Usage: "Docker data root to read (a live root, a copy, or a mounted disk image)"},
		&cli.StringFlag{Name: "mountinfo", Value: "auto",
			Usage: "live mount data: `auto` (this process's mount namespace and those of running dockerd and containerd processes), " +
				"FILE (a mountinfo file; ./NAME for a file called auto, none or a number), PID (/proc/PID/mountinfo), or none"},
		&cli.StringFlag{Name: "format", Value: "table",
			Usage: "output format: table, json, or a Go template over the JSON fields ('{{.name}} {{.state.status}}': ps, images, layers, diff, mounts, explain and whose)"},
		&cli.StringFlag{Name: "driver", Value: "auto", EnvVars: []string{"DLAYER_DRIVER"},
			Usage: driverUsage(reg)},
		&cli.StringFlag{Name: "containerd-root", EnvVars: []string{"DLAYER_CONTAINERD_ROOT"},
			Usage: "containerd's root, for Docker's containerd image store (default: <root>/containerd/daemon if present, else the containerd dir beside --root)"},
		&cli.StringFlag{Name: "namespace", Value: containerd.DefaultNamespace, Usage: "the containerd namespace dockerd keeps its images and snapshots in"},
		&cli.StringFlag{Name: "daemon", Value: "auto",
			Usage: "auto: cross-check with the Docker daemon when one is reachable and serves --root; off: never contact it"},
	}
}

// formatSet is the --format values a command renders.
type formatSet int

const (
	// tableOrJSON: --format table or json.
	tableOrJSON formatSet = iota
	// anyFormat: also a Go template over the JSON (report.Template).
	anyFormat
)

// String names the set as the usage error says it.
func (f formatSet) String() string {
	if f == anyFormat {
		return "table, json or a Go template over the JSON fields"
	}
	return "table or json"
}

// readGlobal reads the global flags of a command whose --format is table
// or json.
func readGlobal(c *cli.Context) (globalOptions, error) {
	return readGlobalFor(c, tableOrJSON)
}

// readGlobalFor reads the global flags of a command that renders formats.
func readGlobalFor(c *cli.Context, formats formatSet) (globalOptions, error) {
	o := globalOptions{Root: c.String("root"), Mountinfo: c.String("mountinfo"), Format: c.String("format"), Daemon: c.String("daemon"), Driver: c.String("driver"),
		ContainerdRoot: c.String("containerd-root"), Namespace: c.String("namespace"),
		Backends: depsOf(c).backends, FS: depsOf(c).fs, Privilege: depsOf(c).privilege}
	if o.Backends != nil {
		if o.ContainerdRoot == "" {
			o.ContainerdRoot = containerd.DefaultRoot(o.Root)
		} else if fi, err := os.Stat(o.ContainerdRoot); err != nil || !fi.IsDir() {
			return o, usageError{msg: fmt.Sprintf("--containerd-root %s: not a directory", o.ContainerdRoot)}
		}
		o.Backends = o.Backends.With(containerd.New(containerd.Config{Root: o.ContainerdRoot, Namespace: o.Namespace}))
	}
	switch {
	case o.Format == "table" || o.Format == "json":
	case formats == anyFormat && strings.Contains(o.Format, "{{"):
		t, err := report.ParseTemplate(o.Format)
		if err != nil {
			return o, usageError{msg: err.Error()}
		}
		o.Template = t
	default:
		return o, usageError{msg: fmt.Sprintf("--format %q: %s takes %s", o.Format, commandName(c), formats)}
	}
	if o.Daemon != "auto" && o.Daemon != "off" {
		return o, usageError{msg: fmt.Sprintf("--daemon %q: want auto or off", o.Daemon)}
	}
	o.Provenance = provenance(depsOf(c).argv, o.Root, o.ContainerdRoot, time.Now())
	return o, nil
}

// listing is what a command lists for a --format template: "" when its
// JSON is the list (or one object, which the template then runs over
// once), else the field of its JSON object that holds the list.
type listing string

// render writes a command's result as --format says: the table, the JSON,
// or the template run over each item of list in the JSON.
func (o globalOptions) render(w io.Writer, list listing, asJSON, asTable func(io.Writer) error) error {
	switch {
	case o.Template != nil:
		return o.Template.Execute(w, string(list), asJSON)
	case o.Format == "json":
		return asJSON(w)
	}
	return asTable(w)
}

// storeOptions are the options inspect.OpenWith takes.
// Unless deps gave an opener, every read is confined to --root: resolved
// beneath it by the kernel, with no symlink in any component.
func (o globalOptions) storeOptions() inspect.Options {
	fsys := o.FS
	if fsys == nil {
		if b, err := layerfs.OpenBeneath(o.Root); err == nil {
			fsys = b
			// The containerd root, when not below the data root, is
			// confined by its own Beneath.
			if cr := o.ContainerdRoot; cr != "" && !below(cr, o.Root) {
				if cb, err := layerfs.OpenBeneath(cr); err == nil {
					fsys = layerfs.NewRoots(map[string]layerfs.Opener{o.Root: b, cr: cb})
				}
			}
		}
	}
	return inspect.Options{Backends: o.Backends, Driver: o.Driver, FS: fsys, Privilege: o.Privilege}
}

// below reports whether p is dir or below it.
func below(p, dir string) bool {
	p, dir = filepath.Clean(p), filepath.Clean(dir)
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// notYetRead refuses command cmd on a store whose driver says the
// whole-store audits do not read it yet (Terms.AuditPending): exit 2 with
// a clear message, never a misreport.
func notYetRead(s *inspect.Store, cmd string) error {
	if why := s.Graph().Terms().AuditPending; why != "" {
		return cli.Exit(fmt.Sprintf("%s: not yet read for this store (%s, driver %s): %s", cmd, s.Root, s.Driver, why), exitUsage)
	}
	return nil
}

// openStore opens --root; failure is exit 2.
func openStore(o globalOptions) (*inspect.Store, error) {
	s, err := inspect.OpenWith(o.Root, o.storeOptions())
	if err != nil {
		return nil, cli.Exit(err.Error(), exitUsage)
	}
	return s, nil
}

// openStoreFor opens --root with the driver of container ref: with --driver
// auto, a container Docker made with another driver than the one auto picks
// (a host migrated from aufs to overlay2) is read from its own image store.
func openStoreFor(o globalOptions, ref string) (*inspect.Store, error) {
	s, err := openStore(o)
	if err != nil {
		return nil, err
	}
	return storeFor(o, s, ref), nil
}

// storeFor is the image store of the opened root s that container ref's
// driver made (s itself unless --driver auto finds another).
func storeFor(o globalOptions, s *inspect.Store, ref string) *inspect.Store {
	if o.Driver != "auto" || len(s.Others) == 0 {
		return s
	}
	c, err := s.FindContainer(ref)
	if err != nil || c.Driver == "" || c.Driver == s.Driver {
		return s // Explain reports a bad ref
	}
	return s.ForDriver(c.Driver)
}

// Where the live host's kernel tables are (--mountinfo auto and PID).
const (
	procRoot = "/proc"
	sysRoot  = "/sys"
)

// mountTables reads the mount tables --mountinfo names. known is false with
// none; err (nothing could be read) names the file or process.
func mountTables(o globalOptions) (tables []mountinfo.Table, known bool, err error) {
	switch src := o.Mountinfo; {
	case src == "none":
		return nil, false, nil
	case src == "auto" || src == "":
		tables, err = mountinfo.ReadNamespaces(procRoot, mountinfo.DaemonCommands())
		return tables, true, err
	case isPID(src):
		pid, _ := strconv.Atoi(src)
		t, err := mountinfo.ReadPID(procRoot, pid)
		return []mountinfo.Table{t}, true, err
	default:
		t, err := mountinfo.ReadTable(src)
		return []mountinfo.Table{t}, true, err
	}
}

// isPID reports whether s is a process ID (a positive decimal).
func isPID(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && strconv.Itoa(n) == s
}

// liveMounts reads the overlay mounts of --mountinfo, their relative
// options resolved against the store's overlay2 home. known is false with
// --mountinfo none; an unreadable file is a finding, not a failure.
func liveMounts(o globalOptions, s *inspect.Store) (mounts []inspect.LiveMount, known bool, finds []inspect.Finding) {
	tables, known, err := mountTables(o)
	if err != nil {
		return nil, false, []inspect.Finding{{Kind: "mountinfo_unreadable", Path: o.Mountinfo, Message: err.Error()}}
	}
	if !known {
		return nil, false, nil
	}
	mounts, finds = s.LiveMounts(tables, sysRoot)
	return mounts, true, finds
}

// defaultSettle is how long verify and mounts wait in all, by default,
// for what they found to settle before they report it (the sum of
// verify.DefaultRecheck's pauses).
const defaultSettle = 2 * time.Second

// settleFlag is --settle of verify and mounts.
func settleFlag() cli.Flag {
	return &cli.DurationFlag{Name: "settle", Value: defaultSettle,
		Usage: "how long to wait in all, over three re-reads, for what the scan found to settle before reporting it (a live engine changes under the scan); " +
			"0 re-reads at once: for a copy or a disk image, which do not change"}
}

// settleDelays are the pauses before each re-read: the program's own
// (main's: verify.DefaultRecheck; tests': none) unless --settle is given,
// then DefaultRecheck's scaled to it.
func settleDelays(c *cli.Context) []time.Duration {
	if !c.IsSet("settle") {
		return depsOf(c).settle
	}
	total := max(c.Duration("settle"), 0)
	def := verify.DefaultRecheck().Delays
	out := make([]time.Duration, len(def))
	for i, d := range def {
		out[i] = time.Duration(int64(d) * int64(total) / int64(defaultSettle))
	}
	return out
}
