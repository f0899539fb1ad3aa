package inspect

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
)

// whoseDemo builds the demo store and returns it with a helper that asks
// Whose and fails the test on error.
func whoseDemo(t *testing.T) (*Store, *fixtures.Built, func(arg string, opt ...WhoseOptions) *WhoseAnswer) {
	t.Helper()
	s, b := demoStore(t)
	ask := func(arg string, opt ...WhoseOptions) *WhoseAnswer {
		t.Helper()
		o := WhoseOptions{BuildKit: func(string) (map[string]bool, error) { return map[string]bool{}, nil }}
		if len(opt) > 0 {
			o = opt[0]
		}
		a, err := s.Whose(arg, o)
		if err != nil {
			t.Fatalf("whose %s: %v", arg, err)
		}
		return a
	}
	return s, b, ask
}

// layerOf is the cache-id of layer pos (1 = base) of image tag.
func layerOf(b *fixtures.Built, tag string, pos int) string {
	return b.Image(tag).Layers[pos-1].CacheID
}

func viewOf(a *WhoseAnswer, of, name string) *WhoseView {
	for i := range a.Views {
		if a.Views[i].Of == of && a.Views[i].Name == name {
			return &a.Views[i]
		}
	}
	return nil
}

// hitString is "rw", "init" or "image N", plus the entry and its path.
func hitString(h *WhoseHit) string {
	if h == nil {
		return "-"
	}
	who := h.Role
	if h.Role == "image" {
		who = fmt.Sprintf("image %d", h.Position)
	}
	return who + " " + h.Entry + " " + h.Path
}

