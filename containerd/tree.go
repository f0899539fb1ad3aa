package containerd

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
)

var _ backend.StoreTree = (*metadata)(nil)

// The content store's dirs below the containerd root.
const (
	contentDir = "io.containerd.content.v1.content"
	blobsDir   = contentDir + "/blobs"
	ingestDir  = contentDir + "/ingest"
)

// Tree: the containerd root, whose content store's blobs and ingests an
// audit charges one by one; the snapshotter's dir is the driver home.
func (m *metadata) Tree() backend.Tree {
	return backend.Tree{Root: m.l.c.Root, Dirs: []backend.TreeDir{
		{Rel: contentDir, What: "containerd's content store"},
		{Rel: blobsDir, What: "the content store's blobs, one dir per digest algorithm"},
		{Rel: blobsDir + "/" + string(digest.SHA256), What: "the sha256 blobs: manifests, indexes, configs, compressed layers, each named by its digest"},
		{Rel: ingestDir, What: "unfinished writes of blobs"},
	}}
}

// Charge says what an entry of the containerd root's dirs is.
func (m *metadata) Charge(rel, name string) backend.TreeCharge {
	other := func(why string) backend.TreeCharge { return backend.TreeCharge{Role: backend.TreeOther, Why: why} }
	switch rel {
	case "":
		return other(rootEntry(name))
	case ingestDir:
		return backend.TreeCharge{Role: backend.TreeIngest, Why: "an unfinished write of a blob (a pull, load or build in flight, or an interrupted one): " +
			"containerd removes it when its ingest expires; never reclaimable by hand while the daemon runs"}
	case blobsDir:
		if digest.Algorithm(name).Available() {
			return other("blobs of digest algorithm " + name + " (dlayer charges the sha256 ones one by one)")
		}
		return other("not a digest algorithm's dir of the content store")
	case blobsDir + "/" + string(digest.SHA256):
		return m.chargeBlob(digest.NewDigestFromEncoded(digest.SHA256, name))
	}
	return other("a file of containerd's content store that is no blob")
}

// chargeBlob says what keeps blob d alive: the images whose references
// reach it, else leases, other namespaces or gc roots; else nothing, and
// containerd's garbage collector removes it.
func (m *metadata) chargeBlob(d digest.Digest) backend.TreeCharge {
	if d.Validate() != nil {
		return backend.TreeCharge{Role: backend.TreeOther, Why: "not named by a sha256 digest: no blob containerd wrote"}
	}
	ix, err := m.l.get()
	if err != nil {
		return backend.TreeCharge{Role: backend.TreeHeld, Blob: d, Why: "the metadata could not be read (" + err.Error() + "): not judged"}
	}
	// the images whose manifests name it, and those whose gc references
	// reach it (an index's other manifests, a container config)
	what, images := m.BlobUse(d)
	u := ix.uses[d]
	if u != nil {
		images = append(images, u.images...)
		slices.Sort(images)
		images = slices.Compact(images)
	}
	switch {
	case len(images) > 0:
		c := backend.TreeCharge{Role: backend.TreeBlob, Blob: d, What: what, Images: images}
		if u != nil {
			c.Holders = u.holders
		}
		if c.What == "" {
			c.What = "content"
		}
		c.Why = fmt.Sprintf("%s of %d image%s", c.What, len(images), plural(len(images)))
		return c
	case u != nil:
		return backend.TreeCharge{Role: backend.TreeHeld, Blob: d, What: what, Holders: u.holders,
			Why: "no image of namespace " + m.l.c.Namespace + " references it; held by " + strings.Join(u.holders, ", ")}
	}
	return backend.TreeCharge{Role: backend.TreeOrphan, Blob: d,
		Why: "no image, lease or gc root of any namespace of " + m.l.metaDB() + " references it: containerd's garbage collector removes it"}
}

// rootEntry says what a top-level entry of the containerd root is.
func rootEntry(name string) string {
	switch {
	case name == "io.containerd.metadata.v1.bolt":
		return "containerd's metadata (meta.db): every namespace's images, content records, leases, containers and snapshot keys"
	case name == "io.containerd.runtime.v2.task":
		return "the runtime's state of tasks (bundles of running containers)"
	case name == "tmpmounts":
		return "containerd's temporary mount points"
	case name == "io.containerd.grpc.v1.introspection":
		return "containerd's instance uuid"
	case name == "opt":
		return "containerd's managed opt dir"
	case strings.HasPrefix(name, "io.containerd.snapshotter.v1."):
		return "the " + strings.TrimPrefix(name, "io.containerd.snapshotter.v1.") + " snapshotter's dir (Docker's store uses " + string(Name) + ")"
	case strings.HasPrefix(name, "io.containerd."):
		return "the dir of containerd plugin " + name
	}
	return "an entry of containerd's root no containerd plugin names"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
