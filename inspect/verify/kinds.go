package verify

import "slices"

// Kind names one sort of finding. Kinds are stable, snake_case, and each
// belongs to one Check.
type Kind string

// Check is the group a Kind belongs to.
type Check string

// The groups of checks.
const (
	// CheckMetadata: the image, layer and container records and the
	// storage driver's bookkeeping files. Runs with Options.Quick.
	CheckMetadata Check = "metadata"
	// CheckContent: what Docker's own DiffID check covers (rebuilding the
	// tar stream from tar-split and the regular files' bytes).
	CheckContent Check = "content"
	// CheckTree: what the DiffID does not cover: the layer dir's entries,
	// their metadata, whiteouts and opaque dirs.
	CheckTree Check = "tree"
)

// Metadata kinds.
const (
	KindImageIDMismatch         Kind = "image_id_mismatch"         // imagedb config's sha256 is not its name
	KindImageConfigMalformed    Kind = "image_config_malformed"    // imagedb config unreadable or not an image config
	KindImageLayerMissing       Kind = "image_layer_missing"       // a chain ID of an image has no layerdb entry
	KindImageParentMissing      Kind = "image_parent_missing"      // imagedb metadata parent names no image
	KindImagedbStray            Kind = "imagedb_stray"             // a name in imagedb/content/sha256 that is not an image ID
	KindTagDangling             Kind = "tag_dangling"              // repositories.json names an image that does not exist
	KindRepositoriesMalformed   Kind = "repositories_malformed"    // repositories.json unreadable
	KindLayerUnreadable         Kind = "layer_unreadable"          // a layerdb file (diff, parent, cache-id) missing or malformed
	KindLayerDiffMismatch       Kind = "layer_diff_mismatch"       // layerdb diff differs from the image's diff_id
	KindLayerParentMismatch     Kind = "layer_parent_mismatch"     // layerdb parent differs from the image's chain
	KindChainIDMismatch         Kind = "chain_id_mismatch"         // layerdb dir name is not ChainID(parent, diff)
	KindParentMissing           Kind = "parent_missing"            // layerdb parent names no layer
	KindParentCycle             Kind = "parent_cycle"              // following parents never reaches a base layer
	KindSizeMalformed           Kind = "size_malformed"            // layerdb size missing or not a byte count
	KindTarSplitMissing         Kind = "tar_split_missing"         // no tar-split.json.gz: the layer cannot be rebuilt
	KindCacheDirMissing         Kind = "cache_dir_missing"         // the driver's layer dir of the cache-id (or its content dir) does not exist
	KindLinkMalformed           Kind = "link_malformed"            // the layer's short link file (overlay2 <id>/link) missing or not a short name
	KindLinkBroken              Kind = "link_broken"               // the short link (overlay2 l/<link>) missing or not naming the layer
	KindLowerMismatch           Kind = "lower_mismatch"            // the parents file (overlay2 lower, aufs layers/<id>) does not list the parents
	KindLayerdbStray            Kind = "layerdb_stray"             // a name in layerdb/sha256 that is not a chain ID
	KindContainerUnreadable     Kind = "container_unreadable"      // config.v2.json unreadable, or in the wrong dir
	KindContainerImageMissing   Kind = "container_image_missing"   // the container's image does not exist
	KindContainerMountMissing   Kind = "container_mount_missing"   // layerdb/mounts/<id> missing or malformed
	KindLayerDirClaimedTwice    Kind = "layer_dir_claimed_twice"   // one mount-id, init-id or cache-id in several records
	KindContainerLayerMissing   Kind = "container_layer_missing"   // the rw or init layer dir does not exist
	KindContainerParentMismatch Kind = "container_parent_mismatch" // mount parent is not the image's top layer
	KindContainerLowerMismatch  Kind = "container_lower_mismatch"  // rw/init lower files disagree with the image chain
	KindMountOrphan             Kind = "mount_orphan"              // layerdb/mounts/<id> of no container
)

// Metadata kinds of a store whose layers come from content blobs
// (backend.BlobVerifier: containerd's image store).
const (
	KindLayerBlobMissing          Kind = "layer_blob_missing"          // no manifest names a blob for the layer, or the blob is not in the content store
	KindBlobMissing               Kind = "blob_missing"                // a content store entry is not a regular file
	KindBlobSizeMismatch          Kind = "blob_size_mismatch"          // a blob's size differs from its record or its manifest descriptor
	KindBlobStray                 Kind = "blob_stray"                  // a name in the content store's blobs/ that is not <algorithm>/<digest>
	KindUncompressedLabelMismatch Kind = "uncompressed_label_mismatch" // a layer blob's containerd.io/uncompressed label is not the layer's DiffID
)

// Content kinds: Docker's own check (docker save, docker push) fails on
// these too.
const (
	KindDiffIDMismatch       Kind = "diff_id_mismatch"        // the rebuilt stream does not hash to the DiffID
	KindContentMismatch      Kind = "content_mismatch"        // a file's CRC-64 differs from tar-split's
	KindSizeMismatch         Kind = "size_mismatch"           // a file's size differs from its tar header
	KindEntryMissing         Kind = "entry_missing"           // an entry of the tar is not on disk
	KindUnreadable           Kind = "unreadable"              // an entry could not be read (permission, changed while read)
	KindTarSplitMalformed    Kind = "tar_split_malformed"     // tar-split.json.gz truncated or not tar-split
	KindTarSplitUnsafeName   Kind = "tar_split_unsafe_name"   // a name with "..", absolute, or empty: never opened
	KindTarSplitDuplicate    Kind = "tar_split_duplicate"     // two file entries with one name
	KindTarSplitNameMismatch Kind = "tar_split_name_mismatch" // a file entry's name differs from its header's
)

