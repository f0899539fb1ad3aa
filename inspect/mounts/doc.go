// Package mounts is `dlayer mounts`: it finds the union mounts of a data
// root's layer dirs in mount tables read by package mountinfo and checks
// them against the store.
//
// [Map] lists every mount a registered driver decodes whose mount point,
// upper, work or a lower dir lies under the data root (as given, or with
// its symlinks resolved, as the kernel shows it), each once however many
// mount namespaces show it. It places each mount in a driver home and a
// layer dir by asking the drivers to parse its paths, maps the layer to
// the container whose rw or init layer it is (layerdb/mounts), and reports
// the problems: leaked mounts, running containers that are not mounted,
// mounted lower layers that disagree with the store, upper dirs mounted
// at another layer's mount point or more than once.
//
// It reads the store through [inspect.Store]'s memoized metadata and its
// opener, knows no driver by name, and returns plain values: report/
// formats them.
package mounts
