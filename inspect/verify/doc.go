// Package verify checks the integrity of a Docker data root's images and
// layers from the files alone, more strictly than Docker itself ever does.
//
// Docker checks a layer only when it rebuilds the layer's tar stream (docker
// save, docker push): it replays tar-split.json.gz (the headers and padding
// of the original tar) with the regular files' bytes read from the layer dir
// and compares the stream's sha256 with the layer's DiffID. So the DiffID
// covers only the content of regular files; a new setuid bit, a file added to
// a lower layer, a removed whiteout or opaque xattr all pass. This package
// runs three kinds of checks and reports each problem as a Finding:
//
//   - metadata (Options.Quick runs only these; no layer content is read):
//     imagedb configs hash to their names; each image's rootfs.diff_ids give,
//     by the ChainID formula, layerdb entries whose diff and parent files
//     agree; every layerdb entry's name is the formula over its parent and
//     diff; parent chains end; the storage driver's layer dirs, short links
//     and parents files (overlay2's link, l/ and lower; aufs's layers/)
//     agree with the chain; repositories.json tags name existing images;
//     each container's image, rw and init layers and parent exist; size
//     files parse.
//   - content (Docker's own check): each layer's tar stream is reassembled as
//     moby's layer store does (vbatts/tar-split: segments replayed verbatim,
//     each file entry's bytes read from the layer dir) and hashed; the result
//     must be the DiffID. Each file entry's CRC-64/ISO from tar-split is
//     compared with the bytes read, so the differing files are named.
//   - tree (beyond Docker): the headers of the reassembled stream are
//     reconciled with the layer dir as the driver's ApplyDiff leaves it
//     (moby pkg/archive Unpack): type, mode with setuid/setgid/sticky,
//     owner, mtime, symlink and hardlink targets, xattrs (and a
//     security.capability the tar never had), entries on disk the tar never
//     had, whiteouts (".wh.X" in the tar) and opaque dirs (".wh..wh..opq"),
//     missing or extra, in the form the driver keeps them (its
//     backend.Markers: overlay2 converts them to a char 0/0 device or
//     overlay.whiteout xattr and to the overlay.opaque xattr; aufs keeps
//     the tar's files).
//
// A store whose layers come from content blobs and that keeps no
// tar-split (backend.BlobVerifier: containerd's image store) is checked
// the same way from each layer's blob: every blob of the content store is
// re-hashed against its digest; a layer's blob is decompressed and its tar
// disassembled as it streams by tar-split's own disassembler, which gives
// the entries tar-split.json.gz would hold; the content and tree checks
// then run on them unchanged, against the layer's snapshot dir, and the
// tar itself must hash to the DiffID (blobs.go, blobsource.go).
//
// With Options.Trust, a run re-hashes only the layers (and content blobs)
// whose trees differ from what an earlier full re-hash established (a
// State: per layer, a fingerprint of every entry's stat, ctime included);
// the others are trusted on ctime, which only the kernel sets, after a
// walk at stat cost (state.go, fingerprint.go, trust.go). Report.Next is
// the State to record; the caller writes it.
//
// Names from tar-split are untrusted. Every file is opened through directory
// descriptors beneath the layer's diff dir, never following a symlink (see
// package layerfs); names with "..", absolute names and duplicates are
// findings and are never opened; FIFOs and devices are classified by lstat
// and never opened. Nothing is ever written.
//
// Layers are checked in parallel; within a layer, a pool of readers opens and
// reads the small files ahead (in batches, within a byte budget) while the
// stream is hashed in order, so each file is read once and small-file opens
// overlap. Two parsers keep a layer of small files from being CPU-bound:
// tar-split lines of the packer's own shape and plain USTAR headers are read
// by hand, anything else by encoding/json and archive/tar (fuzz tests hold
// the fast paths to the same results). The package returns a Report; it
// never prints.
package verify
