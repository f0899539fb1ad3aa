package report

import (
	"io"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/docker/go-units"
)

// Containers writes the containers of a store as a table, like `docker ps -a`.
func Containers(w io.Writer, cs []inspect.Container, now time.Time) error {
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		created := "-"
		if !c.Created.IsZero() {
			created = units.HumanDuration(now.Sub(c.Created)) + " ago"
		}
		state := c.State.Status
		if c.State.Status == "exited" {
			state += " (" + itoa(c.State.ExitCode) + ")"
		}
		rows = append(rows, []string{shortID(c.ID), Escape(c.Name), Escape(c.ImageRef), short(c.ImageID), c.Driver, state, created})
	}
	return table(w, []string{"container id", "name", "image", "image id", "driver", "state", "created"}, rows)
}

// ContainersJSON writes the containers as a PSDocument.
func ContainersJSON(w io.Writer, p Provenance, cs []inspect.Container) error {
	if cs == nil {
		cs = []inspect.Container{}
	}
	return JSON(w, PSDocument{NewHeader(SchemaPS, p), cs})
}

// Findings writes findings, one a line, for stderr.
func Findings(w io.Writer, fs []inspect.Finding) error {
	p := &printer{w: w}
	for _, f := range fs {
		where := ""
		if f.Path != "" {
			where = Escape(f.Path) + ": "
		}
		p.f("dlayer: %s: %s%s\n", f.Kind, where, Escape(f.Message))
	}
	return p.err
}

func itoa(n int) string {
	return fmtInt(int64(n))
}
