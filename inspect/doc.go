// Package inspect is dlayer's model of a Docker data root, read from the
// files alone: repositories.json, the image store (imagedb), the layer store
// (layerdb: layers and container mounts), containers/*/config.v2.json, and —
// through a storage driver — the layer directories themselves.
//
// It resolves container and image references, builds layer chains and
// checks chain IDs, and computes the union view of a container's layers:
// what each entry of the writable layer did (explain) and the changes
// `docker diff` would list (diff). Given mount tables read by package
// mountinfo, it decodes the live mounts of the store's drivers
// (DecodeMount, LiveMounts); package inspect/mounts maps them to their
// containers and flags leaked or missing ones. It returns plain values; it
// never prints and never writes.
package inspect
