package e2e

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/report"
)

// tarFile is one entry of a tar, as the tests compare them.
type tarFile struct {
	hdr    tar.Header
	sha256 string
}

// readTar reads every entry of a tar file by name (a leading "./" or "/"
// dropped, a dir's trailing "/" too), and the names in the tar's order.
func readTar(t *testing.T, file string) (map[string]tarFile, []string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]tarFile{}
	var order []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, order
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		sum := sha256.New()
		if _, err := io.Copy(sum, tr); err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/"), "/")
		out[name] = tarFile{hdr: *h, sha256: hex.EncodeToString(sum.Sum(nil))}
		order = append(order, name)
	}
}

// TestExportE2E: on a real engine's store (overlay2, its aufs twin, the
// legacy overlay driver, Docker 29's containerd store), dlayer export's
// tar holds exactly docker diff's lines — added and changed entries with
// the content and metadata docker export gives the same paths, deleted
// ones as .wh. entries — its manifest's sha256s are the content's, and
// explain --hash equals sha256sum run in the container.
func TestExportE2E(t *testing.T) {
	for _, tc := range storeEngines() {
		t.Run(tc.name, func(t *testing.T) {
			e := engine.ForTestWith(t, "", tc.opt)
			want, _ := e2eScenario(t, e)
			dir := t.TempDir()
			exports := map[string]map[string]tarFile{}
			for _, c := range e2eContainers {
				out := filepath.Join(dir, c.name+".docker.tar")
				if o, err := e.Docker("export", "-o", out, c.name); err != nil {
					t.Fatalf("docker export %s: %v\n%s", c.name, err, o)
				}
				exports[c.name], _ = readTar(t, out)
			}
			checkHashes(t, e)
			if err := e.Stop(); err != nil {
				t.Fatal(err)
			}
			roots := storeRoots(t, tc.name, e.Root())
			for name, root := range roots {
				for _, c := range e2eContainers {
					checkExport(t, name, root, c.name, want[c.name], exports[c.name])
				}
			}
		})
	}
}

// checkHashes: explain --hash of the running container equals sha256sum
// run in it, file by file.
func checkHashes(t *testing.T, e *engine.Engine) {
	t.Helper()
	out, errOut, code := runCLI("--root", e.Root(), "--daemon", "off", "--format", "json", "explain", "--hash", "running")
	if code != 0 {
		t.Fatalf("explain --hash: exit %d: %s", code, errOut)
	}
	var x inspect.Explanation
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range x.Changes {
		if c.SHA256 == "" || mountedInContainer(c.Path) {
			continue
		}
		n++
		o, err := e.Docker("exec", "running", "sha256sum", c.Path)
		if err != nil {
			t.Fatalf("sha256sum %s: %v\n%s", c.Path, err, o)
		}
		if f := strings.Fields(o); len(f) == 0 || f[0] != c.SHA256 {
			t.Errorf("%s: explain --hash %s, sha256sum in the container %q", c.Path, c.SHA256, o)
		}
	}
	if n == 0 {
		t.Error("explain --hash hashed no file of the running container")
	}
}

func checkExport(t *testing.T, view, root, name string, diff []string, docker map[string]tarFile) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, name+".tar")
	_, errOut, code := runCLI("--root", root, "--mountinfo", "none", "--daemon", "off", "export", name, "-o", file)
	if code != 0 {
		t.Errorf("%s %s: export exit %d: %s", view, name, code, errOut)
		return
	}
	ours, order := readTar(t, file)
	var m report.ExportDoc
	raw, err := os.ReadFile(file + ".manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	// the tar's entries, as docker diff lines
	var lines []string
	for n := range ours {
		d, b := path.Split("/" + n)
		if w, ok := strings.CutPrefix(b, ".wh."); ok {
			lines = append(lines, "D "+report.Escape(d+w))
			continue
		}
		letter := "A"
		for _, e := range m.Entries {
			if strings.TrimSuffix(e.Name, "/") == n {
				letter = e.Diff
			}
		}
		lines = append(lines, letter+" "+report.Escape("/"+n))
	}
	got := normalize(strings.Join(lines, "\n"))
	if w := slices.Sorted(slices.Values(diff)); strings.Join(got, "\n") != strings.Join(w, "\n") {
		t.Errorf("%s %s: the tar holds\n%q\ndocker diff lists\n%q", view, name, got, w)
	}
	if len(m.Entries) != len(diff) {
		t.Errorf("%s %s: the manifest lists %d entries, docker diff %d lines", view, name, len(m.Entries), len(diff))
	}
	if len(order) != len(m.Entries) {
		t.Errorf("%s %s: %d tar entries, %d in the manifest", view, name, len(order), len(m.Entries))
		return
	}
	for i, n := range order { // the manifest lists the tar's entries in order
		e, o := m.Entries[i], ours[n]
		if e.Type == "whiteout" {
			continue
		}
		d, ok := docker[n]
		if !ok {
			t.Errorf("%s %s: %s is not in docker export", view, name, e.Path)
			continue
		}
		if d.hdr.Typeflag == tar.TypeLink { // docker export's second name of a file: its first holds the content
			d.sha256 = docker[strings.TrimPrefix(d.hdr.Linkname, "/")].sha256
			d.hdr.Typeflag = docker[strings.TrimPrefix(d.hdr.Linkname, "/")].hdr.Typeflag
		}
		h, dh := o.hdr, d.hdr
		if h.Typeflag != dh.Typeflag && h.Typeflag != tar.TypeLink {
			t.Errorf("%s %s: %s: type %c, docker export %c", view, name, e.Path, h.Typeflag, dh.Typeflag)
		}
		if h.Mode&0o7777 != dh.Mode&0o7777 || h.Uid != dh.Uid || h.Gid != dh.Gid || h.ModTime.Unix() != dh.ModTime.Unix() || h.Linkname != dh.Linkname && h.Typeflag == tar.TypeSymlink {
			t.Errorf("%s %s: %s: mode %o uid %d gid %d mtime %v link %q; docker export: %o %d %d %v %q",
				view, name, e.Path, h.Mode, h.Uid, h.Gid, h.ModTime, h.Linkname, dh.Mode, dh.Uid, dh.Gid, dh.ModTime, dh.Linkname)
		}
		if h.Typeflag == tar.TypeReg && (o.sha256 != d.sha256 || e.SHA256 != o.sha256) {
			t.Errorf("%s %s: %s: content sha256 %s (manifest %s), docker export's %s", view, name, e.Path, o.sha256, e.SHA256, d.sha256)
		}
	}
}

// mountedInContainer: a path a running container sees through a mount of
// its own (the /dev tmpfs, the bind mounts of /etc/hosts, hostname and
// resolv.conf), not through its layers.
func mountedInContainer(p string) bool {
	return strings.HasPrefix(p, "/dev/") || p == "/etc/hosts" || p == "/etc/hostname" || p == "/etc/resolv.conf"
}