// TestWhoseLayerEntries: for a path inside a layer's diff/, the entry in
// that layer and, per container and image, what the union shows.
func TestWhoseLayerEntries(t *testing.T) {
	_, b, ask := whoseDemo(t)
	type want struct{ result, by, below string }
	for _, tc := range []struct {
		tag   string // the layer: image tag and position
		pos   int
		path  string
		kind  string // entry kind ("" = not in the layer)
		views map[string]want
	}{
		{"demo/base:1", 1, "/etc/group", "plain", map[string]want{
			"container web": {ViewVisible, "-", "-"}, "container batch": {ViewVisible, "-", "-"},
			"container fresh": {ViewVisible, "-", "-"}, "image demo/base:1": {ViewVisible, "-", "-"}, "image demo/app:2": {ViewVisible, "-", "-"}}},
		{"demo/base:1", 1, "/etc/passwd", "plain", map[string]want{
			"container web": {ViewShadowed, "rw file /etc/passwd", "-"}, "container batch": {ViewVisible, "-", "-"}}},
		{"demo/base:1", 1, "/bin/ls", "plain", map[string]want{
			"container web": {ViewWhitedOut, "rw whiteout /bin/ls", "-"}, "container fresh": {ViewVisible, "-", "-"}}},
		{"demo/base:1", 1, "/usr/share/doc/b.txt", "plain", map[string]want{
			"container web": {ViewHidden, "rw whiteout /usr/share/doc", "-"}, "container batch": {ViewVisible, "-", "-"}}},
		{"demo/base:1", 1, "/usr/share/doc/a.txt", "plain", map[string]want{
			"container web":     {ViewHidden, "rw whiteout /usr/share/doc", "-"},
			"container batch":   {ViewWhitedOut, "image 3 whiteout /usr/share/doc/a.txt", "-"},
			"image demo/base:1": {ViewWhitedOut, "image 3 whiteout /usr/share/doc/a.txt", "-"}}},
		{"demo/base:1", 3, "/usr/share/doc/a.txt", "whiteout", map[string]want{
			"container batch": {ViewDeletes, "-", "image 1 file /usr/share/doc/a.txt"},
			"container web":   {ViewHidden, "rw whiteout /usr/share/doc", "-"}}},
		{"demo/base:1", 3, "/app/data/1", "plain", map[string]want{
			"container web":   {ViewHidden, "rw opaque dir /app/data", "-"},
			"container fresh": {ViewVisible, "-", "-"}}},
		{"demo/base:1", 3, "/app/data", "plain", map[string]want{
			"container web": {ViewShadowed, "rw opaque dir /app/data", "-"}}},
		{"demo/base:1", 3, "/app", "plain", map[string]want{
			"container web":   {ViewMerged, "rw dir /app", "-"},
			"container batch": {ViewVisible, "-", "image 2 dir /app"}}},
		{"demo/base:1", 3, "/app/bin/app", "plain", map[string]want{
			"container batch":  {ViewVisible, "-", "-"},
			"container fresh":  {ViewShadowed, "image 4 file /app/bin/app", "-"},
			"container web":    {ViewShadowed, "rw file /app/bin/app", "-"},
			"image demo/app:2": {ViewShadowed, "image 4 file /app/bin/app", "-"}}},
		// not in this layer: what the view shows instead
		{"demo/base:1", 2, "/etc/passwd", "", map[string]want{
			"container batch": {ViewFrom, "image 1 file /etc/passwd", "-"},
			"container web":   {ViewFrom, "rw file /etc/passwd", "-"}}},
	} {
		t.Run(fmt.Sprintf("layer %d %s", tc.pos, tc.path), func(t *testing.T) {
			id := layerOf(b, tc.tag, tc.pos)
			a := ask(filepath.Join("overlay2", id, "diff", tc.path))
			if a.Kind != PathLayerEntry || a.InLayer != tc.path || a.Owner.Kind != OwnerImageLayer || a.LayerDir != id {
				t.Fatalf("kind %s in %s owner %+v", a.Kind, a.InLayer, a.Owner)
			}
			if a.Entry == nil || a.Entry.Kind != tc.kind || a.Entry.Exists != (tc.kind != "") || a.Exists != (tc.kind != "") {
				t.Errorf("entry %+v, want kind %q", a.Entry, tc.kind)
			}
			if len(a.Views) != 5 {
				t.Errorf("%d views, want 3 containers and 2 images", len(a.Views))
			}
			for name, w := range tc.views {
				of, n, _ := strings.Cut(name, " ")
				v := viewOf(a, of, n)
				if v == nil {
					t.Errorf("%s: no view", name)
					continue
				}
				if v.Result != w.result || hitString(v.By) != w.by || hitString(v.Below) != w.below || v.Role != "image" || v.Position != tc.pos {
					t.Errorf("%s: %s by %s below %s (at %s %d), want %s by %s below %s",
						name, v.Result, hitString(v.By), hitString(v.Below), v.Role, v.Position, w.result, w.by, w.below)
				}
			}
			if a.Verdict.Safe != SafeNo || !strings.Contains(a.Verdict.Reason, "diff ID") {
				t.Errorf("verdict %+v", a.Verdict)
			}
		})
	}
}

