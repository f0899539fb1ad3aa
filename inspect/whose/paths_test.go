package whose

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

// TestWhoseMetadata: files of layerdb, imagedb and containers/ say what
// they belong to.
func TestWhoseMetadata(t *testing.T) {
	_, b, ask := whoseDemo(t)
	web, batch := b.Container("web"), b.Container("batch")
	base := b.Image("demo/base:1")
	chain := base.Layers[1].ChainID
	for _, tc := range []struct {
		arg    string
		kind   PathKind
		owner  OwnerKind
		name   string
		safe   Safe
		reason string
	}{
		{"image/overlay2/layerdb/sha256/" + chain.Encoded() + "/cache-id", PathLayerRecord, OwnerImageLayer, "cache-id", SafeNo, "layerdb record of image layer"},
		{"image/overlay2/layerdb/sha256/" + chain.Encoded(), PathLayerRecord, OwnerImageLayer, "", SafeNo, "layer 2 of 3 of demo/base:1"},
		{"image/overlay2/layerdb/mounts/" + web.ID + "/mount-id", PathMountRecord, OwnerRWLayer, "mount-id", SafeNo, "layerdb record of the writable layer of container web"},
		{"image/overlay2/imagedb/content/sha256/" + base.ID.Encoded(), PathImageConfig, OwnerImage, "", SafeNo, "used by 1 container (batch), parent of 1 image"},
		{"image/overlay2/repositories.json", PathRepositories, OwnerDocker, "repositories.json", SafeNo, "untags"},
		{"containers/" + web.ID + "/hostconfig.json", PathContainerFile, OwnerContainer, "hostconfig.json", SafeNo, "configuration of container web"},
		{"containers/" + web.ID + "/" + web.ID + "-json.log", PathContainerFile, OwnerContainer, web.ID + "-json.log", SafeCaution, "json-file log"},
		{"containers/" + web.ID + "/hosts", PathContainerFile, OwnerContainer, "hosts", SafeNo, "/etc/hosts"},
		{"containers/" + batch.ID, PathContainerDir, OwnerContainer, "", SafeNo, "batch (exited)"},
		{"containers", PathContainers, OwnerDocker, "", SafeNo, ""},
		{"image/overlay2/layerdb/tmp", PathLayerdbTmp, OwnerDocker, "", SafeCaution, "daemon is stopped"},
		{"tmp", PathOther, OwnerDocker, "", SafeCaution, "daemon is stopped"},
	} {
		a := ask(tc.arg)
		if a.Kind != tc.kind || a.Owner.Kind != tc.owner || a.Name != tc.name || a.Verdict.Safe != tc.safe || !strings.Contains(a.Verdict.Reason, tc.reason) {
			t.Errorf("%s: kind %s owner %s name %q verdict %+v", tc.arg, a.Kind, a.Owner.Kind, a.Name, a.Verdict)
		}
	}
	a := ask("image/overlay2/layerdb/sha256/" + chain.Encoded())
	if a.LayerDir != base.Layers[1].CacheID || a.Owner.Layer.ChainID != chain {
		t.Errorf("layer record: %s %+v", a.LayerDir, a.Owner.Layer)
	}
	a = ask("image/overlay2/layerdb/mounts/" + web.ID)
	if a.LayerDir != web.MountID || a.Owner.Container.InitID != web.InitID {
		t.Errorf("mount record: %s %+v", a.LayerDir, a.Owner.Container)
	}
	a = ask("image/overlay2/imagedb/content/sha256/" + base.ID.Encoded())
	if im := a.Owner.Image; im == nil || im.Layers != 3 || im.Children != 1 || strings.Join(im.Tags, ",") != "demo/base:1,demo/base:latest" {
		t.Errorf("image: %+v", a.Owner.Image)
	}
}

