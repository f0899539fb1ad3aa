package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerdb"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
)

// Container is a container of the store.
type Container = backend.Container

// State is the container state as last written by the daemon.
type State = backend.State

type configV2 struct {
	ID     string
	Name   string
	Image  string
	Driver string
	Config struct {
		Image string
	}
	Created time.Time
	State   struct {
		Running, Paused, Restarting, Dead, RemovalInProgress bool
		Pid                                                  int
		ExitCode                                             int
		StartedAt, FinishedAt                                time.Time
	}
}

// ParseContainerConfig decodes a config.v2.json.
func ParseContainerConfig(r io.Reader) (Container, error) {
	var c configV2
	if err := json.NewDecoder(r).Decode(&c); err != nil {
		return Container{}, fmt.Errorf("%w: config.v2.json: %v", ErrMalformed, err)
	}
	if !isHex64(c.ID) {
		return Container{}, fmt.Errorf("%w: config.v2.json: ID %q is not 64 hex digits", ErrMalformed, c.ID)
	}
	out := Container{
		ID: c.ID, Name: strings.TrimPrefix(c.Name, "/"), ImageRef: c.Config.Image,
		Driver: c.Driver, Created: c.Created,
		State: State{Running: c.State.Running, Paused: c.State.Paused, Restarting: c.State.Restarting,
			Dead: c.State.Dead, Pid: c.State.Pid, ExitCode: c.State.ExitCode,
			StartedAt: c.State.StartedAt, FinishedAt: c.State.FinishedAt},
	}
	if c.Image != "" {
		d, err := digest.Parse(c.Image)
		if err != nil {
			return out, fmt.Errorf("%w: config.v2.json: Image %q: %v", ErrMalformed, c.Image, err)
		}
		out.ImageID = d
	}
	out.State.Status = status(c.State.Running, c.State.Paused, c.State.Restarting, c.State.Dead, c.State.RemovalInProgress, c.State.StartedAt)
	return out, nil
}

// status derives the word `docker ps` shows, as moby container/state.go does.
func status(running, paused, restarting, dead, removing bool, started time.Time) string {
	switch {
	case running && paused:
		return "paused"
	case running && restarting:
		return "restarting"
	case running:
		return "running"
	case removing:
		return "removing"
	case dead:
		return "dead"
	case started.IsZero():
		return "created"
	}
	return "exited"
}

func isHex64(s string) bool { return layerdb.IsHex64(s) }

// Containers reads every containers/<id>/config.v2.json, sorted by creation
// time, newest first (as docker ps). An unreadable entry is a finding; the
// others are still returned.
func (s *Store) Containers() ([]Container, []Finding, error) {
	sh := s.shared
	v, err := once(&sh.mu, &sh.containers, func() (containerList, error) {
		if src, ok := s.meta.src.(backend.ContainerSource); ok {
			cs, finds, err := src.Containers()
			return containerList{cs, finds}, err
		}
		cs, finds, err := readContainers(sh.fs, sh.root)
		return containerList{cs, finds}, err
	})
	return v.cs, v.finds, err
}

func readContainers(o layerfs.Opener, root string) ([]Container, []Finding, error) {
	dir := filepath.Join(root, "containers")
	ents, err := o.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("containers: %w", err)
	}
	var out []Container
	var finds []Finding
	for _, e := range ents {
		c, f, ok := readContainerDir(o, dir, e.Name())
		if f != nil {
			finds = append(finds, *f)
		}
		if ok {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, finds, nil
}

// readContainerDir reads the config of the container dir name in dir: ok
// when it parsed; the finding says what is wrong with it (unreadable, or
// naming another ID: then it is still returned).
func readContainerDir(o layerfs.Opener, dir, name string) (c Container, f *Finding, ok bool) {
	p := filepath.Join(dir, name, "config.v2.json")
	c, err := readContainer(o, p)
	if err != nil {
		return Container{}, &Finding{Kind: "container_unreadable", Path: p, Message: backend.Cause(err, p)}, false
	}
	if c.ID != name {
		f = &Finding{Kind: "container_id_mismatch", Path: p,
			Message: fmt.Sprintf("config says ID %s but lives in directory %s", c.ID, name)}
	}
	return c, f, true
}

func readContainer(o layerfs.Opener, p string) (Container, error) {
	b, err := o.ReadFile(p, 64<<20)
	if err != nil {
		return Container{}, err
	}
	c, err := ParseContainerConfig(strings.NewReader(string(b)))
	if err != nil {
		return c, fmt.Errorf("%s: %w", p, err)
	}
	c.Path = p
	return c, nil
}

// FindContainer resolves a reference: a full ID, a unique ID prefix, or a
// name with or without the leading "/". A name wins over an ID prefix, as
// in the Docker CLI.
func (s *Store) FindContainer(ref string) (Container, error) {
	all, finds, err := s.Containers()
	if err != nil {
		return Container{}, err
	}
	c, err := matchContainer(all, ref)
	if errors.Is(err, ErrNotFound) {
		// the container may be there with a config dlayer cannot read: say
		// so, naming the file and why, rather than that it does not exist
		for _, f := range finds {
			id := filepath.Base(filepath.Dir(f.Path))
			if f.Kind == "container_unreadable" && ref != "" && strings.HasPrefix(id, ref) {
				return Container{}, fmt.Errorf("container %s: %w: %s: %s", ref, ErrUnreadable, f.Path, f.Message)
			}
		}
	}
	return c, err
}

func matchContainer(all []Container, ref string) (Container, error) {
	if ref == "" {
		return Container{}, fmt.Errorf("empty container reference: %w", ErrNotFound)
	}
	name := strings.TrimPrefix(ref, "/")
	for _, c := range all {
		if c.ID == ref || c.Name == name {
			return c, nil
		}
	}
	var cands []Container
	for _, c := range all {
		if strings.HasPrefix(c.ID, ref) {
			cands = append(cands, c)
		}
	}
	switch len(cands) {
	case 1:
		return cands[0], nil
	case 0:
		return Container{}, fmt.Errorf("no container %q: %w (the store holds %d containers; list them with `dlayer ps`)", ref, ErrNotFound, len(all))
	}
	var names []string
	for _, c := range cands {
		names = append(names, shortID(c.ID)+" ("+c.Name+")")
	}
	return Container{}, fmt.Errorf("container %q: %w: it is a prefix of %d containers: %s", ref, ErrAmbiguous, len(cands), strings.Join(names, ", "))
}
