// Package aufs will read the aufs storage driver's directories (Docker ≤ 23):
// aufs/diff/<id>/ (layer content, whiteouts stored verbatim as .wh.<name>,
// opaque dirs as .wh..wh..opq), aufs/layers/<id> (parent ids, nearest first)
// and aufs/mnt/<id>/, with .wh..wh.aufs and .wh..wh.plnk at a branch root as
// aufs bookkeeping.
//
// It is a placeholder until its own issue: dlayer reports a data root with
// image/aufs as an unsupported driver.
package aufs