// TestWhoseOrphans: dirs nothing owns, build cache, and what makes an
// orphan's verdict cautious.
func TestWhoseOrphans(t *testing.T) {
	s, b, ask := whoseDemo(t)
	web := b.Container("web")
	orphan := strings.Repeat("0f", 32)
	whoseWriteFile(t, s.Path("overlay2", orphan, "diff", "a"), strings.Repeat("x", 1234))
	whoseWriteFile(t, s.Path("overlay2", orphan, "link"), "ORPHANLINKORPHANLINKORPHAN")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(s.Path("overlay2", orphan), old, old); err != nil {
		t.Fatal(err)
	}
	a := ask("overlay2/" + orphan)
	if a.Owner.Kind != OwnerOrphan || !strings.Contains(a.Owner.Why, "no layerdb layer") || a.Usage == nil || a.Usage.Size != 1234+26 {
		t.Fatalf("orphan: %+v usage %+v", a.Owner, a.Usage)
	}
	if a.Verdict.Safe != SafeYes || !strings.Contains(a.Verdict.Reason, fmt.Sprintf("frees %d bytes (%d allocated)", a.Usage.Size, a.Usage.DiskUsage)) {
		t.Errorf("orphan verdict %+v", a.Verdict)
	}
	out, err := exec.Command("du", "-sxB1", s.Path("overlay2", orphan)).Output()
	if err != nil {
		t.Fatal(err)
	}
	if du := strings.Fields(string(out))[0]; fmt.Sprint(a.Usage.DiskUsage) != du {
		t.Errorf("orphan disk usage %d, du -sxB1 says %s", a.Usage.DiskUsage, du)
	}
	// a file inside an orphan is an orphan too
	if a := ask("overlay2/" + orphan + "/diff/a"); a.Owner.Kind != OwnerOrphan || a.Verdict.Safe != SafeYes || a.Usage.Size != 1234 {
		t.Errorf("file of an orphan: %+v %+v", a.Owner, a.Verdict)
	}
	// build cache is not an orphan: BuildKit's snapshots.db names it (read
	// while the db is locked, as a live daemon holds it)
	snapshots := s.Path("buildkit", "snapshots.db")
	db, err := fixtures.SnapshotsDB(snapshots, string(b.Image("demo/base:1").Layers[0].ChainID), orphan)
	if err != nil {
		t.Fatal(err)
	}
	a = ask("overlay2/" + orphan)
	db.Close()
	if a.Owner.Kind != OwnerBuildCache || a.Verdict.Safe != SafeNo || a.Verdict.Instead != "docker builder prune" {
		t.Errorf("build cache: %+v %+v", a.Owner, a.Verdict)
	}
	if err := os.RemoveAll(snapshots); err != nil {
		t.Fatal(err)
	}
	// doubts: an unreadable snapshots.db, one that is not a file, a live
	// mount, a recent change
	for _, tc := range []struct {
		name  string
		setup func() // makes the doubt; undone after the case
		opt   Options
		doubt string
	}{
		{"buildkit error", func() { whoseWriteFile(t, snapshots, "not a bolt file") }, Options{}, "may be build cache"},
		{"buildkit not a file", func() { os.MkdirAll(snapshots, 0o700) }, Options{}, "may be build cache"},
		{"live mount", func() {}, Options{MountsKnown: true, Mounts: []inspect.LiveMount{{MountPoint: "/x/merged", LowerDirs: []string{s.Path("overlay2", orphan, "diff")}}}}, "live mount uses it: /x/merged"},
		{"changed just now", func() { now := time.Now(); os.Chtimes(s.Path("overlay2", orphan), now, now) }, Options{}, "may be creating it"},
	} {
		name := tc.name
		tc.setup()
		a := ask("overlay2/"+orphan, tc.opt)
		os.RemoveAll(snapshots)
		os.Chtimes(s.Path("overlay2", orphan), old, old)
		if a.Owner.Kind != OwnerOrphan || a.Verdict.Safe != SafeCaution || !strings.Contains(a.Verdict.Reason, tc.doubt) {
			t.Errorf("%s: %+v", name, a.Verdict)
		}
		if strings.HasPrefix(name, "buildkit") && !hasWhoseFinding(a, "buildkit_unreadable") {
			t.Errorf("%s: findings %+v", name, a.Findings)
		}
	}
	// a stray -init dir of an existing container, a -removing leftover
	whoseWriteFile(t, s.Path("overlay2", web.MountID+"x-init", "diff", "f"), "f")
	whoseWriteFile(t, s.Path("overlay2", orphan+"-removing", "diff", "f"), "f")
	for dir, why := range map[string]string{web.MountID + "x-init": "init layer of a container that no longer exists", orphan + "-removing": "interrupted removal"} {
		if a := ask("overlay2/" + dir); a.Owner.Kind != OwnerOrphan || !strings.Contains(a.Owner.Why, why) {
			t.Errorf("%s: %+v", dir, a.Owner)
		}
	}
	// a layer in use by a live mount says so
	base := b.Image("demo/base:1").Layers[0]
	a = ask("overlay2/"+base.CacheID, Options{MountsKnown: true, Mounts: []inspect.LiveMount{
		{MountPoint: "/m", LowerDirs: []string{s.Path("overlay2", "l", base.Link)}}, // as mountinfo has it
		{MountPoint: "/other", LowerDirs: []string{s.Path("overlay2", "l", b.Image("demo/base:1").Layers[1].Link)}},
	}})
	if strings.Join(a.Mounts, ",") != "/m" {
		t.Errorf("mounts %v", a.Mounts)
	}
	// an aufs dir left in an overlay2 store
	whoseWriteFile(t, s.Path("aufs", "diff", orphan, "f"), "f")
	if a := ask("aufs/diff/" + orphan + "/f"); a.Owner.Kind != OwnerOtherDriver || a.Kind != PathLayerEntry || a.Driver != "aufs" || a.Verdict.Safe != SafeCaution {
		t.Errorf("aufs leftover: %s %s %+v %+v", a.Kind, a.Driver, a.Owner, a.Verdict)
	}
}

