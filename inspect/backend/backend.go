package backend

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/mountinfo"
)

// Name is a storage backend's name as Docker spells it in `docker info`
// and config.v2.json's "Driver" ("overlay2", "aufs"). It is also the name
// of the backend's home under the data root and under image/ for the
// graph drivers.
type Name string

// String returns the name as written.
func (n Name) String() string { return string(n) }

// Backend is one storage driver's knowledge, as the core needs it. A
// backend package exports a constructor returning one; main.go registers
// each in a Registry. The core never compares backend names: whatever
// differs between drivers is asked of the Backend or its Driver.
type Backend interface {
	// Name is the driver's name.
	Name() Name
	// Detect reports whether the data root holds this backend's store.
	Detect(root string, o layerfs.Opener) bool
	// Open binds the backend to the data root root, whose files it
	// reads through o.
	Open(root string, o layerfs.Opener) Driver
}

// Driver is a backend bound to one data root: where its layer dirs are,
// how a layer records the layers below it, how an entry of a layer dir is
// read, and what its own bookkeeping is. Everything else — the union
// view, change classification, sizes, verification — is the same for
// every driver and lives in the core and its features.
type Driver interface {
	// Name is the driver's name.
	Name() Name
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
	// Lowers reads what the driver recorded as the layers below id,
	// nearest first. exists is false when nothing is recorded (a base
	// layer on overlay2; a missing layers file on aufs).
	Lowers(id string) (lowers []Lower, exists bool, err error)
	// MountLowers are the lower dirs the driver mounts under layer id,
	// uppermost first: what a live mount of id shows as its lowerdirs or
	// read-only branches, and docker inspect as GraphDriver.Data.LowerDir.
	// overlay2 and aufs mount every layer Lowers lists; the legacy overlay
	// driver mounts the one whole tree its lower-id names. exists is false
	// when nothing is recorded.
	MountLowers(id string) (lowers []Lower, exists bool, err error)
	// Metadata reads the store's metadata: its layers, images and the
	// writable layers of its containers.
	Metadata() Metadata
	// Terms are the words reports use for this driver's things, and the
	// driver's traits.
	Terms() Terms

	// ParsePath says what the path parts (below Home) are.
	ParsePath(parts []string) Path
	// Bookkeeping says what the driver's own top-level entry name of its
	// home is (overlay2's l/); ok is false for a name that is not one.
	Bookkeeping(name string) (what string, ok bool)
	// ShortLink reads the driver's short link name (as text, never
	// followed) and returns the layer id it names and where the link is.
	// A driver without short links returns ErrNoShortLinks.
	ShortLink(name string) (id, path string, err error)
	// IsShortLink reports whether name has the form of a short link.
	IsShortLink(name string) bool
	// DecodeMount decodes the dirs of a live mount of this driver's kind
	// from its options; ok is false when m is not of the driver's file
	// system type, or names dirs relative to a cwd dlayer cannot know.
	// home is the driver's home under the root the mount lies in (the
	// live root when --root is a copy), for relative forms; sysRoot is
	// where sysfs is ("" reads none).
	DecodeMount(m mountinfo.Mount, home, sysRoot string) (md MountDirs, problem *MountProblem, ok bool)

	// mounts:

	// MountsFSType reports whether m is of the file system type this
	// driver mounts its layers with (overlay2: overlay), the mounts
	// DecodeMount decodes; it does not look at m's options.
	MountsFSType(m mountinfo.Mount) bool
	// verify:
	// ValidID reports whether id can name a layer dir of the driver (a
	// layerdb cache-id, mount-id or init-id).
	ValidID(id string) bool
	// LinkFile is the file holding layer id's short link name (overlay2's
	// <id>/link); "" for a driver without short links.
	LinkFile(id string) string
	// LinkTarget is what the short link of layer id must say (overlay2's
	// l/<link> -> "../<id>/diff"); "" for a driver without short links.
	LinkTarget(id string) string
	// LowerRef is the entry naming layer id, whose short link is link, in
	// the parents file of a layer stacked on it (Lower.Ref as the driver
	// writes it): "l/<link>" on overlay2 ("" when link is unknown), the id
	// on aufs.
	LowerRef(id, link string) string
	// BaseParents reports whether the driver writes a parents file for a
	// base layer (an empty one: aufs) rather than none (overlay2).
	BaseParents() bool
	// Markers says how the driver keeps a layer tar's whiteouts and opaque
	// markers in the layer dir.
	Markers() Markers

	// du:
	// HomeLayout describes the driver's home for an audit of its bytes:
	// which dirs hold one entry per layer, where a layer's files are in
	// its entry, and the words reports use for its parts.
	HomeLayout() HomeLayout
	// ShortLinks lists the driver's short links (overlay2's l/), sorted
	// by name, each with the layer id it names or why it does not
	// resolve; dir is where they are. A driver without short links
	// returns ErrNoShortLinks; a missing dir an error wrapping
	// fs.ErrNotExist.
	ShortLinks() (dir string, links []ShortLinkEntry, err error)
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
	// Unowned is set for a dir the driver mounts below the layer that is
	// no layer of the image nor the container's init layer (on containerd's
	// store, the init snapshot of a classic-builder build container, which
	// a RUN step's layer sits on): it is in the stack, as RoleUnowned, not
	// a mismatch.
	Unowned bool
}

