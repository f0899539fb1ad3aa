package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
)

// dockerAPI lists the only Docker API calls dlayer makes. The daemon is
// optional: every command works without it.
type dockerAPI interface {
	Info(ctx context.Context) (system.Info, error)
	ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error)
	Close() error
}

// dialDaemon connects to the daemon named by DOCKER_HOST (default
// unix:///var/run/docker.sock); nil when there is none to talk to. It is
// main's dialer; tests inject their own through deps.
func dialDaemon() dockerAPI {
	if os.Getenv("DOCKER_HOST") == "" {
		if _, err := os.Stat("/var/run/docker.sock"); err != nil {
			return nil
		}
	}
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil
	}
	return c
}

// crossCheck asks the daemon, when one is reachable and serves the same
// data root, about the container, and reports what it disagrees on.
func crossCheck(ctx context.Context, dial func() dockerAPI, s *inspect.Store, x *inspect.Explanation) []inspect.Finding {
	if dial == nil {
		return nil
	}
	api := dial()
	if api == nil {
		return nil
	}
	defer api.Close()
	return crossCheckWith(ctx, api, s.Root, x)
}

func crossCheckWith(ctx context.Context, api dockerAPI, root string, x *inspect.Explanation) []inspect.Finding {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	info, err := api.Info(ctx)
	if err != nil || !sameDir(info.DockerRootDir, root) {
		return nil // no daemon, or one serving another root: nothing to compare
	}
	ci, err := api.ContainerInspect(ctx, x.Container.ID)
	if err != nil {
		return []inspect.Finding{{Kind: "daemon_disagrees", Message: "the daemon does not know this container: " + err.Error()}}
	}
	d := inspect.DaemonContainer{GraphDriver: ci.GraphDriver.Data}
	if ci.State != nil {
		d.Running, d.Pid = ci.State.Running, ci.State.Pid
	}
	return inspect.CrossCheck(x, d)
}

func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}
