package inspect

import (
	"path/filepath"

	"github.com/dlayer/dlayer/aufs"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/overlay2"
)

// Driver is what inspect needs to know about a storage driver: where a
// layer's directories are, how a layer records the layers below it, and how
// an entry of a layer directory is read. Everything else — the union view,
// change classification, sizes, verification — is the same for every
// driver and lives in inspect.
type Driver interface {
	// Name is the driver's name as Docker spells it ("overlay2", "aufs").
	Name() string
	// Home is the driver's directory under the data root.
	Home() string
	// Format reads the driver's layer directories.
	Format() layerfs.Format
	// Layout returns the paths of layer id (a cache-id, mount-id or
	// <mount-id>-init); it does not check that they exist.
	Layout(id string) Layout
	// Link returns the layer's short name (overlay2's l/<link>); "" for
	// drivers without one.
	Link(id string) (string, error)
	// Lowers reads what the driver recorded as the layers below id, nearest
	// first. exists is false when nothing is recorded (a base layer on
	// overlay2; a missing layers file on aufs).
	Lowers(id string) (lowers []Lower, exists bool, err error)
}

// Layout are the paths of one layer of a driver. Fields a driver does not
// have are empty.
type Layout struct {
	// Dir is the layer's own directory: overlay2/<id>, aufs/diff/<id>.
	Dir string `json:"dir"`
	// Content is where the layer's files are: overlay2/<id>/diff, aufs/diff/<id>.
	Content string `json:"content"`
	// Work is overlayfs's work dir (overlay2 only).
	Work string `json:"work,omitempty"`
	// Merged is the mount point: overlay2/<id>/merged, aufs/mnt/<id>.
	Merged string `json:"merged"`
	// Parents is the file that records the layers below: overlay2/<id>/lower,
	// aufs/layers/<id>.
	Parents string `json:"parents"`
}

// Lower is one layer below another, as the driver recorded it.
type Lower struct {
	// Ref is the entry as written: "l/ABC…" on overlay2, the id on aufs.
	Ref string
	// ID is the layer the entry names; empty when it does not resolve.
	ID string
	// Content is the layer's content dir when ID is known.
	Content string
	// Err says why the entry does not resolve.
	Err error
}

// NewDriver returns the driver named name for the data root root, or nil
// when dlayer does not know it.
func NewDriver(root, name string) Driver {
	switch name {
	case "overlay2":
		return overlayDriver{overlay2.Home{Dir: filepath.Join(root, "overlay2")}}
	case "aufs":
		return aufsDriver{aufs.Home{Dir: filepath.Join(root, "aufs")}}
	}
	return nil
}

// KnownDrivers are the drivers dlayer reads, in the order auto prefers them
// when a data root holds several (a host migrated from aufs to overlay2
// runs overlay2).
var KnownDrivers = []string{"overlay2", "aufs"}

type overlayDriver struct{ h overlay2.Home }

func (d overlayDriver) Name() string           { return "overlay2" }
func (d overlayDriver) Home() string           { return d.h.Dir }
func (d overlayDriver) Format() layerfs.Format { return overlay2.Format{} }

func (d overlayDriver) Layout(id string) Layout {
	x := d.h.Dirs(id)
	return Layout{Dir: x.Layer, Content: x.Diff, Work: x.Work, Merged: x.Merged, Parents: filepath.Join(x.Layer, "lower")}
}

func (d overlayDriver) Link(id string) (string, error) { return d.h.Link(id) }

func (d overlayDriver) Lowers(id string) ([]Lower, bool, error) {
	lws, exists, err := d.h.Lowers(id)
	out := make([]Lower, len(lws))
	for i, lw := range lws {
		out[i] = Lower{Ref: lw.Ref, ID: lw.ID, Content: lw.Diff, Err: lw.Err}
	}
	return out, exists, err
}

type aufsDriver struct{ h aufs.Home }

func (d aufsDriver) Name() string           { return "aufs" }
func (d aufsDriver) Home() string           { return d.h.Dir }
func (d aufsDriver) Format() layerfs.Format { return aufs.Format{} }

func (d aufsDriver) Layout(id string) Layout {
	x := d.h.Dirs(id)
	return Layout{Dir: x.Diff, Content: x.Diff, Merged: x.Mnt, Parents: x.Layers}
}

func (d aufsDriver) Link(string) (string, error) { return "", nil }

func (d aufsDriver) Lowers(id string) ([]Lower, bool, error) {
	ids, exists, err := d.h.Parents(id)
	out := make([]Lower, len(ids))
	for i, p := range ids {
		out[i] = Lower{Ref: p, ID: p, Content: d.h.Dirs(p).Diff}
	}
	return out, exists, err
}
