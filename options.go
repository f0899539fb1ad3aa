package main

import (
	"fmt"
	"path/filepath"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/mountinfo"
	"github.com/urfave/cli/v2"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	Root      string
	Mountinfo string // a file, or "none"
	Format    string // table or json
	Daemon    string // auto or off
	Driver    string // auto, overlay2 or aufs
}

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "root", Value: "/var/lib/docker", EnvVars: []string{"DLAYER_ROOT"},
			Usage: "Docker data root to read (a live root, a copy, or a mounted disk image)"},
		&cli.StringFlag{Name: "mountinfo", Value: "/proc/self/mountinfo",
			Usage: "mountinfo file for live mount data, or `none`"},
		&cli.StringFlag{Name: "format", Value: "table", Usage: "output format: table or json"},
		&cli.StringFlag{Name: "driver", Value: "auto", EnvVars: []string{"DLAYER_DRIVER"},
			Usage: "storage driver whose image store to read: auto (the one the root holds; overlay2 when it holds both, and each container by its own driver), overlay2 or aufs"},
		&cli.StringFlag{Name: "daemon", Value: "auto",
			Usage: "auto: cross-check with the Docker daemon when one is reachable and serves --root; off: never contact it"},
	}
}

func readGlobal(c *cli.Context) (globalOptions, error) {
	o := globalOptions{Root: c.String("root"), Mountinfo: c.String("mountinfo"), Format: c.String("format"), Daemon: c.String("daemon"), Driver: c.String("driver")}
	if o.Format != "table" && o.Format != "json" {
		return o, cli.Exit(fmt.Sprintf("--format %q: want table or json", o.Format), exitUsage)
	}
	if o.Daemon != "auto" && o.Daemon != "off" {
		return o, cli.Exit(fmt.Sprintf("--daemon %q: want auto or off", o.Daemon), exitUsage)
	}
	return o, nil
}

// openStore opens --root; failure is exit 2.
func openStore(o globalOptions) (*inspect.Store, error) {
	s, err := inspect.OpenDriver(o.Root, o.Driver)
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
	if err != nil || o.Driver != "auto" || len(s.Others) == 0 {
		return s, err
	}
	c, err := s.FindContainer(ref)
	if err != nil || c.Driver == "" || c.Driver == s.Driver {
		return s, nil // Explain reports a bad ref
	}
	o.Driver = c.Driver
	return openStore(o)
}

// liveMounts reads the overlay mounts of --mountinfo, their relative
// options resolved against the store's overlay2 home. known is false with
// --mountinfo none; an unreadable file is a finding, not a failure.
func liveMounts(o globalOptions, s *inspect.Store) (mounts []inspect.LiveMount, known bool, finds []inspect.Finding) {
	if o.Mountinfo == "none" || o.Mountinfo == "" {
		return nil, false, nil
	}
	all, err := mountinfo.ReadFile(o.Mountinfo)
	if err != nil {
		return nil, false, []inspect.Finding{{Kind: "mountinfo_unreadable", Path: o.Mountinfo, Message: err.Error()}}
	}
	home := s.Overlay().Dir
	for _, m := range all {
		if m.FSType != "overlay" {
			continue
		}
		ov, err := m.Overlay()
		if err != nil {
			finds = append(finds, inspect.Finding{Kind: "mountinfo_malformed", Path: fmt.Sprintf("%s:%d", o.Mountinfo, m.Line), Message: err.Error()})
			continue
		}
		ov = ov.Resolve(home)
		lm := inspect.LiveMount{MountPoint: m.MountPoint, UpperDir: ov.UpperDir, WorkDir: ov.WorkDir, Options: m.SuperOptionsRaw}
		for _, d := range ov.LowerDirs {
			lm.LowerDirs = append(lm.LowerDirs, filepath.Clean(d))
		}
		mounts = append(mounts, lm)
	}
	return mounts, true, finds
}
