package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
)

// ErrOutsideRoot: a path given to Whose is not under the data root.
var ErrOutsideRoot = errors.New("not under the data root")

// WhoseOptions are the inputs of Whose besides the store and the path.
type WhoseOptions struct {
	// BuildKit reads the driver dir names that BuildKit's snapshot store
	// at path records (du.BuildKitSnapshots). It is called only when a
	// layer dir is named by no layer or container. Nil: build cache cannot
	// be told from orphans, and the answer says so.
	BuildKit func(path string) (map[string]bool, error)
	// Mounts are the overlay mounts of mountinfo; MountsKnown says whether
	// mount data was read at all. A layer dir a live mount uses is never
	// called safe to delete.
	Mounts      []LiveMount
	MountsKnown bool
}

// WhoseAnswer says what a path under the data root is, who owns it, and
// whether deleting it is safe.
type WhoseAnswer struct {
	// Arg is the path as given; Path is it resolved lexically against the
	// data root (never through a symlink); Rel is Path relative to the
	// data root ("." for the root itself).
	Arg  string `json:"arg"`
	Path string `json:"path"`
	Rel  string `json:"rel"`
	// Exists says whether Path exists (lstat); Type is its file type.
	Exists bool   `json:"exists"`
	Type   string `json:"type,omitempty"`
	// Kind says what the path is: one of the Path* constants.
	Kind string `json:"kind"`
	// Driver is the storage driver whose dir the path is in.
	Driver string `json:"driver,omitempty"`
	// LayerDir is the driver dir the path is in (cache-id, mount-id or
	// <mount-id>-init), or the bookkeeping entry's name.
	LayerDir string `json:"layer_dir,omitempty"`
	// Name is the metadata file the path names, e.g. "lower",
	// "hostconfig.json", "cache-id".
	Name string `json:"name,omitempty"`
	// InLayer is the path inside a layer's content dir, work dir or mount
	// point, as the container sees it ("/etc/passwd").
	InLayer string `json:"in_layer,omitempty"`
	// Link is the short link the path is, or goes through.
	Link *WhoseLink `json:"link,omitempty"`
	// Owner is the object the path belongs to.
	Owner WhoseOwner `json:"owner"`
	// Entry is, for a path inside a layer's content dir, what the layer
	// holds there.
	Entry *WhoseEntry `json:"entry,omitempty"`
	// Views say, for a path inside a layer's content dir or mount point,
	// what each container (and image) using the layer sees there.
	Views []WhoseView `json:"views,omitempty"`
	// Usage is what the path holds, measured now; nil when not measured
	// (an image layer's size is Owner.Layer.Size).
	Usage *WhoseUsage `json:"usage,omitempty"`
	// Mounts are live mounts (mountinfo) that use the layer dir.
	Mounts []string `json:"mounts,omitempty"`
	// Verdict says whether deleting the path is safe, and why.
	Verdict WhoseVerdict `json:"verdict"`
	// Notes are facts worth knowing about this path.
	Notes    []string  `json:"notes,omitempty"`
	Findings []Finding `json:"findings"`
}

// The kinds of paths Whose knows, besides those below a driver home
// (driver_home, driver_bookkeeping, short_link, layer_dir, layer_content,
// layer_entry, layer_work, layer_mountpoint, merged_entry, layer_file).
const (
	PathDataRoot      = "data_root"
	PathImageStore    = "image_store"    // image/<driver>/ and dirs in it
	PathRepositories  = "repositories"   // image/<driver>/repositories.json
	PathLayerRecord   = "layer_record"   // image/<driver>/layerdb/sha256/<chain>[/file]
	PathMountRecord   = "mount_record"   // image/<driver>/layerdb/mounts/<container>[/file]
	PathLayerdbTmp    = "layerdb_tmp"    // image/<driver>/layerdb/tmp/…
	PathImageConfig   = "image_config"   // image/<driver>/imagedb/content/sha256/<id>
	PathImageMetadata = "image_metadata" // image/<driver>/imagedb/metadata/sha256/<id>[/file]
	PathDistribution  = "distribution"   // image/<driver>/distribution/…
	PathContainers    = "containers_dir" // containers/
	PathContainerDir  = "container_dir"  // containers/<id>
	PathContainerFile = "container_file" // containers/<id>/…
	PathBuildKit      = "buildkit"       // buildkit/…
	PathOther         = "other"          // volumes/, network/, … : Docker's, not layers
	// The driver path kinds, named here too for the JSON documentation.
	PathDriverHome        = KindDriverHome
	PathDriverBookkeeping = KindDriverBookkeeping
	PathShortLink         = KindShortLink
	PathLayerDir          = KindLayerDir
	PathLayerContent      = KindLayerContent
	PathLayerEntry        = KindLayerEntry
	PathLayerWork         = KindLayerWork
	PathLayerMountpoint   = KindLayerMountpoint
	PathMergedEntry       = KindMergedEntry
	PathLayerFile         = KindLayerFile
)

