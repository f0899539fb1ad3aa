package whose

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
)

// otherWhy says what Docker keeps in the other top-level dirs of a data
// root; whose knows them by name only. "" for a name it does not know.
func otherWhy(name string) string {
	switch name {
	case "volumes":
		return "Docker's volume store: named and anonymous volumes (volumes/<name>/_data) and metadata.db"
	case "network":
		return "Docker's network store (network/files/local-kv.db)"
	case "plugins":
		return "Docker's plugin store"
	case "swarm":
		return "the swarm mode state of this node (raft log, certificates)"
	case "trust":
		return "content trust (notary) data"
	case "runtimes":
		return "scripts for the OCI runtimes configured in daemon.json"
	case "tmp":
		return "Docker's temp dir (image loads, builds in progress)"
	case "containerd":
		return "containerd's state (the containerd image store, when enabled)"
	case "engine-id":
		return "the engine's random ID"
	}
	return ""
}

// classify sets Kind and Owner from the path's components.
func (q *query) classify(parts []string) {
	a := q.a
	if len(parts) == 0 {
		a.Kind, a.Owner = PathDataRoot, Owner{Kind: OwnerDocker, Why: "the Docker data root"}
		return
	}
	if b, ok := blobsAt(q.s, parts[0]); ok {
		q.blob(b, parts[1:])
		return
	}
	if l, ok := layoutAt(q.s, parts[0]); ok {
		q.driver(l, parts[1:])
		return
	}
	switch parts[0] {
	case "image":
		q.imageStore(parts[1:])
	case "containers":
		q.containers(parts[1:])
	case "buildkit":
		a.Kind, a.Owner = PathBuildKit, Owner{Kind: OwnerBuildCache,
			Why: "BuildKit's state: snapshots.db (which " + q.s.Driver + " dirs are build cache), cache.db, metadata_v2.db, content/"}
		a.Name = path.Join(parts[1:]...)
	default:
		a.Kind = PathOther
		a.Owner = Owner{Kind: OwnerDocker, Why: otherWhy(parts[0])}
		if a.Owner.Why == "" {
			a.Owner = Owner{Kind: OwnerUnknown, Why: "not a part of the data root dlayer knows"}
		}
		if parts[0] == "volumes" && len(parts) > 1 && parts[1] != "metadata.db" {
			a.Name = parts[1]
			a.Owner.ID = parts[1]
			a.Owner.Why = "Docker volume " + parts[1] + ": data containers mounted, kept when they are removed"
		}
	}
}

// driver classifies a path below a driver home.
func (q *query) driver(l layout, rest []string) {
	a, s := q.a, q.s
	d := l.d.ParsePath(rest)
	a.Kind, a.Driver, a.Name = d.Kind, l.Name, d.Name
	if len(d.Rel) > 0 || d.Kind == PathLayerContent || d.Kind == PathLayerMountpoint {
		a.InLayer = "/" + path.Join(d.Rel...)
	}
	if !isOwn(s, l.Name) {
		a.LayerDir = d.ID
		a.Owner = Owner{Kind: OwnerOtherDriver, ID: d.ID, Why: fmt.Sprintf(
			"the %s driver's dir; this store runs %s, so Docker does not use it (its images and layers are listed in image/%s/, if that is still there)",
			l.Name, s.Driver, l.Name)}
		return
	}
	switch d.Kind {
	case PathDriverHome:
		a.Owner = Owner{Kind: OwnerDocker, Why: "the " + l.Name + " driver's home: one dir per layer (image layers, containers' rw and init layers, build cache)"}
	case PathDriverBookkeeping:
		a.LayerDir = d.ID
		why, _ := l.d.Bookkeeping(d.ID)
		a.Owner = Owner{Kind: OwnerBookkeeping, ID: d.ID, Why: why}
	case PathShortLink:
		q.shortLink(l, d.Link)
	default:
		q.layerOwner(d.ID)
		switch d.Kind {
		case PathLayerEntry:
			q.layerEntry(d.ID, d.Rel)
		case PathMergedEntry:
			q.mergedEntry(d.Rel)
		}
	}
}

