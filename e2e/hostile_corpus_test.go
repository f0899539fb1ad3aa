package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
)

// The hostile corpus: copies of a store, each with one mutation an
// attacker (or a broken disk) could make, and every command run on each in
// both formats. Whatever the store holds, each run:
//   - ends (within corpusDeadline) with exit 0, 1 or 2, never a crash;
//   - stays under corpusRSS of peak memory (the child's rusage);
//   - writes no raw control byte (the one escaping rule);
//   - shows nothing of what a symlink points to outside the root (a
//     planted marker never appears in any output);
//   - changes nothing under the root (every entry's lstat, before and
//     after, is the same);
//
// and the case's own check holds (the finding names the object).
const (
	corpusRSS      = 128 << 20
	corpusDeadline = 60 * time.Second
	// marker is planted outside the root only; no output may show it.
	marker = "PLANTED-MARKER"
)

// facts are what the mutations need to know of a store.
type facts struct {
	root      string
	cid, name string // a container with a mount record
	mountID   string
	chain     string // a layerdb entry with a tar-split file
	cacheID   string
	image     string // a tag
	layerPath string // a file below the container's upper dir, rel to root
}

// mutation changes a copy of the store; outside is a dir outside the root
// holding planted files. check, when set, checks the outputs of the runs.
type mutation struct {
	name  string
	do    func(t *testing.T, f facts, outside string)
	check func(t *testing.T, f facts, runs []corpusRun)
}

// corpusRun is one command's result.
type corpusRun struct {
	cmd, format    string // the command's name, the output format
	args           []string
	stdout, stderr string
	code           int
	rss            int64
}

func TestHostileCorpus(t *testing.T) {
	t.Run("fixture", func(t *testing.T) {
		engine.NeedRoot(t, "cp -a of the fixture store must read its work/work dirs (mode 0), and the mutations chown")
		b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
		runCorpus(t, b.Root)
	})
	t.Run("engine", func(t *testing.T) {
		e := engine.ForTest(t, "")
		e2eScenario(t, e)
		if err := e.Stop(); err != nil {
			t.Fatal(err)
		}
		runCorpus(t, e.Root())
	})
}

func runCorpus(t *testing.T, src string) {
	pristine := filepath.Join(t.TempDir(), "pristine")
	cpA(t, src, pristine)
	f0 := readFacts(t, pristine)
	for _, m := range mutations() {
		t.Run(m.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "root")
			cpA(t, pristine, root)
			f := f0
			f.root = root
			outside := filepath.Join(t.TempDir(), "outside")
			must(t, os.MkdirAll(outside, 0o755))
			plant(t, outside)
			m.do(t, f, outside)
			before := snapshot(t, root)
			runs := runEvery(t, f)
			if after := snapshot(t, root); after != before {
				t.Errorf("something under the root changed:\n%s", firstDiff(before, after))
			}
			for _, r := range runs {
				checkRun(t, r)
			}
			if m.check != nil {
				m.check(t, f, runs)
			}
		})
	}
}

// runEvery runs every command on f's root, in both formats.
func runEvery(t *testing.T, f facts) []corpusRun {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "mountinfo")
	must(t, os.WriteFile(empty, nil, 0o644))
	cmds := [][]string{
		{"ps"}, {"images"}, {"layers", f.image}, {"explain", f.name}, {"diff", f.name},
		// a copy does not change: re-read at once (--settle 0)
		{"du"}, {"verify", "--settle", "0"}, {"verify", "--quick", "--settle", "0"}, {"--mountinfo", empty, "mounts", "--settle", "0"},
		{"whose", f.layerPath}, {"whose", "overlay2/" + f.mountID},
	}
	var out []corpusRun
	for _, format := range []string{"table", "json"} {
		for _, c := range cmds {
			args := append([]string{"--root", f.root, "--mountinfo", "none", "--daemon", "off", "--format", format}, c...)
			r := runBounded(t, args)
			r.cmd, r.format = c[0], format
			if c[0] == "--mountinfo" {
				r.cmd = c[2]
			}
			out = append(out, r)
		}
	}
	// report: its HTML file (outside the root) is checked as output is
	page := filepath.Join(t.TempDir(), "report.html")
	r := runBounded(t, []string{"--root", f.root, "--mountinfo", "none", "--daemon", "off", "--format", "table", "report", "--html", page, "--settle", "0", f.name})
	r.cmd, r.format = "report", "html"
	if b, err := os.ReadFile(page); err == nil {
		r.stdout += string(b)
	} else if r.code == 0 {
		t.Errorf("report exit 0 and no %s: %v", page, err)
	}
	out = append(out, r)
	// export: its tar holds the names as they are (a tar may); its
	// stdout and stderr are checked as every command's
	x := runBounded(t, []string{"--root", f.root, "--mountinfo", "none", "--daemon", "off", "--format", "table", "export", f.name, "-o", filepath.Join(t.TempDir(), "c.tar")})
	x.cmd, x.format = "export", "table"
	return append(out, x)
}