// The kinds of owners.
const (
	OwnerImageLayer  = "image_layer"  // a layerdb layer (cache-id)
	OwnerRWLayer     = "rw_layer"     // a container's writable layer (mount-id)
	OwnerInitLayer   = "init_layer"   // a container's init layer (init-id)
	OwnerBuildCache  = "build_cache"  // a BuildKit snapshot
	OwnerBookkeeping = "bookkeeping"  // the driver's own (l/)
	OwnerOrphan      = "orphan"       // nothing: no metadata names it
	OwnerImage       = "image"        // an image (its config, metadata)
	OwnerContainer   = "container"    // a container (its dir, files)
	OwnerDocker      = "docker"       // Docker's own state (repositories, volumes, …)
	OwnerOtherDriver = "other_driver" // a storage driver the store does not use
	OwnerUnknown     = "unknown"      // a name dlayer does not know
)

// WhoseOwner is the object a path belongs to.
type WhoseOwner struct {
	// Kind is one of the Owner* constants.
	Kind string `json:"kind"`
	// ID is the owner's ID: a driver dir name, image ID or container ID.
	ID string `json:"id,omitempty"`
	// Why says what the owner is, for orphans, bookkeeping and Docker's
	// own files; for an orphan, why nothing owns it.
	Why string `json:"why,omitempty"`
	// Layer is set for image layers (and their layerdb records).
	Layer *WhoseLayer `json:"layer,omitempty"`
	// Container is set for rw and init layers, mount records and
	// container dirs.
	Container *WhoseContainer `json:"container,omitempty"`
	// Image is set for image configs and metadata.
	Image *WhoseImage `json:"image,omitempty"`
}

// WhoseLayer is an image layer and who uses it.
type WhoseLayer struct {
	ChainID digest.Digest `json:"chain_id"`
	DiffID  digest.Digest `json:"diff_id"`
	Parent  digest.Digest `json:"parent,omitempty"`
	CacheID string        `json:"cache_id"`
	// Dir is the layer's dir (overlay2/<cache-id>, aufs/diff/<cache-id>).
	Dir string `json:"dir"`
	// Size is layerdb's size: Docker's content size of the layer.
	Size int64 `json:"size"`
	// Link is the layer's short name (l/<link>).
	Link string `json:"link,omitempty"`
	// Images are the images whose chain holds the layer.
	Images []WhoseImageUse `json:"images"`
	// Containers are the containers whose image holds the layer.
	Containers []WhoseContainer `json:"containers"`
	// BuildCache is set when BuildKit's snapshots.db also names the dir.
	BuildCache bool `json:"build_cache,omitempty"`
}

// WhoseImageUse is one image using a layer.
type WhoseImageUse struct {
	ID   digest.Digest `json:"id"`
	Tags []string      `json:"tags"`
	// Position is the layer's place in the image, 1 = base, of Layers.
	Position int `json:"position"`
	Layers   int `json:"layers"`
	// CreatedBy is the history entry that made the layer in this image.
	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created,omitzero"`
}

// WhoseContainer is a container, as an owner or a user of a layer.
type WhoseContainer struct {
	ID      string        `json:"id"`
	Name    string        `json:"name"`
	State   string        `json:"state"`
	Image   string        `json:"image,omitempty"`
	ImageID digest.Digest `json:"image_id,omitempty"`
	// Driver is the storage driver the container was made with.
	Driver  string `json:"driver,omitempty"`
	MountID string `json:"mount_id,omitempty"`
	InitID  string `json:"init_id,omitempty"`
}

// WhoseImage is an image and who uses it.
type WhoseImage struct {
	ID     digest.Digest `json:"id"`
	Tags   []string      `json:"tags"`
	Layers int           `json:"layers"`
	// Children counts images built FROM it locally (imagedb parent).
	Children   int              `json:"children"`
	Containers []WhoseContainer `json:"containers"`
}

// WhoseLink is an l/<LINK> short link, read as text.
type WhoseLink struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	// LayerDir is the dir the target names; Dangling says it does not exist.
	LayerDir string `json:"layer_dir,omitempty"`
	Dangling bool   `json:"dangling"`
	// Error says why the link does not have the form the driver writes.
	Error string `json:"error,omitempty"`
}

// WhoseUsage is what a path holds: Size is Docker's content size (st_size
// of non-dirs, each inode once), DiskUsage allocated bytes (what deleting
// frees), Files the entries below it.
type WhoseUsage struct {
	Size      int64 `json:"size"`
	DiskUsage int64 `json:"disk_usage"`
}

