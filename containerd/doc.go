// Package containerd is the backend of Docker's containerd image store
// (Docker 29's default on a fresh data root), read on its overlayfs
// snapshotter: images, layers and container rw layers are containerd
// objects in two bolt files and snapshot dirs under the containerd root,
// not layerdb and overlay2 dirs under the data root.
//
// It reads (see docs/facts.md "containerd image store"):
//   - meta.db (io.containerd.metadata.v1.bolt): v1/<ns>/images (name →
//     target manifest), v1/<ns>/snapshots/overlayfs/<key> (name = the
//     snapshotter's key, parent);
//   - the snapshotter's metadata.db: v1/snapshots/<backend key> (id = the
//     snapshots/<id> dir, kind, size);
//   - content blobs (manifests, indexes, configs); for verify
//     (backend.BlobVerifier, verify.go) every blob of the content store,
//     meta.db's records of them (size, the containerd.io/uncompressed
//     label), the blob each layer was unpacked from, and its tar: gzip,
//     zstd or plain, told by its magic bytes as containerd's applier does.
//
// An image layer is the snapshot keyed by its ChainID; a container's rw
// layer the snapshot keyed by its ID, on its <id>-init. A layer dir id is
// the snapshot's number: snapshots/<n>, its content fs/. Both bolt files
// are read from private copies (inspect/boltcopy): a live containerd
// flocks them. Every read goes through the store's opener, which confines
// the containerd root as it does the data root (layerfs.Roots).
//
// Other snapshotters (native, btrfs, zfs, …) are named, never read.
package containerd