// runBounded runs dlayer with args, killing it at corpusDeadline.
//
// Its peak RSS: the kernel's rusage is an upper bound only, because
// execve keeps the high-water mark of the mm it replaces, and Go starts a
// child with vfork (CLONE_VM), so that mm is this test process's own (a
// race-built test binary holds more than the bound). When rusage is over
// the bound, the child's own VmHWM (per mm, so it starts afresh at exec),
// sampled every millisecond until it exits, is the measure.
func runBounded(t *testing.T, args []string) corpusRun {
	t.Helper()
	var o, e bytes.Buffer
	cmd := &exec.Cmd{Path: plainBin, Args: append([]string{"dlayer"}, args...), Stdout: &o, Stderr: &e}
	must(t, cmd.Start())
	timer := time.AfterFunc(corpusDeadline, func() { cmd.Process.Kill() })
	hwm := make(chan int64, 1)
	done := make(chan struct{})
	go func() { hwm <- sampleHWM(cmd.Process.Pid, done) }()
	err := cmd.Wait()
	close(done)
	timer.Stop()
	r := corpusRun{args: args, stdout: o.String(), stderr: e.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%v: %v", args, err)
	}
	sampled := <-hwm
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rss = ru.Maxrss * 1024
	}
	if r.rss > corpusRSS {
		r.rss = sampled
	}
	return r
}

// sampleHWM reads /proc/pid/status's VmHWM until done, and returns the
// largest seen, in bytes.
func sampleHWM(pid int, done <-chan struct{}) int64 {
	p := fmt.Sprintf("/proc/%d/status", pid)
	var peak int64
	for {
		if b, err := os.ReadFile(p); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
					var kb int64
					fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
					peak = max(peak, kb*1024)
				}
			}
		}
		select {
		case <-done:
			return peak
		case <-time.After(time.Millisecond):
		}
	}
}

func checkRun(t *testing.T, r corpusRun) {
	t.Helper()
	cmd, format := strings.Join(r.args[8:], " "), r.format
	if r.code < 0 || r.code > 2 || strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic:") {
		t.Errorf("%s (%s): exit %d (a crash, or killed at the deadline)\n%.3000s", cmd, format, r.code, r.stderr)
	}
	if r.rss > corpusRSS {
		t.Errorf("%s (%s): peak RSS %d MiB, over %d MiB", cmd, format, r.rss>>20, corpusRSS>>20)
	}
	for name, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
		if i := strings.IndexFunc(s, func(c rune) bool { return c < 0x20 && c != '\n' || c == 0x7f }); i >= 0 {
			t.Errorf("%s (%s): raw control byte %q in %s: %q", cmd, format, s[i], name, around(s, i))
		}
		if strings.Contains(s, marker) {
			t.Errorf("%s (%s): %s shows what is planted outside the root: %q", cmd, format, name, around(s, strings.Index(s, marker)))
		}
	}
}

func around(s string, i int) string {
	return s[max(0, i-80):min(len(s), i+80)]
}

// wants checks that some run of the commands named (by their first word)
// says all of the texts, on stdout or stderr.
func wants(cmd string, texts ...func(f facts) string) func(t *testing.T, f facts, runs []corpusRun) {
	return func(t *testing.T, f facts, runs []corpusRun) {
		t.Helper()
		for _, r := range runs {
			if r.cmd != cmd {
				continue
			}
			all := r.stdout + r.stderr
			ok := true
			for _, x := range texts {
				ok = ok && strings.Contains(all, x(f))
			}
			if ok {
				return
			}
		}
		var want []string
		for _, x := range texts {
			want = append(want, x(f))
		}
		t.Errorf("no %s run says %q", cmd, want)
	}
}