// WhoseVerdict says whether deleting a path by hand is safe.
type WhoseVerdict struct {
	// Safe is "no", "yes" or "caution".
	Safe string `json:"safe"`
	// Reason says why, in words.
	Reason string `json:"reason"`
	// Instead is the Docker command that removes it properly, if any.
	Instead string `json:"instead,omitempty"`
}

// Whose says what a path under the data root is, who owns it (an image
// layer, a container's rw or init layer, build cache, or nothing), what
// each container using a layer sees at a path inside it, and whether
// deleting it is safe. arg is absolute, or relative to the data root, or a
// bare short link name or layer dir id. It is resolved lexically: nothing
// inside the data root is followed. A path outside the root is
// ErrOutsideRoot; a path that does not exist and that nothing names is
// ErrNotFound.
func (s *Store) Whose(arg string, opt WhoseOptions) (*WhoseAnswer, error) {
	parts, err := s.resolveArg(arg)
	if err != nil {
		return nil, err
	}
	// A path of another driver's store that the root also holds (a host
	// migrated between drivers) is answered from that store.
	if d := whoseDriverOf(parts); d != "" && d != s.Driver && slices.Contains(s.Others, d) {
		other, err := OpenDriver(s.Root, d)
		if err != nil {
			return nil, err
		}
		a, err := other.whose(arg, parts, opt)
		if err != nil {
			return nil, err
		}
		whoseInactive(a, s.Driver)
		return a, nil
	}
	return s.whose(arg, parts, opt)
}

// whoseDriverOf is the driver whose dirs a path is in: <driver>/… or
// image/<driver>/…; "" for the rest.
func whoseDriverOf(parts []string) string {
	switch {
	case len(parts) > 0 && whoseLayouts[parts[0]].Name != "":
		return parts[0]
	case len(parts) > 1 && parts[0] == "image" && whoseLayouts[parts[1]].Name != "":
		return parts[1]
	}
	return ""
}

// whoseInactive marks an answer from the store of a driver the root holds
// besides the one read (active).
func whoseInactive(a *WhoseAnswer, active string) {
	a.Notes = append(a.Notes, fmt.Sprintf("this root holds the image stores of %s and %s (a host migrated between drivers): dlayer reads the %s store (--driver), and this path is in the %s store, which a daemon running %s does not use",
		active, a.Driver, active, a.Driver, active))
	if a.Verdict.Safe == SafeNo {
		a.Verdict = WhoseVerdict{Safe: SafeCaution, Instead: a.Verdict.Instead,
			Reason: "in the " + a.Driver + " store, which a daemon running " + active + " does not use: " + a.Verdict.Reason + "; it matters again only if the daemon runs " + a.Driver}
	}
}

// whose answers for a path of this store's driver.
func (s *Store) whose(arg string, parts []string, opt WhoseOptions) (*WhoseAnswer, error) {
	q := &whoseQuery{s: s, opt: opt, a: &WhoseAnswer{Arg: arg, Findings: []Finding{}}}
	parts = q.throughShortLink(parts)
	q.setPath(parts)
	q.classify(parts)
	a := q.a
	if !a.Exists && !whoseNamed[a.Owner.Kind] {
		return nil, fmt.Errorf("%s: %w: no such file or directory, and no layer, container or image of the store names it", a.Path, ErrNotFound)
	}
	q.measure()
	q.liveMounts()
	a.Verdict = q.verdict()
	return a, nil
}

// whoseNamed are the owners the store's metadata names: a path of theirs
// that does not exist is still answered (a missing layer dir, the merged/
// dir of a container that is not running).
var whoseNamed = map[string]bool{OwnerImageLayer: true, OwnerRWLayer: true, OwnerInitLayer: true, OwnerImage: true, OwnerContainer: true}

// whoseQuery is one Whose call in progress.
type whoseQuery struct {
	s   *Store
	opt WhoseOptions
	a   *WhoseAnswer
	idx *whoseIndex
	// bk is BuildKit's dir names, read once when needed.
	bk     map[string]bool
	bkRead bool
}