// Terms are the words a report needs about one driver, so that report/
// never compares driver names.
type Terms struct {
	// Union is what the driver mounts: "overlay mount", "union mount".
	Union string
	// Upper names a container's writable layer dir ("upper dir", "rw branch").
	Upper string
	// Lowers names the parents file ("lower file", "layers file").
	Lowers string
	// ShortLinks is true when the driver names layer dirs by short links
	// (overlay2's l/).
	ShortLinks bool
	// WorkDir is true when the driver has a work dir per layer.
	WorkDir bool
	// WhiteoutFiles is true when whiteouts and opaque dirs are stored as
	// .wh. files (aufs), not as devices and xattrs.
	WhiteoutFiles bool
	// TrustedMarkers is true when the driver keeps whiteouts, opaque
	// dirs, redirects and metacopy copy-ups in trusted.* xattrs, which
	// only a process with CAP_SYS_ADMIN can see (layerfs.Privilege).
	TrustedMarkers bool
	// ReadOnlyMountIncludesSelf is true when a committed layer mounted on
	// its own is mounted read-only with its own content dir uppermost
	// among the lowers (moby overlay2 Get).
	ReadOnlyMountIncludesSelf bool
	// HasContentSubdir is true when a layer dir holds its content in a
	// subdir (overlay2's <id>/diff), so a dir without it is incomplete.
	HasContentSubdir bool
	// WholeTreeLayers is true when an image layer's content dir is the
	// whole tree of the image up to that layer (the legacy overlay
	// driver's root/): the entries of the layer below are there too,
	// shared by hardlink, and a deletion is an entry that is absent, not a
	// marker. The layer's own entries, and its deletions (as whiteouts),
	// are what the driver's Format reads; Markers apply to container
	// layers only.
	WholeTreeLayers bool
	// LayerSize is how Docker computed an image layer's size (layerdb's
	// size file); RWSize how it computes a container's SizeRw. The zero
	// value is SizeDirectory, overlay2's and aufs's rule.
	LayerSize, RWSize SizeRule

	// What explain teaches about the driver, for a reader who has never
	// seen it: how it stacks layers; what the upper, work and merged dirs
	// are; where the lower list comes from and what its entries are.
	Stacking, DirsHelp, LowersFrom, LowersHelp string
	// KindHelp replaces the report's overlayfs explanations of kinds of
	// change ("modified", "whiteout", "opaque") where the driver differs.
	KindHelp map[string]string
	// What whose teaches about a layer dir: what its entries are
	// (LayerDirHelp: "diff/ holds the layer's files, link its short name,
	// lower the layers below it."), and what a layer's content dir holds
	// (ContentHelp: "A layer's diff/ holds only what that layer
	// changed."). "" leaves them out.
	LayerDirHelp, ContentHelp string
	// AuditPending, when set, says that the features that audit the whole
	// store's bytes (du, verify) do not read this driver's store yet; they
	// say so (with this text) rather than misreport it.
	AuditPending string
	// MountIDFrom says where a container's rw layer dir id comes from, for
	// explain; "" is layerdb's mount-id file.
	MountIDFrom string
}

// ErrNoShortLinks is returned by Driver.ShortLink for a driver without
// short links.
var ErrNoShortLinks = errors.New("the driver has no short links")

// Registry lists the backends a program reads, in the order auto prefers
// them when a data root holds several (a host migrated from aufs to
// overlay2 runs overlay2). It is filled explicitly by main; it is never a
// package-level variable.
type Registry struct {
	backends []Backend
}

// NewRegistry returns a registry of bs, in preference order. Two backends
// with one name are a programming error.
func NewRegistry(bs ...Backend) *Registry {
	r := &Registry{}
	seen := map[Name]bool{}
	for _, b := range bs {
		if seen[b.Name()] {
			panic(fmt.Sprintf("backend %s registered twice", b.Name()))
		}
		seen[b.Name()] = true
		r.backends = append(r.backends, b)
	}
	return r
}

// With returns a copy of r in which b replaces the backend of its name
// (a backend configured from the command line); r is unchanged, and a
// name r does not register is left out.
func (r *Registry) With(b Backend) *Registry {
	out := &Registry{backends: append([]Backend(nil), r.backends...)}
	for i, x := range out.backends {
		if x.Name() == b.Name() {
			out.backends[i] = b
		}
	}
	return out
}

// Lookup returns the backend called name.
func (r *Registry) Lookup(name Name) (Backend, bool) {
	for _, b := range r.backends {
		if b.Name() == name {
			return b, true
		}
	}
	return nil, false
}

// Names lists the registered backends, in preference order.
func (r *Registry) Names() []Name {
	out := make([]Name, len(r.backends))
	for i, b := range r.backends {
		out[i] = b.Name()
	}
	return out
}

// Present lists the registered backends whose store root holds, in
// preference order.
func (r *Registry) Present(root string, o layerfs.Opener) []Name {
	var out []Name
	for _, b := range r.backends {
		if b.Detect(root, o) {
			out = append(out, b.Name())
		}
	}
	return out
}

// String lists the names, for messages ("overlay2, aufs").
func (r *Registry) String() string {
	var s []string
	for _, n := range r.Names() {
		s = append(s, string(n))
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