// shortLink reads l/<name> as text and describes the dir it names.
func (q *query) shortLink(l layout, name string) {
	a, s := q.a, q.s
	_, p, _ := l.d.ShortLink(name)
	link := &Link{Name: name}
	a.Link = link
	target, err := readlink(q.s, p)
	if err != nil {
		link.Error = err.Error()
		a.Owner = Owner{Kind: OwnerUnknown, Why: "not a short link: " + err.Error()}
		return
	}
	link.Target = target
	id, _, err := l.d.ShortLink(name)
	if err != nil {
		link.Error = err.Error()
		a.Owner = Owner{Kind: OwnerUnknown, Why: "a link the driver did not write: " + err.Error()}
		return
	}
	link.LayerDir = id
	if !lexists(s, l.d.Layout(id).Dir) {
		link.Dangling = true
	}
	q.layerOwner(id)
	if link.Dangling && a.Owner.Kind == OwnerOrphan {
		a.Owner.Why = "dangling: nothing owns " + id + " and it does not exist"
	}
	if got, err := s.Graph().Link(id); err == nil && got != name {
		q.finding("link_mismatch", p, fmt.Sprintf("points at %s, whose link file names %s, not this link", id, got))
	}
}

// imageStore classifies a path below image/.
func (q *query) imageStore(p []string) {
	a, s := q.a, q.s
	a.Kind = PathImageStore
	a.Owner = Owner{Kind: OwnerDocker, Why: "the image and layer store"}
	if len(p) == 0 {
		return
	}
	a.Driver = p[0]
	if !isOwn(s, p[0]) {
		a.Owner = Owner{Kind: OwnerOtherDriver, Why: fmt.Sprintf("the image store of the %s driver; this store runs %s, so Docker does not use it", p[0], s.Driver)}
		return
	}
	p = p[1:]
	at := func(i int) string {
		if i < len(p) {
			return p[i]
		}
		return ""
	}
	switch {
	case at(0) == "repositories.json":
		a.Kind, a.Name = PathRepositories, "repositories.json"
		a.Owner.Why = "the tags: which image ID each name:tag and name@digest refers to"
	case at(0) == "layerdb" && at(1) == "sha256" && at(2) != "":
		a.Kind, a.Name = PathLayerRecord, path.Join(p[3:]...)
		q.layerRecord(at(2))
	case at(0) == "layerdb" && at(1) == "mounts" && at(2) != "":
		a.Kind, a.Name = PathMountRecord, path.Join(p[3:]...)
		q.mountRecord(at(2))
	case at(0) == "layerdb" && at(1) == "tmp":
		a.Kind, a.Name = PathLayerdbTmp, path.Join(p[2:]...)
		a.Owner.Why = "layers being written (pull, load, build, commit): Docker moves each to layerdb/sha256/ when done"
	case at(0) == "imagedb" && at(1) == "content" && at(3) != "":
		a.Kind = PathImageConfig
		q.imageOwner(at(3))
	case at(0) == "imagedb" && at(1) == "metadata" && at(3) != "":
		a.Kind, a.Name = PathImageMetadata, path.Join(p[4:]...)
		q.imageOwner(at(3))
	case at(0) == "distribution":
		a.Kind, a.Name = PathDistribution, path.Join(p[1:]...)
		a.Owner.Why = "registry digests of the layers (diffid-by-digest, v2metadata-by-diffid): lets push and pull skip layers the registry or the store already has"
	}
}

// layerRecord describes layerdb/sha256/<name>.
func (q *query) layerRecord(name string) {
	a, x := q.a, q.index()
	if !inspect.IsHex64(name) {
		a.Owner = Owner{Kind: OwnerOrphan, ID: name, Why: "not a layerdb entry (not 64 hex digits)"}
		if strings.HasSuffix(name, "-removing") {
			a.Owner.Why = "left by an interrupted layer removal (Docker renames a layerdb entry to <chain>-<random>-removing before deleting it)"
		}
		return
	}
	chain := digest.NewDigestFromEncoded(digest.SHA256, name)
	if _, ok := x.layers[chain]; !ok {
		a.Owner = Owner{Kind: OwnerUnknown, ID: string(chain), Why: "a layerdb entry dlayer cannot read"}
		for _, f := range x.unreadable {
			if f.Path == q.s.LayerPath(chain) {
				a.Findings = append(a.Findings, f)
			}
		}
		return
	}
	a.Owner = Owner{Kind: OwnerImageLayer, ID: x.layers[chain].CacheID, Layer: x.layer(q.s, chain)}
	a.LayerDir = x.layers[chain].CacheID
}