// TestWhoseRWAndInit: entries of a container's own layers.
func TestWhoseRWAndInit(t *testing.T) {
	_, b, ask := whoseDemo(t)
	web, batch := b.Container("web"), b.Container("batch")
	for _, tc := range []struct {
		arg, owner, role, result, below string
	}{
		{"overlay2/" + web.MountID + "/diff/etc/passwd", OwnerRWLayer, "rw", ViewVisible, "image 1 file /etc/passwd"},
		{"overlay2/" + web.MountID + "/diff/bin/ls", OwnerRWLayer, "rw", ViewDeletes, "image 1 file /bin/ls"},
		{"overlay2/" + web.MountID + "/diff/app/new.log", OwnerRWLayer, "rw", ViewVisible, "-"},
		{"overlay2/" + web.MountID + "/diff/app/data", OwnerRWLayer, "rw", ViewVisible, "image 3 dir /app/data"},
		{"overlay2/" + web.InitID + "/diff/etc/hosts", OwnerInitLayer, "init", ViewVisible, "-"},
		{"overlay2/" + web.InitID + "/diff/etc", OwnerInitLayer, "init", ViewMerged, "-"},
	} {
		a := ask(tc.arg)
		if a.Owner.Kind != tc.owner || a.Owner.Container == nil || a.Owner.Container.Name != "web" || len(a.Views) != 1 {
			t.Errorf("%s: owner %+v, %d views", tc.arg, a.Owner, len(a.Views))
			continue
		}
		v := a.Views[0]
		if v.Of != "container" || v.Name != "web" || v.Role != tc.role || v.Result != tc.result || hitString(v.Below) != tc.below {
			t.Errorf("%s: %+v below %s", tc.arg, v, hitString(v.Below))
		}
		if a.Verdict.Safe != SafeNo {
			t.Errorf("%s: verdict %+v (web is running)", tc.arg, a.Verdict)
		}
	}
	if a := ask("overlay2/" + web.MountID + "/diff/app/data"); a.Entry.Kind != "opaque_dir" {
		t.Errorf("opaque dir entry %+v", a.Entry)
	}
	// A stopped container's change: deleting it undoes it.
	a := ask("overlay2/" + batch.MountID + "/diff/tmp/result.txt")
	if a.Verdict.Safe != SafeCaution || !strings.Contains(a.Verdict.Reason, "stopped") || !strings.Contains(a.Verdict.Reason, "nothing") {
		t.Errorf("stopped container's file: %+v", a.Verdict)
	}
	a = ask("overlay2/" + batch.MountID + "/diff/tmp")
	if a.Verdict.Safe != SafeCaution || !strings.Contains(a.Verdict.Reason, "image layer 1") {
		t.Errorf("stopped container's copied-up dir: %+v", a.Verdict)
	}
	// The mount point's view: where a path of the container comes from.
	a = ask("overlay2/" + web.MountID + "/merged/etc/group")
	if a.Kind != PathMergedEntry || len(a.Views) != 1 || a.Views[0].Result != ViewFrom || hitString(a.Views[0].By) != "image 1 file /etc/group" {
		t.Errorf("merged entry: %s %+v", a.Kind, a.Views)
	}
	a = ask("overlay2/" + web.MountID + "/merged/bin/ls")
	if len(a.Views) != 1 || a.Views[0].Result != ViewAbsent || hitString(a.Views[0].By) != "rw whiteout /bin/ls" || a.Verdict.Safe != SafeNo {
		t.Errorf("merged deleted entry: %+v %+v", a.Views, a.Verdict)
	}
}

