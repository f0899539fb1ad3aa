package containerd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// EngineSizes recomputes the sizes Docker 29's /system/df reports for
// this store (moby v2.0.0-beta.24 daemon/containerd image_list.go,
// service.go GetContainerLayerSize; docs/du.md says each):
//
//   - an image's Size: the descriptor sizes of its manifest, config and
//     the layer blobs present in the content store, plus the recorded size
//     of every snapshot from its top ChainID down its parent chain (a
//     classic build container's -init included);
//   - its SharedSize: the recorded sizes of the snapshots of its ChainIDs
//     (identity.ChainIDs of its diff IDs, no -init) that another listed
//     image also has, plus the sizes of its content blobs another listed
//     image also has;
//   - a container's SizeRw: the snapshotter's Usage of its active
//     snapshot, the allocated blocks of fs/ (dirs included, each inode
//     once: containerd fs.DiskUsage); SizeRootFs: SizeRw plus the recorded
//     sizes of every snapshot below it.
//
// Images listed are those of meta.db, one per target digest, without
// the classic builder's intermediates (a moby-dangling@ name whose
// digest another image's org.mobyproject.image.parent label names).
func (m *metadata) EngineSizes(measureRW bool) (backend.EngineSizeReport, error) {
	ix, err := m.l.get()
	if err != nil {
		return backend.EngineSizeReport{}, err
	}
	out := backend.EngineSizeReport{Images: map[digest.Digest]backend.EngineImageSize{}, Containers: map[string]backend.EngineContainerSize{}}
	parents := map[digest.Digest]bool{}
	for _, im := range ix.images {
		if im.Parent != "" {
			parents[im.Parent] = true
		}
	}
	type listed struct {
		chains []digest.Digest
		blobs  map[digest.Digest]int64
		size   int64
	}
	imgs := map[digest.Digest]*listed{}
	var order []digest.Digest
	for _, im := range ix.images {
		if _, ok := imgs[im.Target]; ok || strings.HasPrefix(im.Name, danglingPrefix) && parents[im.Target] {
			continue
		}
		r := ix.resolved[im.Target]
		if r == nil || r.Err != nil {
			continue
		}
		x := &listed{blobs: map[digest.Digest]int64{}}
		present := func(d digest.Digest, size int64) {
			if _, err := m.l.o.Lstat(m.l.blobPath(d)); err == nil {
				x.blobs[d] = size
			}
		}
		present(r.Manifest, r.ManifestSize)
		present(r.Config, r.ConfigSize)
		for i, d := range r.Layers {
			present(d, r.LayerSizes[i])
		}
		for _, s := range x.blobs {
			x.size += s
		}
		var c backend.ImageConfig
		if err := json.Unmarshal(r.ConfigRaw, &c); err == nil {
			x.chains = backend.ChainIDs(c.RootFS.DiffIDs)
		}
		if n := len(x.chains); n > 0 {
			if top, ok := ix.snaps[string(x.chains[n-1])]; ok {
				x.size += top.Size
				for _, p := range ix.chainOf(top) {
					x.size += p.Size
				}
			}
		}
		imgs[im.Target] = x
		order = append(order, im.Target)
	}
	layerUse, blobUse := map[digest.Digest]int{}, map[digest.Digest]int{}
	for _, id := range order {
		for _, c := range imgs[id].chains {
			layerUse[c]++
		}
		for d := range imgs[id].blobs {
			blobUse[d]++
		}
	}
	for _, id := range order {
		x := imgs[id]
		var shared int64
		for _, c := range x.chains {
			if s, ok := ix.snaps[string(c)]; ok && layerUse[c] > 1 {
				shared += s.Size
			}
		}
		for d, size := range x.blobs {
			if blobUse[d] > 1 {
				shared += size
			}
		}
		out.Images[id] = backend.EngineImageSize{Size: x.size, SharedSize: shared}
	}
	out.LayersSize = m.layersSize(ix)
	for _, k := range ix.sortedKeys() {
		s := ix.snaps[k]
		if !isContainerKey(k) || s.Kind != KindActive {
			continue
		}
		var cs backend.EngineContainerSize
		switch {
		case s.ID == 0:
			cs.Err = fmt.Errorf("container %s: %w: its snapshot has no record in %s", shortID(k), backend.ErrNotFound, filepath.Join(m.l.snapHome(), "metadata.db"))
		case measureRW:
			cs.SizeRw, cs.Err = DiskUsageBeneath(m.l.c.Root, filepath.Join(filepath.Base(m.l.snapHome()), "snapshots", strconv.FormatUint(s.ID, 10), "fs"))
		}
		for _, p := range ix.chainOf(s) {
			cs.Below += p.Size
		}
		cs.SizeRootFs = cs.SizeRw + cs.Below
		out.Containers[k] = cs
	}
	return out, nil
}