// resolveArg turns arg into the components of a path below the root.
func (s *Store) resolveArg(arg string) ([]string, error) {
	if arg == "" {
		return nil, fmt.Errorf("empty path: %w", ErrNotFound)
	}
	root, err := filepath.Abs(s.Root)
	if err != nil {
		return nil, err
	}
	var rel string
	if filepath.IsAbs(arg) {
		rel, err = filepath.Rel(root, filepath.Clean(arg))
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, fmt.Errorf("%s: %w %s (compared as text: a symlink to the data root does not count)", arg, ErrOutsideRoot, root)
		}
	} else {
		rel = filepath.Clean(arg)
		if !strings.Contains(rel, "/") && rel != "." {
			if _, err := os.Lstat(filepath.Join(root, rel)); errors.Is(err, os.ErrNotExist) {
				return s.resolveBare(rel)
			}
		}
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("%s: %w %s (a relative path is taken from the data root)", arg, ErrOutsideRoot, root)
	}
	if rel == "." {
		return nil, nil
	}
	return strings.Split(rel, "/"), nil
}

// resolveBare finds what a bare name names: a short link, a layer dir
// (cache-id, mount-id, init-id), a layer (chain ID), an image or a
// container ID.
func (s *Store) resolveBare(name string) ([]string, error) {
	l := whoseLayouts[s.Driver]
	exists := s.whoseExists
	hex := strings.TrimPrefix(name, "sha256:")
	switch {
	case l.ShortLink != nil && l.ShortLink(name) && exists(s.Driver, "l", name):
		return []string{s.Driver, "l", name}, nil
	case validID(name) && exists(s.whoseDirParts(name)...):
		return s.whoseDirParts(name), nil
	case isHex64(hex) && exists("image", s.Driver, "layerdb", "sha256", hex):
		return []string{"image", s.Driver, "layerdb", "sha256", hex}, nil
	case isHex64(hex) && exists("image", s.Driver, "imagedb", "content", "sha256", hex):
		return []string{"image", s.Driver, "imagedb", "content", "sha256", hex}, nil
	case isHex64(hex) && exists("containers", hex):
		return []string{"containers", hex}, nil
	}
	// a layer dir that metadata names but that is missing
	if validID(name) {
		q := &whoseQuery{s: s}
		if o := q.index().owner(name); o != "" {
			return s.whoseDirParts(name), nil
		}
	}
	return nil, fmt.Errorf("%q: %w: not a path under %s, nor a short link, layer dir, chain ID, image ID or container ID of the store", name, ErrNotFound, s.Root)
}

// whoseDirParts is layer dir id below the data root, as components.
func (s *Store) whoseDirParts(id string) []string {
	rel, err := filepath.Rel(s.Root, s.graph.Layout(id).Dir)
	if err != nil {
		return []string{s.Driver, id}
	}
	return strings.Split(rel, "/")
}

// throughShortLink rewrites <driver>/l/<LINK>/rest to the layer dir the
// link names, read as text: <driver>/<id>/diff/rest.
func (q *whoseQuery) throughShortLink(parts []string) []string {
	l, ok := whoseLayouts[whoseFirst(parts)]
	if !ok || l.ResolveLink == nil || l.Name != q.s.Driver {
		return parts
	}
	d := l.Parse(parts[1:])
	if d.Kind != KindShortLink || len(d.Rel) == 0 {
		return parts
	}
	id, err := l.ResolveLink(q.s.Path(l.Name), d.Link)
	if err != nil {
		return parts // classify reports the bad link
	}
	q.a.Notes = append(q.a.Notes, fmt.Sprintf("%s/l/%s is a symlink to ../%s/diff: read as text, not followed; answering for %s/%s/diff/%s",
		l.Name, d.Link, id, l.Name, id, strings.Join(d.Rel, "/")))
	content, err := filepath.Rel(q.s.Root, q.s.graph.Layout(id).Content)
	if err != nil {
		return parts
	}
	return append(strings.Split(content, "/"), d.Rel...)
}

func whoseFirst(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	return parts[0]
}

// setPath fills Path and Rel, and Exists and Type from lstat of each
// component in turn: a symlink before the last component is not followed.
func (q *whoseQuery) setPath(parts []string) {
	a := q.a
	root, _ := filepath.Abs(q.s.Root)
	a.Path = filepath.Join(append([]string{root}, parts...)...)
	a.Rel = filepath.Join(parts...)
	if a.Rel == "" {
		a.Rel = "."
	}
	p := root
	for i, name := range parts {
		p = filepath.Join(p, name)
		fi, err := os.Lstat(p)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				a.Findings = append(a.Findings, Finding{Kind: "unreadable", Path: p, Message: err.Error()})
			}
			return
		}
		if i < len(parts)-1 && fi.Mode()&os.ModeSymlink != 0 {
			a.Notes = append(a.Notes, fmt.Sprintf("%s is a symlink; dlayer does not follow symlinks inside the data root", p))
			return
		}
		if i == len(parts)-1 {
			a.Exists, a.Type = true, whoseFileType(fi.Mode())
		}
	}
	if len(parts) == 0 {
		a.Exists, a.Type = true, "dir"
	}
}
