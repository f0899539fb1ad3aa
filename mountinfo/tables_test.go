package mountinfo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeProc is one process of a fake procfs tree.
type fakeProc struct {
	pid, comm string
	cmdline   []string
	ns        string // target of ns/mnt; "" = no ns dir; "FILE" = ns/mnt is a regular file
	sample    string // testdata sample copied to its mountinfo; "" = none
}

// makeProc writes a procfs-like tree: <root>/self -> <self>, and per
// process comm, cmdline, ns/mnt (a symlink "mnt:[N]") and mountinfo.
func makeProc(t *testing.T, self string, procs []fakeProc) string {
	t.Helper()
	root := t.TempDir()
	if err := os.Symlink(self, filepath.Join(root, "self")); err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		dir := filepath.Join(root, p.pid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "comm"), p.comm+"\n")
		writeFile(t, filepath.Join(dir, "cmdline"), strings.Join(p.cmdline, "\x00")+"\x00")
		switch p.ns {
		case "":
		case "FILE":
			mkdirs(t, dir, "ns")
			writeFile(t, filepath.Join(dir, "ns", "mnt"), "not a link")
		default:
			mkdirs(t, dir, "ns")
			if err := os.Symlink(p.ns, filepath.Join(dir, "ns", "mnt")); err != nil {
				t.Fatal(err)
			}
		}
		if p.sample != "" {
			b, err := os.ReadFile(filepath.Join("testdata", p.sample))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "mountinfo"), string(b))
		}
	}
	return root
}

func TestReadNamespaces(t *testing.T) {
	const host, rootless = "mnt:[4026531840]", "mnt:[4026532777]"
	proc := makeProc(t, "100", []fakeProc{
		{pid: "100", comm: "dlayer", cmdline: []string{"dlayer", "mounts"}, ns: host, sample: "self-host.mountinfo"},
		{pid: "812", comm: "dockerd", cmdline: []string{"/usr/bin/dockerd", "-H", "fd://"}, ns: host, sample: "self-host.mountinfo"},
		{pid: "830", comm: "containerd", cmdline: []string{"/usr/bin/containerd"}, ns: host},
		{pid: "900", comm: "containerd-shim", cmdline: []string{"/usr/bin/containerd-shim-runc-v2"}, ns: host},
		{pid: "1500", comm: "rootlesskit", cmdline: []string{"rootlesskit"}, ns: rootless},
		// Found by argv[0] although its comm differs (a renamed binary).
		{pid: "1510", comm: "exe", cmdline: []string{"/home/alice/bin/dockerd", "--rootless"}, ns: rootless, sample: "rootless-userxattr.mountinfo"},
		{pid: "1520", comm: "containerd", cmdline: []string{"containerd", "--config", "/run/user/1000/docker/containerd.toml"}, ns: rootless},
		// Not readable: its namespace link is not a link (as EACCES would be).
		{pid: "2000", comm: "dockerd", cmdline: []string{"dockerd"}, ns: "FILE"},
		// Exited between the listing and the read: no ns dir.
		{pid: "2100", comm: "dockerd", cmdline: []string{"dockerd"}},
		{pid: "2200", comm: "bash", cmdline: []string{"bash"}, ns: "mnt:[1]"},
	})
	tables, err := ReadNamespaces(proc, DaemonCommands())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		path, ns string
		procs    []string
		mounts   int
		err      bool
	}
	var got []row
	for _, tb := range tables {
		got = append(got, row{strings.TrimPrefix(tb.Path, proc), tb.Namespace, tb.Procs, len(tb.Mounts), tb.Err != nil})
	}
	want := []row{
		{"/100/mountinfo", host, []string{"self[100]", "dockerd[812]", "containerd[830]"}, 23, false},
		{"/1510/mountinfo", rootless, []string{"dockerd[1510]", "containerd[1520]"}, 4, false},
		{"/2000/mountinfo", "", []string{"dockerd[2000]"}, 0, true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
	if e := tables[2].Err; e == nil || !strings.Contains(e.Error(), "dockerd[2000] mount namespace") {
		t.Errorf("unreadable namespace: %v", e)
	}
	// Only self when no command is asked for.
	if only, err := ReadNamespaces(proc, nil); err != nil || len(only) != 1 || only[0].Procs[0] != "self[100]" {
		t.Errorf("ReadNamespaces(nil) = %+v, %v", only, err)
	}
}

func TestReadNamespacesSelfUnreadable(t *testing.T) {
	proc := makeProc(t, "100", []fakeProc{{pid: "100", comm: "dlayer", ns: "mnt:[5]"}})
	if _, err := ReadNamespaces(proc, DaemonCommands()); !errors.Is(err, fs.ErrNotExist) ||
		!strings.Contains(err.Error(), filepath.Join(proc, "100", "mountinfo")) {
		t.Errorf("err = %v, want not-exist naming the file", err)
	}
	if _, err := ReadNamespaces(filepath.Join(t.TempDir(), "absent"), nil); err == nil {
		t.Error("no procfs: want an error")
	}
}

func TestReadPIDAndTable(t *testing.T) {
	proc := makeProc(t, "1", []fakeProc{
		{pid: "1", comm: "init", ns: "mnt:[7]", sample: "ubuntu-handmade.mountinfo"},
		{pid: "42", comm: "dockerd", ns: "FILE", sample: "aufs-handmade.mountinfo"},
	})
	tb, err := ReadPID(proc, 1)
	if err != nil || tb.Namespace != "mnt:[7]" || len(tb.Mounts) != 8 || tb.Procs[0] != "init[1]" {
		t.Errorf("ReadPID(1) = %+v, %v", tb, err)
	}
	// The namespace is unknown but the table is read.
	if tb, err := ReadPID(proc, 42); err != nil || tb.Namespace != "" || len(tb.Mounts) != 2 {
		t.Errorf("ReadPID(42) = %+v, %v", tb, err)
	}
	if _, err := ReadPID(proc, 99); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadPID(99): err = %v", err)
	}

	// A file with a bad line: the table is read, its Err names the line.
	path := filepath.Join(t.TempDir(), "copied mountinfo")
	writeFile(t, path, good+"\n36 35 98:0 / /x rw - ext3\n"+good+"\n")
	tb, err = ReadTable(path)
	var le *LineError
	if err != nil || len(tb.Mounts) != 2 || !errors.As(tb.Err, &le) || le.Line != 2 || tb.Namespace != "" {
		t.Errorf("ReadTable = %+v, %v", tb, err)
	}
	if !strings.Contains(tb.Err.Error(), path+":2: ") {
		t.Errorf("error %q should name %s:2", tb.Err, path)
	}
	if _, err := ReadTable(path + ".absent"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent file: err = %v", err)
	}
}

// On the live /proc the caller's own table is the first, in the
// namespace its ns/mnt link names.
func TestReadNamespacesLive(t *testing.T) {
	want, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Skipf("no readable /proc/self/ns/mnt here: %v", err)
	}
	tables, err := ReadNamespaces("/proc", DaemonCommands())
	if err != nil {
		t.Fatal(err)
	}
	if tables[0].Namespace != want || len(tables[0].Mounts) == 0 || !strings.HasPrefix(tables[0].Procs[0], "self[") {
		t.Errorf("self table: %s %v, %d mounts; want namespace %s", tables[0].Namespace, tables[0].Procs, len(tables[0].Mounts), want)
	}
	seen := map[string]bool{}
	for _, tb := range tables {
		if tb.Namespace != "" && seen[tb.Namespace] {
			t.Errorf("namespace %s read twice", tb.Namespace)
		}
		seen[tb.Namespace] = true
	}
}
