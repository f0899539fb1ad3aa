// Package buildkit reads what BuildKit's snapshot store (the data root's
// buildkit/snapshots.db, a bolt database) says about the storage driver's
// layer dirs: which of them are build cache. The daemon holds the
// database's lock while it runs, so the file is copied to a private temp
// file and the copy is read; the store itself is never locked, opened for
// writing or changed.
//
// du uses it to charge dirs to build cache, whose to tell build cache
// from orphans.
package buildkit