func lit(s string) func(facts) string { return func(facts) string { return s } }

func mutations() []mutation {
	rel := func(f facts, p ...string) string { return filepath.Join(append([]string{f.root}, p...)...) }
	layerdb := func(f facts, p ...string) string {
		return rel(f, append([]string{"image", "overlay2", "layerdb"}, p...)...)
	}
	symlinkOut := func(p func(f facts) string) func(t *testing.T, f facts, outside string) {
		return func(t *testing.T, f facts, outside string) {
			target := p(f)
			must(t, os.RemoveAll(target))
			must(t, os.Symlink(outside, target))
		}
	}
	fifoAt := func(p func(f facts) string) func(t *testing.T, f facts, outside string) {
		return func(t *testing.T, f facts, _ string) {
			target := p(f)
			must(t, os.Remove(target))
			must(t, syscall.Mkfifo(target, 0o644))
		}
	}
	tarSplit := func(f facts) string { return layerdb(f, "sha256", f.chain, "tar-split.json.gz") }
	return []mutation{
		{name: "tar-split whitespace bomb", do: func(t *testing.T, f facts, _ string) {
			writeGz(t, tarSplit(f), strings.NewReader(`{"type":2,"payload":"AA==","position":0}`+"\n"), repeatN(" ", 1<<30))
		}, check: wants("verify", lit("tar-split stream too large"), func(f facts) string { return f.chain[:12] })},
		{name: "tar-split one long string", do: func(t *testing.T, f facts, _ string) {
			writeGz(t, tarSplit(f), strings.NewReader(`{"type":2,"payload":"`), repeatN("A", 1<<30))
		}, check: wants("verify", lit("tar-split stream too large"))},
		{name: "config.v2.json of 200 MB", do: func(t *testing.T, f facts, _ string) {
			p := rel(f, "containers", f.cid, "config.v2.json")
			must(t, os.Truncate(p, 200<<20))
		}, check: wants("ps", func(f facts) string { return f.cid })},
		{name: "config.v2.json is a FIFO", do: fifoAt(func(f facts) string { return rel(f, "containers", f.cid, "config.v2.json") }),
			check: wants("ps", lit("not a regular file"))},
		{name: "cache-id is a FIFO", do: fifoAt(func(f facts) string { return layerdb(f, "sha256", f.chain, "cache-id") }),
			check: wants("verify", lit("not a regular file"))},
		{name: "repositories.json is a FIFO", do: fifoAt(func(f facts) string { return rel(f, "image", "overlay2", "repositories.json") })},
		{name: "containers/<id> is a symlink out", do: symlinkOut(func(f facts) string { return rel(f, "containers", f.cid) }),
			check: wants("ps", lit("a symlink where the store has a directory"))},
		{name: "containers/ is a symlink out", do: symlinkOut(func(f facts) string { return rel(f, "containers") })},
		{name: "imagedb is a symlink out", do: symlinkOut(func(f facts) string { return rel(f, "image", "overlay2", "imagedb") })},
		{name: "layerdb entry is a symlink out", do: symlinkOut(func(f facts) string { return layerdb(f, "sha256", f.chain) }),
			check: wants("verify", lit("symlink to"), lit("never followed"))},
		{name: "mount record is a symlink out", do: symlinkOut(func(f facts) string { return layerdb(f, "mounts", f.cid) })},
		{name: "rw layer dir is a symlink out", do: symlinkOut(func(f facts) string { return rel(f, "overlay2", f.mountID) }),
			check: wants("verify", func(f facts) string { return f.mountID[:12] })},
		{name: "upper dir is a symlink out", do: symlinkOut(func(f facts) string { return rel(f, "overlay2", f.mountID, "diff") }),
			check: wants("verify", lit("symlink to"))},
		{name: "l/ is a symlink out", do: symlinkOut(func(f facts) string { return rel(f, "overlay2", "l") })},
		{name: "control bytes in a container name", do: func(t *testing.T, f facts, _ string) {
			editJSON(t, rel(f, "containers", f.cid, "config.v2.json"), func(m map[string]any) { m["Name"] = "/evil\x1b]0;owned\x07\x1b[2J" })
		}},
		{name: "control bytes in a file name", do: func(t *testing.T, f facts, _ string) {
			must(t, os.WriteFile(rel(f, "overlay2", f.mountID, "diff", "esc\x1b[31mred\x07\r"), []byte("x"), 0o644))
		}},
		{name: "shell in a file name", do: func(t *testing.T, f facts, _ string) {
			must(t, os.WriteFile(rel(f, "overlay2", f.mountID, "diff", "x; rm -rf ~ #"), []byte("x"), 0o644))
		}},
		{name: "control bytes in a tag", do: func(t *testing.T, f facts, _ string) {
			editJSON(t, rel(f, "image", "overlay2", "repositories.json"), func(m map[string]any) {
				repos := m["Repositories"].(map[string]any)
				for name, refs := range repos {
					for ref, id := range refs.(map[string]any) {
						repos["evil\x1b[5m"] = map[string]any{"evil\x1b[5m:" + strings.TrimPrefix(ref, name+":"): id}
						return
					}
				}
			})
		}},
		{name: "garbage cache-id", do: func(t *testing.T, f facts, _ string) {
			must(t, os.WriteFile(layerdb(f, "sha256", f.chain, "cache-id"), []byte("../../../../etc\x1b"), 0o644))
		}, check: func(t *testing.T, f facts, runs []corpusRun) {
			for _, r := range runs {
				if r.cmd != "du" || r.format != "json" {
					continue
				}
				var du struct {
					Summary struct {
						Reclaimable struct {
							DiskUsage int64 `json:"disk_usage"`
						} `json:"reclaimable"`
						Orphans struct {
							Count int `json:"count"`
						} `json:"orphans"`
					} `json:"summary"`
				}
				if err := json.Unmarshal([]byte(r.stdout), &du); err != nil {
					t.Fatalf("du --format json: %v", err)
				}
				if du.Summary.Orphans.Count != 0 || !strings.Contains(r.stdout, "layer_dir_unaccounted") {
					t.Errorf("du calls the in-use layer dir %s an orphan, or does not say why it is unaccounted:\n%.3000s", f.cacheID[:12], r.stdout)
				}
			}
		}},
		{name: "two containers claim one mount-id", do: func(t *testing.T, f facts, _ string) {
			ents, err := os.ReadDir(layerdb(f, "mounts"))
			must(t, err)
			for _, e := range ents {
				if e.Name() != f.cid {
					must(t, os.WriteFile(layerdb(f, "mounts", e.Name(), "mount-id"), []byte(f.mountID), 0o644))
					return
				}
			}
			t.Skip("one container only")
		}, check: wants("verify", lit("layer_dir_claimed_twice"))},
		{name: "deeply nested image config", do: func(t *testing.T, f facts, _ string) {
			dir := rel(f, "image", "overlay2", "imagedb", "content", "sha256")
			ents, err := os.ReadDir(dir)
			must(t, err)
			must(t, os.WriteFile(filepath.Join(dir, ents[0].Name()), []byte(strings.Repeat("[", 1<<20)), 0o644))
		}, check: wants("verify", lit("image_id_mismatch"))},
	}
}

