package mounts

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/mountinfo"
	"github.com/dlayer/dlayer/overlay2"
)

// spacedStore builds the demo store under a data root whose path has a
// space, so every mountinfo line about it carries the kernel's \040.
func spacedStore(t *testing.T) (*inspect.Store, *fixtures.Built) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "docker data")
	b, err := fixtures.Demo().Build(dir, fixtures.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, _ error) error {
			if d != nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	s, err := inspect.Open(b.Root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

// kesc escapes a path as the kernel writes it in mountinfo.
func kesc(p string) string {
	return strings.NewReplacer(`\`, `\134`, " ", `\040`, "\t", `\011`, "\n", `\012`).Replace(p)
}

// miLine is one mountinfo line for an overlay mount.
func miLine(id int, dev, mp, optional, opts string) string {
	if optional != "" {
		optional += " "
	}
	return fmt.Sprintf("%d 27 0:%s / %s rw,relatime %s- overlay overlay %s", id, dev, kesc(mp), optional, opts)
}

// overlayOpts renders overlay super options, escaped as the kernel does.
func overlayOpts(lower []string, upper, work string) string {
	esc := func(p string) string {
		return strings.NewReplacer(`\`, `\134\134`, ",", `\134\054`, " ", `\040`).Replace(p)
	}
	var ls []string
	for _, l := range lower {
		ls = append(ls, esc(l))
	}
	return "rw,lowerdir=" + strings.Join(ls, ":") + ",upperdir=" + esc(upper) + ",workdir=" + esc(work)
}

// table parses lines into a mount table.
func table(t *testing.T, path, ns string, lines ...string) mountinfo.Table {
	t.Helper()
	ms, err := mountinfo.Parse(strings.NewReader(strings.Join(lines, "\n") + "\n"))
	return mountinfo.Table{Path: path, Namespace: ns, Mounts: ms, Err: err}
}

// absLowers is a layer's lower file made absolute, as Docker mounts it.
func absLowers(t *testing.T, s *inspect.Store, id string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(overlay2.Home{Dir: s.Home()}.Dir, id, "lower"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), ":") {
		out = append(out, filepath.Join(overlay2.Home{Dir: s.Home()}.Dir, l))
	}
	return out
}

func mountAt(r *Report, mp string) *Mount {
	for i := range r.Mounts {
		if r.Mounts[i].MountPoint == mp {
			return &r.Mounts[i]
		}
	}
	return nil
}

func kinds(fs []inspect.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Kind.String())
	}
	slices.Sort(out)
	return out
}

// A healthy host: the running container is mounted, seen in two mount
// namespaces (one mount, two sightings); nothing else of the store is.
func TestMountsHealthy(t *testing.T) {
	s, b := spacedStore(t)
	web := b.Container("web")
	d := overlay2.Home{Dir: s.Home()}.Dirs(web.MountID)
	line := miLine(49, "39", d.Merged, "shared:2", overlayOpts(absLowers(t, s, web.MountID), d.Diff, d.Work))
	host := table(t, "/proc/self/mountinfo", "mnt:[1]",
		"27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
		miLine(60, "70", "/elsewhere/merged", "", "rw,lowerdir=/a:/b,upperdir=/u,workdir=/w"),
		fmt.Sprintf("61 27 0:71 / %s rw - tmpfs shm rw", kesc(s.Path("containers", web.ID, "mounts", "shm"))),
		line)
	daemon := table(t, "/proc/812/mountinfo", "mnt:[2]", strings.Replace(strings.Replace(line, "49 27", "1203 1190", 1), "shared:2", "master:2", 1))
	r, err := Map(s, Options{Tables: []mountinfo.Table{host, daemon}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 0 || len(r.Warnings) != 0 || len(r.Mounts) != 1 || len(r.Tables) != 2 {
		t.Fatalf("findings %+v warnings %+v mounts %+v", r.Findings, r.Warnings, r.Mounts)
	}
	m := r.Mounts[0]
	want := []string{web.InitID}
	for i := len(b.Image("demo/app:2").Layers) - 1; i >= 0; i-- {
		want = append(want, b.Image("demo/app:2").Layers[i].CacheID)
	}
	switch {
	case m.MountPoint != d.Merged || !m.Merged || m.Driver != "overlay2" || m.LayerID != web.MountID:
		t.Errorf("placed wrong: %+v", m)
	case m.State != StateRunning || m.Container == nil || m.Container.ID != web.ID || m.Container.Name != "web" ||
		m.Container.Layer != "rw" || m.Container.Status != "running":
		t.Errorf("container: %+v %+v", m.State, m.Container)
	case m.UpperDir != d.Diff || m.WorkDir != d.Work || m.Relative:
		t.Errorf("dirs: %+v", m)
	case strings.Join(m.LowerLayers, " ") != strings.Join(want, " ") || strings.Join(m.StoreLowerLayers, " ") != strings.Join(want, " "):
		t.Errorf("lower layers %v, store %v, want %v", m.LowerLayers, m.StoreLowerLayers, want)
	case m.Propagation != "shared:2" || len(m.Seen) != 2 || m.Seen[1].Propagation != "master:2" || m.Seen[1].MountID != 1203:
		t.Errorf("sightings: %s %+v", m.Propagation, m.Seen)
	case strings.Join(m.Namespaces(), ",") != "mnt:[1],mnt:[2]":
		t.Errorf("namespaces %v", m.Namespaces())
	}
}

// Every problem at once, each found with its kind and mount.
func TestMountsProblems(t *testing.T) {
	s, b := spacedStore(t)
	batch, fresh, web := b.Container("batch"), b.Container("fresh"), b.Container("web")
	home := overlay2.Home{Dir: s.Home()}.Dir
	bd, fd := overlay2.Home{Dir: s.Home()}.Dirs(batch.MountID), overlay2.Home{Dir: s.Home()}.Dirs(fresh.MountID)
	var rel []string // batch, Docker's relative form
	for _, l := range absLowers(t, s, batch.MountID) {
		rel = append(rel, strings.TrimPrefix(l, home+"/"))
	}
	base := b.Image("demo/base:1").Layers[0]
	gone := strings.Repeat("ab", 32)
	lines := []string{
		// stopped container, relative options: leaked, lowers agree.
		miLine(50, "40", bd.Merged, "shared:3", "rw,lowerdir="+strings.Join(rel, ":")+",upperdir="+batch.MountID+"/diff,workdir="+batch.MountID+"/work"),
		// the same upper mounted a second time, outside the data root.
		miLine(51, "41", "/mnt/inspect batch", "", overlayOpts(absLowers(t, s, batch.MountID), bd.Diff, bd.Work)),
		// created container with the wrong lowers and a foreign upper.
		miLine(52, "42", fd.Merged, "", overlayOpts([]string{overlay2.Home{Dir: s.Home()}.Dirs(base.CacheID).Diff}, "/tmp/elsewhere/up", "/tmp/elsewhere/wk")),
		// a layer dir that no longer exists.
		miLine(53, "43", overlay2.Home{Dir: s.Home()}.Dirs(gone).Merged, "", overlayOpts([]string{filepath.Join(home, "l", base.Link)}, overlay2.Home{Dir: s.Home()}.Dirs(gone).Diff, overlay2.Home{Dir: s.Home()}.Dirs(gone).Work)),
		// an image layer mounted read-only as Docker's Get does (its own
		// diff uppermost): no container, lowers agree.
		miLine(54, "44", overlay2.Home{Dir: s.Home()}.Dirs(base.CacheID).Merged, "", "rw,lowerdir="+overlay2.Home{Dir: s.Home()}.Dirs(base.CacheID).Diff),
		// options that do not parse: listed by mount point, with a warning.
		miLine(55, "45", overlay2.Home{Dir: s.Home()}.Dirs(batch.InitID).Merged, "", "rw,lowerdir=:/x"),
		// a bad line.
		"56 27 0:46 / /x rw",
	}
	r, err := Map(s, Options{Tables: []mountinfo.Table{table(t, "mi", "", lines...)}})
	if err != nil {
		t.Fatal(err)
	}
	var wantKinds []string
	for _, k := range []Problem{Leaked, Leaked, Leaked, Leaked, Leaked, LowerMismatch, UpperMismatch, Missing, UpperShared} {
		wantKinds = append(wantKinds, k.String())
	}
	slices.Sort(wantKinds)
	if got := kinds(r.Findings); !slices.Equal(got, wantKinds) {
		t.Errorf("findings %v\nwant %v\n%+v", got, wantKinds, r.Findings)
	}
	if got := kinds(r.Warnings); !slices.Equal(got, []string{"mount_options_malformed", "mountinfo_malformed"}) {
		t.Errorf("warnings %+v", r.Warnings)
	}
	for _, w := range r.Warnings {
		if w.Path != "mi:6" && w.Path != "mi:7" {
			t.Errorf("warning %+v should name mi:6 or mi:7", w)
		}
	}
	check := func(mp string, state State, container, layer string, problems ...Problem) {
		t.Helper()
		m := mountAt(r, mp)
		if m == nil {
			t.Errorf("no mount at %s", mp)
			return
		}
		gotC := ""
		if m.Container != nil {
			gotC = m.Container.Name + "/" + m.Container.Layer.String()
		}
		slices.Sort(problems)
		got := slices.Clone(m.Problems)
		slices.Sort(got)
		if m.State != state || gotC != container || m.LayerID != layer || !slices.Equal(got, problems) {
			t.Errorf("%s: state %s container %q layer %s problems %v; want %s %q %s %v",
				mp, m.State, gotC, m.LayerID, m.Problems, state, container, layer, problems)
		}
	}
	check(bd.Merged, StateStopped, "batch/rw", batch.MountID, Leaked, UpperShared)
	check("/mnt/inspect batch", StateStopped, "batch/rw", batch.MountID, UpperShared)
	check(fd.Merged, StateCreated, "fresh/rw", fresh.MountID, Leaked, LowerMismatch, UpperMismatch)
	check(overlay2.Home{Dir: s.Home()}.Dirs(gone).Merged, StateRemoved, "", gone, Leaked)
	check(overlay2.Home{Dir: s.Home()}.Dirs(base.CacheID).Merged, StateUnknown, "", base.CacheID, Leaked)
	check(overlay2.Home{Dir: s.Home()}.Dirs(batch.InitID).Merged, StateStopped, "batch/init", batch.InitID, Leaked)

	if m := mountAt(r, bd.Merged); !m.Relative || m.UpperDir != bd.Diff || strings.Join(m.LowerLayers, ":") != strings.Join(m.StoreLowerLayers, ":") {
		t.Errorf("relative mount not resolved against the driver home: %+v", m)
	}
	if m := mountAt(r, overlay2.Home{Dir: s.Home()}.Dirs(gone).Merged); m.StoreLowerLayers != nil || m.LowerLayers[0] != base.CacheID {
		t.Errorf("removed layer: %+v", m)
	}
	for _, f := range r.Findings {
		if f.Kind.String() == Missing.String() && (f.Path != overlay2.Home{Dir: s.Home()}.Dirs(web.MountID).Merged || !strings.Contains(f.Message, "web")) {
			t.Errorf("missing mount finding %+v", f)
		}
		if f.Kind.String() == Leaked.String() && f.Path == bd.Merged && !strings.Contains(f.Message, "batch") {
			t.Errorf("leak message %q", f.Message)
		}
	}
	// Mounts are sorted by mount point; JSON has the documented fields.
	if !slices.IsSortedFunc(r.Mounts, func(a, b Mount) int { return strings.Compare(a.MountPoint, b.MountPoint) }) {
		t.Error("mounts not sorted")
	}
	js, _ := json.Marshal(r.Mounts[0])
	for _, k := range []string{`"mount_point"`, `"state"`, `"lower_layers"`, `"propagation"`, `"seen"`, `"merged"`} {
		if !strings.Contains(string(js), k) {
			t.Errorf("JSON lacks %s: %s", k, js)
		}
	}
}

// A container whose config is gone but whose mount record and mount stay.
func TestMountsRemovedContainer(t *testing.T) {
	s, b := spacedStore(t)
	batch := b.Container("batch")
	if err := os.RemoveAll(s.Path("containers", batch.ID)); err != nil {
		t.Fatal(err)
	}
	d := overlay2.Home{Dir: s.Home()}.Dirs(batch.MountID)
	r, err := Map(s, Options{Tables: []mountinfo.Table{table(t, "mi", "",
		miLine(50, "40", d.Merged, "", overlayOpts(absLowers(t, s, batch.MountID), d.Diff, d.Work)))}})
	if err != nil {
		t.Fatal(err)
	}
	m := r.Mounts[0]
	if m.State != StateRemoved || m.Container == nil || m.Container.ID != batch.ID || m.Container.Name != "" {
		t.Errorf("got %s %+v", m.State, m.Container)
	}
	// No table read at all: a running container cannot be called missing.
	r, _ = Map(s, Options{Tables: []mountinfo.Table{{Path: "x", Err: os.ErrPermission}}})
	if len(r.Findings) != 0 || len(r.Warnings) != 1 || r.Warnings[0].Kind != "mountinfo_unreadable" {
		t.Errorf("unread table: %+v %+v", r.Findings, r.Warnings)
	}
}

// A data root reached through a symlink: the kernel shows the resolved
// path, and the mount is still the store's.
func TestMountsSymlinkedRoot(t *testing.T) {
	s, b := spacedStore(t)
	link := filepath.Join(t.TempDir(), "docker")
	if err := os.Symlink(s.Root, link); err != nil {
		t.Fatal(err)
	}
	ls, err := inspect.Open(link, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	web := b.Container("web")
	d := overlay2.Home{Dir: s.Home()}.Dirs(web.MountID)
	r, err := Map(ls, Options{Tables: []mountinfo.Table{table(t, "mi", "",
		miLine(49, "39", d.Merged, "", overlayOpts(absLowers(t, s, web.MountID), d.Diff, d.Work)))}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Mounts) != 1 || r.Mounts[0].State != StateRunning || len(r.Findings) != 0 {
		t.Errorf("mounts %+v findings %+v", r.Mounts, r.Findings)
	}
}