// mountRecord describes layerdb/mounts/<container>.
func (q *query) mountRecord(id string) {
	a, x := q.a, q.index()
	m, ok := x.mounts[id]
	if !ok {
		a.Owner = Owner{Kind: OwnerUnknown, ID: id, Why: "a mount record dlayer cannot read"}
		return
	}
	a.Owner = Owner{Kind: OwnerRWLayer, ID: m.MountID, Container: x.container(id)}
	a.LayerDir = m.MountID
}

// imageOwner describes the image named by a hex name.
func (q *query) imageOwner(name string) {
	a := q.a
	id := digest.NewDigestFromEncoded(digest.SHA256, name)
	img := q.index().image(id)
	if img == nil {
		a.Owner = Owner{Kind: OwnerUnknown, ID: name, Why: "no readable image config of this ID"}
		return
	}
	a.Owner = Owner{Kind: OwnerImage, ID: string(id), Image: img}
}

// blobsAt returns the content blobs whose dir, relative to the root, is
// first (a store that keeps them apart: containerd's content store).
func blobsAt(s *inspect.Store, first string) (backend.Blobs, bool) {
	for _, st := range s.Stores() {
		if b, ok := st.Blobs(); ok {
			if rel, err := filepath.Rel(s.Root, b.BlobsDir()); err == nil && rel == first {
				return b, true
			}
		}
	}
	return nil, false
}

// blob classifies a path below a content store's blobs/: <alg>/<hex> is
// owned by the images whose manifest, index, config or layer it is.
func (q *query) blob(b backend.Blobs, p []string) {
	a := q.a
	a.Kind, a.Name = PathContentBlob, path.Join(p...)
	a.Owner = Owner{Kind: OwnerDocker, Why: "the content store: manifests, configs and compressed layers, named by their digests"}
	if len(p) != 2 {
		return
	}
	d := digest.NewDigestFromEncoded(digest.Algorithm(p[0]), p[1])
	if d.Validate() != nil {
		a.Owner = Owner{Kind: OwnerUnknown, ID: path.Join(p...), Why: "not a blob name (<algorithm>/<hex>)"}
		return
	}
	what, ids := b.BlobUse(d)
	if len(ids) == 0 {
		a.Owner = Owner{Kind: OwnerUnknown, ID: string(d), Why: "no image of the store names this blob (a build's or a pull's content, or garbage containerd collects)"}
		return
	}
	q.blobWhat = what
	img := q.index().image(ids[0])
	if img == nil {
		a.Owner = Owner{Kind: OwnerUnknown, ID: string(ids[0]), Why: "the image naming it has no readable config"}
		return
	}
	a.Owner = Owner{Kind: OwnerImage, ID: string(ids[0]), Image: img}
	var names []string
	for _, id := range ids {
		names = append(names, inspect.ShortID(string(id)))
	}
	a.Notes = append(a.Notes, "the "+what+" blob of image"+plural(len(ids))+" "+strings.Join(names, ", "))
}

// containers classifies a path below containers/.
func (q *query) containers(p []string) {
	a, x := q.a, q.index()
	if len(p) == 0 {
		a.Kind, a.Owner = PathContainers, Owner{Kind: OwnerDocker, Why: "one dir per container: its config, logs, hosts/resolv.conf/hostname"}
		return
	}
	a.Kind = PathContainerDir
	if len(p) > 1 {
		a.Kind, a.Name = PathContainerFile, path.Join(p[1:]...)
	}
	_, known := x.ctrByID[p[0]]
	_, mounted := x.mounts[p[0]]
	switch {
	case known || mounted:
		a.Owner = Owner{Kind: OwnerContainer, ID: p[0], Container: x.container(p[0])}
		if d := a.Owner.Container.Driver; d != "" && !isOwn(q.s, d) {
			a.Notes = append(a.Notes, "the container was made with the "+d+" driver: its layers are in the "+d+" store (dlayer --driver "+d+")")
		}
	case strings.HasSuffix(p[0], "-removing"):
		a.Owner = Owner{Kind: OwnerOrphan, ID: p[0], Why: "left by an interrupted container removal"}
	default:
		a.Owner = Owner{Kind: OwnerOrphan, ID: p[0], Why: "a dir under containers/ with no readable config.v2.json and no mount record"}
	}
}
