package du

// FindingKind names one sort of problem an audit or a catalog reports
// (Finding.Kind). Kinds are stable and snake_case.
type FindingKind string

// String returns the kind as written in JSON.
func (k FindingKind) String() string { return string(k) }

// The kinds of findings of du (those of the store, e.g. from reading the
// containers, keep their own).
const (
	KindBuildkitUnreadable     FindingKind = "buildkit_unreadable"     // buildkit/snapshots.db could not be read: build cache cannot be told from orphans
	KindCacheIDShared          FindingKind = "cache_id_shared"         // two layerdb layers name one cache-id
	KindContainerDirUnknown    FindingKind = "container_dir_unknown"   // a dir under containers/ with no readable config.v2.json
	KindContainersUnreadable   FindingKind = "containers_unreadable"   // containers/ could not be listed
	KindDanglingLink           FindingKind = "dangling_link"           // a short link names no layer dir
	KindImageLayerMissing      FindingKind = "image_layer_missing"     // an image needs a layer layerdb does not have
	KindImageParentMalformed   FindingKind = "image_parent_malformed"  // imagedb's parent file of an image is not a digest
	KindImageUnreadable        FindingKind = "image_unreadable"        // an image config could not be read or parsed
	KindInitDirMissing         FindingKind = "init_dir_missing"        // a container's init layer dir is gone
	KindLayerDirMissing        FindingKind = "layer_dir_missing"       // a layer's dir is gone
	KindLayerDirUnreadable     FindingKind = "layer_dir_unreadable"    // a layer's dir could not be stat-ed
	KindLayerSizeMismatch      FindingKind = "layer_size_mismatch"     // layerdb's size differs from the layer's content now
	KindLayerUnreadable        FindingKind = "layer_unreadable"        // a layerdb entry could not be read
	KindLayerdbRemoving        FindingKind = "layerdb_removing"        // a layerdb entry left by an interrupted removal
	KindLayerdbStray           FindingKind = "layerdb_stray"           // a name in layerdb that is not a layer
	KindLayerdbTmpLeftover     FindingKind = "layerdb_tmp_leftover"    // left in layerdb/tmp by an interrupted layer write
	KindLinkFileMissing        FindingKind = "link_file_missing"       // a layer dir has no link file
	KindLinkMalformed          FindingKind = "link_malformed"          // a short link or link file does not have the driver's form
	KindLinkMismatch           FindingKind = "link_mismatch"           // a layer's link file names a short link that points elsewhere
	KindLinkMissing            FindingKind = "link_missing"            // the short link a layer's link file names is gone
	KindLinksUnreadable        FindingKind = "links_unreadable"        // the short links' dir could not be listed
	KindMountMissing           FindingKind = "mount_missing"           // a container has no rw layer record
	KindMountUnreadable        FindingKind = "mount_unreadable"        // a container's rw layer record could not be read
	KindMountWithoutContainer  FindingKind = "mount_without_container" // an rw layer record of a container with no config
	KindMountsUnreadable       FindingKind = "mounts_unreadable"       // the rw layer records could not be listed
	KindRemovingLeftover       FindingKind = "removing_leftover"       // a layer dir left by an interrupted removal
	KindUnaccounted            FindingKind = "layer_dir_unaccounted"   // a layer dir no record names but something in use refers to: not reclaimable
	KindLayerDirClaimedTwice   FindingKind = "layer_dir_claimed_twice" // one mount-id or init-id in several containers' records
	KindRepositoriesUnreadable FindingKind = "repositories_unreadable" // repositories.json could not be read
	KindRWDirMissing           FindingKind = "rw_dir_missing"          // a container's rw layer dir is gone
	KindUnreadable             FindingKind = "unreadable"              // a dir or entry the walk could not read
)