// plant fills outside with files that name the marker, in names and in
// contents, in every form a store's metadata takes.
func plant(t *testing.T, outside string) {
	t.Helper()
	cfg := fmt.Sprintf(`{"ID":"%s","Name":"/%s","Image":"sha256:%s","Driver":"overlay2","State":{}}`, strings.Repeat("e", 64), marker, strings.Repeat("e", 64))
	for _, p := range []string{"config.v2.json", "mount-id", "init-id", "cache-id", "parent", "link", "lower", marker} {
		must(t, os.WriteFile(filepath.Join(outside, p), []byte(marker), 0o644))
	}
	must(t, os.WriteFile(filepath.Join(outside, "config.v2.json"), []byte(cfg), 0o644))
	for _, d := range []string{strings.Repeat("e", 64), "diff/" + marker, "content/sha256", "sha256"} {
		must(t, os.MkdirAll(filepath.Join(outside, d), 0o755))
	}
	must(t, os.WriteFile(filepath.Join(outside, "diff", marker+".txt"), []byte(marker), 0o644))
	must(t, os.WriteFile(filepath.Join(outside, strings.Repeat("e", 64), "config.v2.json"), []byte(cfg), 0o644))
	must(t, os.Symlink("../"+marker+"/diff", filepath.Join(outside, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
}

// readFacts finds what the mutations need in a store.
func readFacts(t *testing.T, root string) facts {
	t.Helper()
	f := facts{root: root}
	mounts := filepath.Join(root, "image", "overlay2", "layerdb", "mounts")
	ents, err := os.ReadDir(mounts)
	must(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(root, "containers", e.Name(), "config.v2.json"))
		if err != nil {
			continue
		}
		var c struct{ Name string }
		must(t, json.Unmarshal(b, &c))
		mid, err := os.ReadFile(filepath.Join(mounts, e.Name(), "mount-id"))
		must(t, err)
		file := firstFile(root, filepath.Join(root, "overlay2", strings.TrimSpace(string(mid)), "diff"))
		if file == "" {
			continue // nothing in its upper dir for whose to ask about
		}
		f.cid, f.name, f.mountID, f.layerPath = e.Name(), strings.TrimPrefix(c.Name, "/"), strings.TrimSpace(string(mid)), file
		break
	}
	var best int64 = -1
	sha := filepath.Join(root, "image", "overlay2", "layerdb", "sha256")
	ents, err = os.ReadDir(sha)
	must(t, err)
	for _, e := range ents {
		fi, err := os.Stat(filepath.Join(sha, e.Name(), "tar-split.json.gz"))
		if err == nil && fi.Size() > best {
			best, f.chain = fi.Size(), e.Name()
		}
	}
	cid, err := os.ReadFile(filepath.Join(sha, f.chain, "cache-id"))
	must(t, err)
	f.cacheID = strings.TrimSpace(string(cid))
	var repos struct{ Repositories map[string]map[string]string }
	b, err := os.ReadFile(filepath.Join(root, "image", "overlay2", "repositories.json"))
	must(t, err)
	must(t, json.Unmarshal(b, &repos))
	var refs []string
	for _, m := range repos.Repositories {
		for ref := range m {
			refs = append(refs, ref)
		}
	}
	sort.Strings(refs)
	f.image = refs[0]
	if f.cid == "" || f.chain == "" || f.layerPath == "" {
		t.Fatalf("the store lacks what the corpus needs: %+v", f)
	}
	return f
}

// firstFile is the first regular file below dir, relative to root; "" if
// none.
func firstFile(root, dir string) string {
	var out string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && out == "" {
			out, _ = filepath.Rel(root, p)
		}
		return nil
	})
	return out
}