// TestWhoseLayerDirs: the dirs and files of layers, short links, and
// bare names.
func TestWhoseLayerDirs(t *testing.T) {
	s, b, ask := whoseDemo(t)
	web := b.Container("web")
	base := b.Image("demo/base:1").Layers[0]
	root, _ := filepath.Abs(b.Root)

	a := ask(filepath.Join(root, "overlay2", base.CacheID))
	l := a.Owner.Layer
	if a.Kind != PathLayerDir || a.Owner.Kind != OwnerImageLayer || l == nil || l.ChainID != base.ChainID || l.DiffID != base.DiffID || l.Size != base.Size || l.Link != base.Link {
		t.Fatalf("base layer dir: %s %+v", a.Kind, a.Owner)
	}
	pos := map[string]string{}
	for _, im := range l.Images {
		pos[im.Tags[0]] = fmt.Sprintf("%d/%d %s", im.Position, im.Layers, im.CreatedBy)
	}
	if !strings.HasPrefix(pos["demo/base:1"], "1/3 /bin/sh -c #(nop) ADD file:") || !strings.HasPrefix(pos["demo/app:2"], "1/4 ") || len(l.Containers) != 3 {
		t.Errorf("images %v, %d containers", pos, len(l.Containers))
	}
	if a.Verdict.Safe != SafeNo || !strings.Contains(a.Verdict.Reason, "used by 3 containers") || !strings.Contains(a.Verdict.Instead, "docker rmi") {
		t.Errorf("verdict %+v", a.Verdict)
	}
	top := b.Image("demo/app:2").Layers[3]
	if a := ask("overlay2/" + top.CacheID); len(a.Owner.Layer.Images) != 1 || a.Owner.Layer.Images[0].Position != 4 || len(a.Owner.Layer.Containers) != 2 {
		t.Errorf("app layer: %+v", a.Owner.Layer)
	}

	for _, tc := range []struct {
		arg         string
		kind        PathKind
		owner, name string
	}{
		{"overlay2/" + web.MountID, PathLayerDir, OwnerRWLayer, ""},
		{"overlay2/" + web.MountID + "/diff", PathLayerContent, OwnerRWLayer, ""},
		{"overlay2/" + web.MountID + "/work", PathLayerWork, OwnerRWLayer, ""},
		{"overlay2/" + web.MountID + "/lower", PathLayerFile, OwnerRWLayer, "lower"},
		{"overlay2/" + web.InitID, PathLayerDir, OwnerInitLayer, ""},
		{web.MountID, PathLayerDir, OwnerRWLayer, ""},                // bare mount-id
		{web.InitID, PathLayerDir, OwnerInitLayer, ""},               // bare init-id
		{base.CacheID, PathLayerDir, OwnerImageLayer, ""},            // bare cache-id
		{string(base.ChainID), PathLayerRecord, OwnerImageLayer, ""}, // bare chain ID
		{web.ID, PathContainerDir, OwnerContainer, ""},               // bare container ID
		{"overlay2/l", PathDriverBookkeeping, OwnerBookkeeping, ""},
		{"overlay2", PathDriverHome, OwnerDocker, ""},
		{".", PathDataRoot, OwnerDocker, ""},
		{root, PathDataRoot, OwnerDocker, ""},
	} {
		a := ask(tc.arg)
		if a.Kind != tc.kind || a.Owner.Kind != tc.owner || a.Name != tc.name || !a.Exists {
			t.Errorf("%s: kind %s owner %s name %q exists %v", tc.arg, a.Kind, a.Owner.Kind, a.Name, a.Exists)
		}
		if (tc.owner == OwnerRWLayer || tc.owner == OwnerInitLayer) && a.Owner.Container.ID != web.ID {
			t.Errorf("%s: container %+v", tc.arg, a.Owner.Container)
		}
		if a.Verdict.Safe != SafeNo {
			t.Errorf("%s: verdict %+v", tc.arg, a.Verdict)
		}
	}
	if a := ask("overlay2/" + web.MountID + "/diff"); a.Usage == nil || a.Usage.Size != web.SizeRw || a.Verdict.Instead != "docker rm web" {
		t.Errorf("rw dir: usage %+v (SizeRw %d), verdict %+v", a.Usage, web.SizeRw, a.Verdict)
	}

	// l/<LINK> and the bare link: read as text, never followed.
	for _, arg := range []string{"overlay2/l/" + base.Link, base.Link} {
		a := ask(arg)
		if a.Kind != PathShortLink || a.Link == nil || a.Link.LayerDir != base.CacheID || a.Link.Target != "../"+base.CacheID+"/diff" ||
			a.Link.Dangling || a.Owner.Kind != OwnerImageLayer || a.Type != "symlink" || a.Verdict.Safe != SafeNo {
			t.Errorf("%s: %s %+v %+v %+v", arg, a.Kind, a.Link, a.Owner, a.Verdict)
		}
	}
	a = ask("overlay2/l/" + base.Link + "/etc/passwd")
	if a.Kind != PathLayerEntry || a.LayerDir != base.CacheID || a.InLayer != "/etc/passwd" || len(a.Notes) == 0 || !strings.Contains(a.Notes[0], "not followed") {
		t.Errorf("through a short link: %s %s %s %v", a.Kind, a.LayerDir, a.InLayer, a.Notes)
	}
	dangling := "ZZZZZZZZZZZZZZZZZZZZZZZZZZ"
	if err := os.Symlink("../"+strings.Repeat("9", 64)+"/diff", s.Path("overlay2", "l", dangling)); err != nil {
		t.Fatal(err)
	}
	a = ask(dangling)
	if a.Link == nil || !a.Link.Dangling || a.Verdict.Safe != SafeYes {
		t.Errorf("dangling link: %+v %+v", a.Link, a.Verdict)
	}
	if err := os.Symlink("/etc", s.Path("overlay2", "l", "YYYYYYYYYYYYYYYYYYYYYYYYYY")); err != nil {
		t.Fatal(err)
	}
	a = ask("overlay2/l/YYYYYYYYYYYYYYYYYYYYYYYYYY")
	if a.Owner.Kind != OwnerUnknown || a.Link == nil || a.Link.Error == "" || a.Verdict.Safe != SafeCaution {
		t.Errorf("foreign link: %+v %+v", a.Link, a.Owner)
	}
}

