package mountinfo

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/prometheus/procfs"
)

// DaemonCommands are the commands whose mount namespaces [ReadNamespaces]
// reads besides its own: Docker's daemon and its containerd. Their mounts
// may be invisible from other namespaces (a daemon started with
// MountFlags=slave or private, a snap, rootless Docker inside
// rootlesskit's namespace).
func DaemonCommands() []string { return []string{"dockerd", "containerd"} }

// Table is the mount table of one mount namespace, or of a file.
type Table struct {
	// Path is the file read: "<proc>/<pid>/mountinfo", or a copied file.
	Path string
	// Namespace names the mount namespace as the kernel does,
	// "mnt:[4026531841]"; "" when unknown (a file).
	Namespace string
	// Procs are the processes the table was read for, "self[812]",
	// "dockerd[1034]": every matching process of that namespace.
	Procs []string
	// Mounts are the lines that parsed.
	Mounts []Mount
	// Err says what went wrong: the file could not be read (Mounts is
	// empty), or some lines did not parse (errors.Join of *LineError;
	// the others are in Mounts).
	Err error
}

// ReadNamespaces reads the mount table of the calling process and of
// every process whose command is one of commands (its comm, or the base
// name of its argv[0]; pass [DaemonCommands]), once per mount namespace,
// from procRoot (where procfs is mounted, "/proc" on a live host).
//
// The first table is the caller's own ("self"); the others follow in
// order of their first process's PID. A process whose namespace cannot
// be read (not root: its /proc/<pid>/ns/mnt is not readable) gives a
// Table with Err set and no mounts, so the caller can say what it could
// not see. Processes that exit during the scan are skipped. The error is
// non-nil only when the caller's own table cannot be read.
func ReadNamespaces(procRoot string, commands []string) ([]Table, error) {
	pfs, err := procfs.NewFS(procRoot)
	if err != nil {
		return nil, fmt.Errorf("mountinfo: %w", err)
	}
	self, err := pfs.Self()
	if err != nil {
		return nil, fmt.Errorf("mountinfo: %s/self: %w", procRoot, err)
	}
	first := readProc(procRoot, self, "self")
	if first.Err != nil && len(first.Mounts) == 0 {
		return nil, first.Err
	}
	tables := []Table{first}
	byNS := map[string]int{}
	if first.Namespace != "" {
		byNS[first.Namespace] = 0
	}
	procs, err := pfs.AllProcs()
	if err != nil {
		tables[0].Err = errors.Join(tables[0].Err, fmt.Errorf("listing %s: %w", procRoot, err))
		return tables, nil
	}
	sort.Sort(procs)
	for _, p := range procs {
		if p.PID == self.PID {
			continue
		}
		name, ok := daemonName(p, commands)
		if !ok {
			continue
		}
		label := name + "[" + strconv.Itoa(p.PID) + "]"
		ns, err := mountNamespace(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // exited
		}
		if err != nil {
			tables = append(tables, Table{Path: procPath(procRoot, p.PID), Procs: []string{label},
				Err: fmt.Errorf("%s mount namespace: %w", label, err)})
			continue
		}
		if i, seen := byNS[ns]; seen {
			tables[i].Procs = append(tables[i].Procs, label)
			continue
		}
		t := readProc(procRoot, p, name)
		if t.Err != nil && errors.Is(t.Err, fs.ErrNotExist) && len(t.Mounts) == 0 {
			continue // exited between the two reads
		}
		byNS[ns] = len(tables)
		tables = append(tables, t)
	}
	return tables, nil
}

// ReadPID reads /proc/<pid>/mountinfo under procRoot; the namespace is
// left "" when /proc/<pid>/ns/mnt cannot be read. The error is that of
// reading the file, also kept in Table.Err.
func ReadPID(procRoot string, pid int) (Table, error) {
	pfs, err := procfs.NewFS(procRoot)
	if err != nil {
		return Table{}, fmt.Errorf("mountinfo: %w", err)
	}
	p, err := pfs.Proc(pid)
	if err != nil {
		return Table{Path: procPath(procRoot, pid)}, fmt.Errorf("mountinfo: process %d: %w", pid, err)
	}
	name, err := p.Comm()
	if err != nil {
		name = "pid"
	}
	t := readProc(procRoot, p, name)
	if t.Err != nil && len(t.Mounts) == 0 {
		return t, t.Err
	}
	return t, nil
}

// ReadTable reads a mountinfo file (a copy from another host, or any
// /proc/<pid>/mountinfo) into a Table with no namespace. The error, also
// kept in Table.Err, is that of opening or reading it.
func ReadTable(path string) (Table, error) {
	mounts, err := ReadFile(path)
	t := Table{Path: path, Mounts: mounts, Err: err}
	var le *LineError
	if err != nil && !errors.As(err, &le) {
		return t, err
	}
	return t, nil
}

// readProc reads the table and namespace of one process.
func readProc(procRoot string, p procfs.Proc, name string) Table {
	t := Table{Path: procPath(procRoot, p.PID), Procs: []string{name + "[" + strconv.Itoa(p.PID) + "]"}}
	if ns, err := mountNamespace(p); err == nil {
		t.Namespace = ns
	}
	t.Mounts, t.Err = ReadFile(t.Path)
	return t
}

// mountNamespace returns "mnt:[<inode>]" for a process.
func mountNamespace(p procfs.Proc) (string, error) {
	nss, err := p.Namespaces()
	if err != nil {
		return "", err
	}
	ns, ok := nss["mnt"]
	if !ok {
		return "", fmt.Errorf("no mnt namespace listed: %w", fs.ErrNotExist)
	}
	return ns.Type + ":[" + strconv.FormatUint(uint64(ns.Inode), 10) + "]", nil
}

// daemonName returns which of commands the process runs, by its comm or
// the base name of argv[0].
func daemonName(p procfs.Proc, commands []string) (string, bool) {
	comm, err := p.Comm()
	if err != nil {
		return "", false
	}
	for _, c := range commands {
		if comm == c {
			return c, true
		}
	}
	args, err := p.CmdLine()
	if err != nil || len(args) == 0 {
		return "", false
	}
	base := filepath.Base(args[0])
	for _, c := range commands {
		if base == c {
			return c, true
		}
	}
	return "", false
}

func procPath(procRoot string, pid int) string {
	return filepath.Join(procRoot, strconv.Itoa(pid), "mountinfo")
}
