// Package whose answers `dlayer whose PATH`: what a path under a Docker
// data root is, who owns it — an image layer, a container's writable or
// init layer, BuildKit's build cache, the driver's bookkeeping, Docker's
// own state, or nothing (an orphan) — what each container and image using
// a layer sees at a path inside it, and whether deleting it by hand is
// safe, with the Docker command that removes it properly.
//
// [Ask] is a function over an opened [inspect.Store]: the owners come from
// the store's memoized metadata (layers, images, containers, mount
// records), the paths below a driver home from the driver (ParsePath,
// ShortLink, Bookkeeping), the union views from the core's union rules
// (inspect.Union), build cache from package buildkit. The path is resolved
// lexically: no symlink inside the data root is followed, a short link is
// read as text. Nothing is written, locked or mounted. The package returns
// values; package report formats them.
package whose
