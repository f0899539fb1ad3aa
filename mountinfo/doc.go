// Package mountinfo reads the kernel's mount table in the
// /proc/<pid>/mountinfo format and the mount options of the union
// filesystems Docker uses (overlay and aufs), for one mount namespace or
// several.
//
// It owns:
//
//   - the line format of proc_pid_mountinfo(5): ten or more
//     space-separated fields, a lone "-" separating the per-mount part
//     from the per-superblock part, and the octal escapes (\040, \011,
//     \012, \134) the kernel writes for space, tab, newline and
//     backslash in paths and option values ([Parse], [ReadFile],
//     [ParseLine], [Mount]);
//   - the overlay super-options as the kernel prints them
//     (fs/overlayfs/params.c, ovl_show_options): "lowerdir=" with its
//     ':'-separated, backslash-escaped list and "::" data layers, or the
//     repeated "lowerdir+=" / "datadir+=" forms; upperdir and workdir;
//     the feature switches ([ParseOverlay], [Overlay]);
//   - making the relative paths Docker's overlay2 driver uses for long
//     layer chains absolute again ([Overlay.Resolve]);
//   - the aufs super options: si=, and the branch list "br:" (or the
//     br=/dirs=/br<N>= spellings) with each branch's permission; for a
//     mount that shows si= only, the branches in sysfs under
//     <sys>/fs/aufs/si_<id>/br<N> ([ParseAufs], [Aufs.ResolveSysfs]);
//   - finding the mount that belongs to an overlay2 upper dir or a mount
//     point ([FindOverlayByUpper], [FindByMountPoint]);
//   - reading the tables of several mount namespaces: the caller's own and
//     those of the dockerd and containerd processes, each namespace once,
//     found with github.com/prometheus/procfs (AllProcs, Comm, CmdLine,
//     Namespaces) ([ReadNamespaces], [ReadPID], [ReadTable], [Table]).
//
// The package only reads. It never opens /proc or /sys on its own: callers
// pass a reader, a path, or the directory procfs or sysfs is mounted on,
// so a mountinfo file copied from another host, or a fake tree in a test,
// is read the same way as a live one. Nothing here prints.
//
// The line parser is written here rather than delegated to
// github.com/prometheus/procfs (which finds the processes and their
// namespaces): procfs v0.23.0 keeps its line parser
// unexported (its entry points open /proc paths themselves), stores
// options in maps (losing order, the raw text and repeated keys such as
// "lowerdir+="), does not decode octal escapes, drops unknown optional
// fields and reports errors without a line number. The tests use procfs
// as a reference and check that both parsers agree on the captured
// samples.
package mountinfo