// Content kinds of a store whose layers come from content blobs
// (backend.BlobVerifier). Docker's own commands do not check these:
// docker save exports the blobs as they are.
const (
	KindBlobDigestMismatch Kind = "blob_digest_mismatch"  // a content blob's bytes do not hash to its name
	KindBlobUnreadable     Kind = "blob_unreadable"       // a content blob could not be opened or read
	KindBlobMalformed      Kind = "blob_malformed"        // a layer blob does not decompress, or its tar does not parse
	KindBlobDiffIDMismatch Kind = "blob_diff_id_mismatch" // a layer blob's uncompressed tar does not hash to the layer's DiffID
	KindLayerTarUnsafeName Kind = "layer_tar_unsafe_name" // a layer blob's tar names a path outside the layer: never opened
	KindLayerTarDuplicate  Kind = "layer_tar_duplicate"   // a layer blob's tar names one path twice
)

// Tree kinds: the DiffID does not cover these; Docker never notices them.
const (
	KindTypeMismatch     Kind = "type_mismatch"     // file type (or device numbers) differ from the header
	KindModeMismatch     Kind = "mode_mismatch"     // permission bits, setuid/setgid/sticky differ
	KindOwnerMismatch    Kind = "owner_mismatch"    // uid or gid differ
	KindMtimeMismatch    Kind = "mtime_mismatch"    // mtime differs from the header
	KindSymlinkMismatch  Kind = "symlink_mismatch"  // symlink target differs
	KindHardlinkMismatch Kind = "hardlink_mismatch" // not the same inode as the link's target
	KindXattrMismatch    Kind = "xattr_mismatch"    // an xattr of the header differs, or a security.capability was added
	KindExtraFile        Kind = "extra_file"        // an entry on disk the tar never had
	KindWhiteoutMissing  Kind = "whiteout_missing"  // the tar's .wh. entry has no whiteout on disk
	KindWhiteoutExtra    Kind = "whiteout_extra"    // a whiteout on disk the tar never had
	KindOpaqueMissing    Kind = "opaque_missing"    // the tar's .wh..wh..opq has no opaque xattr on disk
	KindOpaqueExtra      Kind = "opaque_extra"      // an opaque dir on disk the tar never made opaque
)

// String returns the kind as written in JSON.
func (k Kind) String() string { return string(k) }

// String returns the check as written in JSON.
func (c Check) String() string { return string(c) }

// checks are the groups, in the order findings are counted.
func checks() []Check { return []Check{CheckMetadata, CheckContent, CheckTree} }

// kinds lists the kinds of the group c.
func (c Check) kinds() []Kind {
	switch c {
	case CheckMetadata:
		return []Kind{KindImageIDMismatch, KindImageConfigMalformed, KindImageLayerMissing, KindImageParentMissing,
			KindImagedbStray, KindTagDangling, KindRepositoriesMalformed, KindLayerUnreadable, KindLayerDiffMismatch,
			KindLayerParentMismatch, KindChainIDMismatch, KindParentMissing, KindParentCycle, KindSizeMalformed,
			KindTarSplitMissing, KindCacheDirMissing, KindLinkMalformed, KindLinkBroken, KindLowerMismatch, KindLayerdbStray,
			KindContainerUnreadable, KindContainerImageMissing, KindContainerMountMissing, KindContainerLayerMissing,
			KindContainerParentMismatch, KindContainerLowerMismatch, KindMountOrphan, KindLayerDirClaimedTwice,
			KindLayerBlobMissing, KindBlobMissing, KindBlobSizeMismatch, KindBlobStray, KindUncompressedLabelMismatch}
	case CheckContent:
		return []Kind{KindDiffIDMismatch, KindContentMismatch, KindSizeMismatch, KindEntryMissing, KindUnreadable,
			KindTarSplitMalformed, KindTarSplitUnsafeName, KindTarSplitDuplicate, KindTarSplitNameMismatch,
			KindBlobDigestMismatch, KindBlobUnreadable, KindBlobMalformed, KindBlobDiffIDMismatch, KindLayerTarUnsafeName, KindLayerTarDuplicate}
	case CheckTree:
		return []Kind{KindTypeMismatch, KindModeMismatch, KindOwnerMismatch, KindMtimeMismatch, KindSymlinkMismatch,
			KindHardlinkMismatch, KindXattrMismatch, KindExtraFile, KindWhiteoutMissing, KindWhiteoutExtra,
			KindOpaqueMissing, KindOpaqueExtra}
	}
	return nil
}

// Check returns the group of k ("" for an unknown kind).
func (k Kind) Check() Check {
	for _, c := range checks() {
		if slices.Contains(c.kinds(), k) {
			return c
		}
	}
	return ""
}

// Kinds returns every kind: the metadata kinds, then the content kinds,
// then the tree kinds, each group sorted by name.
func Kinds() []Kind {
	var out []Kind
	for _, c := range checks() {
		ks := slices.Clone(c.kinds())
		slices.Sort(ks)
		out = append(out, ks...)
	}
	return out
}