// snapshot is every entry under root with its lstat: type, mode, owner,
// size, mtime and ctime (any write, chmod, chown or xattr change moves
// ctime).
func snapshot(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		fmt.Fprintf(&b, "%q %o %d:%d %d %d.%d %d.%d\n", p, st.Mode, st.Uid, st.Gid, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
		return nil
	})
	must(t, err)
	return b.String()
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < min(len(al), len(bl)); i++ {
		if al[i] != bl[i] {
			return "before: " + al[i] + "\nafter:  " + bl[i]
		}
	}
	return fmt.Sprintf("%d entries before, %d after", len(al), len(bl))
}

func cpA(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", src, dst, err, out)
	}
}

// writeGz replaces p (a regular file, never followed) with the gzip of
// what the readers yield, streamed.
func writeGz(t *testing.T, p string, rs ...io.Reader) {
	t.Helper()
	must(t, os.Remove(p))
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	must(t, err)
	w, err := gzip.NewWriterLevel(out, gzip.DefaultCompression)
	must(t, err)
	_, err = io.Copy(w, io.MultiReader(rs...))
	must(t, err)
	must(t, w.Close())
	must(t, out.Close())
}

// repeatN yields s n times without holding them.
func repeatN(s string, n int64) io.Reader {
	buf := bytes.Repeat([]byte(s), 1<<16/len(s))
	return io.LimitReader(&loop{b: buf}, int64(len(s))*n)
}

type loop struct{ b []byte }

func (l *loop) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], l.b)
	}
	return n, nil
}

// editJSON rewrites the JSON object in p (a regular file, never
// followed).
func editJSON(t *testing.T, p string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(p)
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	edit(m)
	b, err = json.Marshal(m)
	must(t, err)
	must(t, os.Remove(p))
	must(t, os.WriteFile(p, b, 0o644))
}