// TestWhoseMetadata: files of layerdb, imagedb and containers/ say what
// they belong to.
func TestWhoseMetadata(t *testing.T) {
	_, b, ask := whoseDemo(t)
	web, batch := b.Container("web"), b.Container("batch")
	base := b.Image("demo/base:1")
	chain := base.Layers[1].ChainID
	for _, tc := range []struct {
		arg                       string
		kind                      PathKind
		owner, name, safe, reason string
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
	// build cache is not an orphan
	bk := WhoseOptions{BuildKit: func(p string) (map[string]bool, error) {
		if p != s.Path("buildkit", "snapshots.db") {
			t.Errorf("BuildKit asked for %s", p)
		}
		return map[string]bool{orphan: true}, nil
	}}
	if a := ask("overlay2/"+orphan, bk); a.Owner.Kind != OwnerBuildCache || a.Verdict.Safe != SafeNo || a.Verdict.Instead != "docker builder prune" {
		t.Errorf("build cache: %+v %+v", a.Owner, a.Verdict)
	}
	// doubts: no BuildKit reader, an unreadable snapshots.db, a live mount, a recent change
	for name, tc := range map[string]struct {
		opt   WhoseOptions
		touch bool
		doubt string
	}{
		"no buildkit":      {WhoseOptions{}, false, "may be build cache"},
		"buildkit error":   {WhoseOptions{BuildKit: func(string) (map[string]bool, error) { return nil, errors.New("locked") }}, false, "may be build cache"},
		"live mount":       {WhoseOptions{BuildKit: bk.BuildKit, MountsKnown: true, Mounts: []LiveMount{{MountPoint: "/x/merged", LowerDirs: []string{s.Path("overlay2", orphan, "diff")}}}}, false, "live mount uses it: /x/merged"},
		"changed just now": {WhoseOptions{BuildKit: func(string) (map[string]bool, error) { return map[string]bool{}, nil }}, true, "may be creating it"},
	} {
		if tc.touch {
			now := time.Now()
			os.Chtimes(s.Path("overlay2", orphan), now, now)
		}
		a := ask("overlay2/"+orphan, tc.opt)
		if tc.opt.BuildKit != nil && name == "live mount" {
			// the fake BuildKit says build cache; ask as an orphan
			a = ask("overlay2/"+orphan, WhoseOptions{BuildKit: func(string) (map[string]bool, error) { return map[string]bool{}, nil }, MountsKnown: true, Mounts: tc.opt.Mounts})
		}
		if a.Owner.Kind != OwnerOrphan || a.Verdict.Safe != SafeCaution || !strings.Contains(a.Verdict.Reason, tc.doubt) {
			t.Errorf("%s: %+v", name, a.Verdict)
		}
		if name == "buildkit error" && !hasWhoseFinding(a, "buildkit_unreadable") {
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
	a = ask("overlay2/"+base.CacheID, WhoseOptions{MountsKnown: true, Mounts: []LiveMount{
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

func hasWhoseFinding(a *WhoseAnswer, kind string) bool {
	for _, f := range a.Findings {
		if f.Kind == kind {
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
		if _, err := s.Whose(arg, WhoseOptions{}); !errors.Is(err, ErrOutsideRoot) {
			t.Errorf("%s: %v, want ErrOutsideRoot", arg, err)
		}
	}
	for _, arg := range []string{"nosuch", "overlay2/nosuch", "containers/nosuch", strings.Repeat("a", 64), ""} {
		if _, err := s.Whose(arg, WhoseOptions{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", arg, err)
		}
	}
	// a symlink in the data root pointing out of it is not followed
	if err := os.Symlink("/", s.Path("escape")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Whose("escape/etc/passwd", WhoseOptions{}); !errors.Is(err, ErrNotFound) {
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

func TestWhoseParse(t *testing.T) {
	for _, tc := range []struct {
		driver string
		path   string
		want   whosePath
	}{
		{"overlay2", "", whosePath{Kind: PathDriverHome}},
		{"overlay2", "l", whosePath{Kind: PathDriverBookkeeping, ID: "l"}},
		{"overlay2", "l/ABC", whosePath{Kind: PathShortLink, Link: "ABC"}},
		{"overlay2", "id", whosePath{Kind: PathLayerDir, ID: "id"}},
		{"overlay2", "id/diff", whosePath{Kind: PathLayerContent, ID: "id"}},
		{"overlay2", "id/diff/etc/passwd", whosePath{Kind: PathLayerEntry, ID: "id", Rel: []string{"etc", "passwd"}}},
		{"overlay2", "id/merged/etc", whosePath{Kind: PathMergedEntry, ID: "id", Rel: []string{"etc"}}},
		{"overlay2", "id/work/work", whosePath{Kind: PathLayerWork, ID: "id", Rel: []string{"work"}}},
		{"overlay2", "id/lower", whosePath{Kind: PathLayerFile, ID: "id", Name: "lower"}},
		{"aufs", "diff/id/etc", whosePath{Kind: PathLayerEntry, ID: "id", Rel: []string{"etc"}}},
		{"aufs", "layers/id", whosePath{Kind: PathLayerFile, ID: "id", Name: "layers"}},
		{"aufs", "mnt/id", whosePath{Kind: PathLayerMountpoint, ID: "id"}},
		{"aufs", "diff", whosePath{Kind: PathDriverBookkeeping, ID: "diff"}},
	} {
		var parts []string
		if tc.path != "" {
			parts = strings.Split(tc.path, "/")
		}
		d := fixtures.Backends()
		bk, _ := d.Lookup(DriverName(tc.driver))
		got := bk.Open(t.TempDir(), nil).ParsePath(parts)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s %s: %+v, want %+v", tc.driver, tc.path, got, tc.want)
		}
	}
}

// TestWhoseAUFS: the same questions on the demo store's aufs twin, where
// whiteouts are ".wh." files and a layer is diff/<id>, layers/<id> and
// mnt/<id>.
func TestWhoseAUFS(t *testing.T) {
	ov, au, b := aufsTwin(t)
	ask := func(arg string) *WhoseAnswer {
		t.Helper()
		a, err := au.Whose(arg, WhoseOptions{BuildKit: func(string) (map[string]bool, error) { return map[string]bool{}, nil }})
		if err != nil {
			t.Fatalf("whose %s: %v", arg, err)
		}
		return a
	}
	base := b.Image("demo/base:1").Layers[0]
	a := ask("aufs/diff/" + base.CacheID + "/etc/passwd")
	if a.Kind != PathLayerEntry || a.Owner.Kind != OwnerImageLayer || a.Owner.Layer.ChainID != base.ChainID || a.Owner.Layer.Link != "" {
		t.Fatalf("aufs layer entry: %s %+v", a.Kind, a.Owner.Layer)
	}
	// The views equal the overlay2 store's.
	o, err := ov.Whose("overlay2/"+base.CacheID+"/diff/etc/passwd", WhoseOptions{BuildKit: func(string) (map[string]bool, error) { return map[string]bool{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Views) != len(o.Views) {
		t.Fatalf("%d views on aufs, %d on overlay2", len(a.Views), len(o.Views))
	}
	for i := range a.Views {
		if va, vo := a.Views[i], o.Views[i]; va.Name != vo.Name || va.Result != vo.Result || hitString(va.By) != hitString(vo.By) {
			t.Errorf("view %d: aufs %s %s %s, overlay2 %s %s %s", i, va.Name, va.Result, hitString(va.By), vo.Name, vo.Result, hitString(vo.By))
		}
	}
	web := b.Container("web")
	m, err := au.MountRecord(web.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A whiteout is a ".wh." file, asked for by its own name.
	a = ask("aufs/diff/" + m.MountID + "/bin/.wh.ls")
	if a.Entry == nil || a.Entry.Kind != "whiteout" || a.Entry.Deletes != "/bin/ls" || len(a.Views) != 1 ||
		a.Views[0].Result != ViewDeletes || hitString(a.Views[0].Below) != "image 1 file /bin/ls" {
		t.Errorf("aufs whiteout: %+v %+v", a.Entry, a.Views)
	}
	a = ask("aufs/diff/" + m.MountID + "/.wh..wh.aufs")
	if a.Entry == nil || a.Entry.Kind != "bookkeeping" || len(a.Views) != 0 {
		t.Errorf("aufs bookkeeping: %+v %+v", a.Entry, a.Views)
	}
	for arg, want := range map[string]PathKind{
		"aufs/layers/" + m.MountID:            PathLayerFile + " " + OwnerRWLayer,
		"aufs/mnt/" + m.MountID:               PathLayerMountpoint + " " + OwnerRWLayer,
		"aufs/diff/" + m.InitID:               PathLayerContent + " " + OwnerInitLayer,
		"aufs/diff":                           PathDriverBookkeeping + " " + OwnerBookkeeping,
		m.MountID:                             PathLayerContent + " " + OwnerRWLayer,
		"image/aufs/layerdb/mounts/" + web.ID: PathMountRecord + " " + OwnerRWLayer,
		"image/aufs/layerdb/sha256/" + base.ChainID.Encoded(): PathLayerRecord + " " + OwnerImageLayer,
	} {
		if a := ask(arg); a.Kind+" "+PathKind(a.Owner.Kind) != want {
			t.Errorf("%s: %s %s, want %s", arg, a.Kind, a.Owner.Kind, want)
		}
	}
	a = ask("aufs/mnt/" + m.MountID + "/etc/group")
	if len(a.Views) != 1 || a.Views[0].Result != ViewFrom || hitString(a.Views[0].By) != "image 1 file /etc/group" {
		t.Errorf("aufs mount point entry: %+v", a.Views)
	}
	orphan := strings.Repeat("0f", 32)
	whoseWriteFile(t, au.Path("aufs", "diff", orphan, "x"), "xyz")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(au.Path("aufs", "diff", orphan), old, old)
	a = ask("aufs/diff/" + orphan)
	if a.Owner.Kind != OwnerOrphan || strings.Contains(a.Owner.Why, "diff/") || a.Usage.Size != 3 || a.Verdict.Safe != SafeYes {
		t.Errorf("aufs orphan: %+v %+v %+v", a.Owner, a.Usage, a.Verdict)
	}
}

// TestWhoseMixedRoot: a root holding both drivers' stores answers a path
// of the other store from that store, and never calls it an orphan.
func TestWhoseMixedRoot(t *testing.T) {
	_, b := demoStore(t)
	tw, err := fixtures.AUFSTwin(b.Root, b.Root, fixtures.TwinOptions{Suffix: "-aufs"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(b.Root, fixtures.Backends(), "")
	if err != nil || s.Driver != "overlay2" {
		t.Fatal(s, err)
	}
	base := b.Image("demo/base:1").Layers[0]
	cache := tw.Layers[base.ChainID]
	a, err := s.Whose("aufs/diff/"+cache+"/etc/passwd", WhoseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Driver != "aufs" || a.Owner.Kind != OwnerImageLayer || a.Verdict.Safe != SafeCaution || len(a.Notes) == 0 || !strings.Contains(a.Notes[len(a.Notes)-1], "aufs store") {
		t.Errorf("aufs layer in a mixed root: %s %+v %+v %v", a.Driver, a.Owner, a.Verdict, a.Notes)
	}
	for _, v := range a.Views {
		if v.Of == "container" && !strings.HasSuffix(v.Name, "-aufs") {
			t.Errorf("an overlay2 container in an aufs layer's views: %+v", v)
		}
	}
	// and the overlay2 layer is used by the overlay2 containers only
	a, err = s.Whose("overlay2/"+base.CacheID, WhoseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Owner.Layer.Containers) != 3 {
		t.Errorf("overlay2 base layer containers: %+v", a.Owner.Layer.Containers)
	}
	a, err = s.Whose("containers/"+tw.Containers[b.Container("web").ID], WhoseOptions{})
	if err != nil || a.Owner.Container.Driver != "aufs" || len(a.Notes) == 0 {
		t.Errorf("aufs container dir: %v %+v %v", err, a, a.Notes)
	}
}