// layersSize is Docker 29's LayersSize (moby daemon/containerd
// service.go ImageDiskUsage): over every image of the namespace, the
// classic builder's intermediates included, the recorded size of each
// snapshot from the image's top ChainID down its parent chain (a build
// container's -init included), each snapshot once; plus the descriptor
// size of each blob of the image's tree (the target, an index's
// manifests, a manifest's config and layers) that is present, each
// digest once.
func (m *metadata) layersSize(ix *index) int64 {
	var total int64
	snaps, blobs := map[string]bool{}, map[digest.Digest]bool{}
	for _, im := range ix.images {
		if r := ix.resolved[im.Target]; r != nil && r.Err == nil {
			var c backend.ImageConfig
			if json.Unmarshal(r.ConfigRaw, &c) == nil && len(c.RootFS.DiffIDs) > 0 {
				chains := backend.ChainIDs(c.RootFS.DiffIDs)
				for s, ok := ix.snaps[string(chains[len(chains)-1])]; ok && !snaps[s.Key]; s, ok = ix.snaps[s.Parent] {
					snaps[s.Key] = true
					total += s.Size
				}
			}
		}
		m.walkPresent(im.Target, im.MediaType, im.Size, blobs, &total, 0)
	}
	return total
}

// walkPresent adds the descriptor sizes of blob d (of media type mt and
// size size) and of its children in the content store to total, each
// digest once (seen), skipping what is not present; only manifests and
// indexes are read (bounded), never a layer.
func (m *metadata) walkPresent(d digest.Digest, mt string, size int64, seen map[digest.Digest]bool, total *int64, depth int) {
	if seen[d] || d.Validate() != nil || depth > 4 {
		return
	}
	if fi, err := m.l.o.Lstat(m.l.blobPath(d)); err != nil || !fi.Mode().IsRegular() {
		return
	}
	seen[d] = true
	*total += size
	if !isManifestType(mt) {
		return
	}
	raw, err := m.l.o.ReadFile(m.l.blobPath(d), maxBlob)
	if err != nil {
		return
	}
	var x struct {
		MediaType string               `json:"mediaType"`
		Config    ocispec.Descriptor   `json:"config"`
		Layers    []ocispec.Descriptor `json:"layers"`
		Manifests []ocispec.Descriptor `json:"manifests"`
	}
	if json.Unmarshal(raw, &x) != nil {
		return
	}
	kids := append(append([]ocispec.Descriptor{}, x.Manifests...), x.Layers...)
	if x.Config.Digest != "" {
		kids = append([]ocispec.Descriptor{x.Config}, kids...)
	}
	for _, k := range kids {
		m.walkPresent(k.Digest, k.MediaType, k.Size, seen, total, depth+1)
	}
}

// isManifestType reports whether media type mt is a manifest's or an
// index's (OCI or Docker's), whose children an image's tree holds.
func isManifestType(mt string) bool {
	switch mt {
	case ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex,
		"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json":
		return true
	}
	return false
}

// DiskUsage is containerd's fs.DiskUsage of dir: the allocated bytes
// (st_blocks*512) of dir and everything below it, each inode once. It
// never follows a symlink (dir itself included) and does not read files.
func DiskUsage(dir string) (int64, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	return diskUsageFd(fd, dir)
}

// DiskUsageBeneath is DiskUsage of rel below root, resolved by the kernel
// beneath root with no symlink in any component (openat2
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS); root itself may be one.
func DiskUsageBeneath(root, rel string) (int64, error) {
	dir := filepath.Join(root, rel)
	rfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", root, err)
	}
	defer unix.Close(rfd)
	fd, err := unix.Openat2(rfd, rel, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS})
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
			return 0, fmt.Errorf("%s: %w: a component is a symlink, never followed", dir, err)
		}
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	return diskUsageFd(fd, dir)
}

// diskUsageFd is DiskUsage of the open dir fd (closed on return).
func diskUsageFd(fd int, dir string) (int64, error) {
	seen := map[[2]uint64]bool{}
	var total int64
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	seen[[2]uint64{st.Dev, st.Ino}] = true
	total += st.Blocks * 512
	err := usageBelow(fd, dir, seen, &total)
	return total, err
}

// usageBelow adds the usage of the entries of the open dir fd (closed on
// return) to total.
func usageBelow(fd int, path string, seen map[[2]uint64]bool, total *int64) error {
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	for {
		names, err := f.Readdirnames(512)
		for _, n := range names {
			var st unix.Stat_t
			if err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(path, n), err)
			}
			k := [2]uint64{st.Dev, st.Ino}
			if !seen[k] {
				seen[k] = true
				*total += st.Blocks * 512
			}
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				continue
			}
			sub, err := unix.Openat(fd, n, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(path, n), err)
			}
			if err := usageBelow(sub, filepath.Join(path, n), seen, total); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}