func hasWhoseFinding(a *Answer, kind string) bool {
	for _, f := range a.Findings {
		if f.Kind.String() == kind {
			return true
		}
	}
	return false
}

func whoseWriteFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWhoseRefuses: paths outside the root, paths that name nothing, and
// symlinks inside the root, which are never followed.
func TestWhoseRefuses(t *testing.T) {
	s, b, ask := whoseDemo(t)
	root, _ := filepath.Abs(b.Root)
	for _, arg := range []string{"/etc/passwd", "../x", "overlay2/../../x", filepath.Dir(root), root + "x/overlay2"} {
		if _, err := Ask(s, arg, Options{}); !errors.Is(err, ErrOutsideRoot) {
			t.Errorf("%s: %v, want ErrOutsideRoot", arg, err)
		}
	}
	for _, arg := range []string{"nosuch", "overlay2/nosuch", "containers/nosuch", strings.Repeat("a", 64), ""} {
		if _, err := Ask(s, arg, Options{}); !errors.Is(err, inspect.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", arg, err)
		}
	}
	// a symlink in the data root pointing out of it is not followed
	if err := os.Symlink("/", s.Path("escape")); err != nil {
		t.Fatal(err)
	}
	if _, err := Ask(s, "escape/etc/passwd", Options{}); !errors.Is(err, inspect.ErrNotFound) {
		t.Errorf("through a symlink: %v", err)
	}
	// a symlink inside a layer is data: a path below it is not in the layer
	base := b.Image("demo/base:1").Layers[0]
	a := ask("overlay2/" + base.CacheID + "/diff/etc/os-release/x")
	if a.Exists || a.Entry == nil || a.Entry.Exists || !strings.Contains(a.Entry.Note, "symlink") || len(a.Notes) == 0 {
		t.Errorf("below a symlink: exists %v entry %+v notes %v", a.Exists, a.Entry, a.Notes)
	}
	a = ask("overlay2/" + base.CacheID + "/diff/etc/os-release")
	if a.Entry.Type != "symlink" || a.Entry.LinkTarget == "" {
		t.Errorf("symlink entry %+v", a.Entry)
	}
	// What the metadata names is answered even when it does not exist: the
	// merged dir of a stopped container, a layer whose dir is gone.
	batch := b.Container("batch")
	a = ask("overlay2/" + batch.MountID + "/merged/etc/group")
	if a.Exists || a.Owner.Kind != OwnerRWLayer || len(a.Views) != 1 || a.Views[0].Result != ViewFrom || len(a.Notes) == 0 {
		t.Errorf("merged of a stopped container: %v %+v %+v %v", a.Exists, a.Owner, a.Views, a.Notes)
	}
	top := b.Image("demo/app:2").Layers[3]
	if err := os.RemoveAll(s.Path("overlay2", top.CacheID)); err != nil {
		t.Fatal(err)
	}
	a = ask(top.CacheID)
	if a.Exists || a.Owner.Kind != OwnerImageLayer || !hasWhoseFinding(a, "layer_dir_missing") || a.Verdict.Safe != SafeNo {
		t.Errorf("missing layer dir: %v %+v %+v", a.Exists, a.Owner, a.Findings)
	}
}
