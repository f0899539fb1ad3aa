package whose

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
)

func TestWhoseParse(t *testing.T) {
	for _, tc := range []struct {
		driver string
		path   string
		want   inspect.Path
	}{
		{"overlay2", "", inspect.Path{Kind: PathDriverHome}},
		{"overlay2", "l", inspect.Path{Kind: PathDriverBookkeeping, ID: "l"}},
		{"overlay2", "l/ABC", inspect.Path{Kind: PathShortLink, Link: "ABC"}},
		{"overlay2", "id", inspect.Path{Kind: PathLayerDir, ID: "id"}},
		{"overlay2", "id/diff", inspect.Path{Kind: PathLayerContent, ID: "id"}},
		{"overlay2", "id/diff/etc/passwd", inspect.Path{Kind: PathLayerEntry, ID: "id", Rel: []string{"etc", "passwd"}}},
		{"overlay2", "id/merged/etc", inspect.Path{Kind: PathMergedEntry, ID: "id", Rel: []string{"etc"}}},
		{"overlay2", "id/work/work", inspect.Path{Kind: PathLayerWork, ID: "id", Rel: []string{"work"}}},
		{"overlay2", "id/lower", inspect.Path{Kind: PathLayerFile, ID: "id", Name: "lower"}},
		{"aufs", "diff/id/etc", inspect.Path{Kind: PathLayerEntry, ID: "id", Rel: []string{"etc"}}},
		{"aufs", "layers/id", inspect.Path{Kind: PathLayerFile, ID: "id", Name: "layers"}},
		{"aufs", "mnt/id", inspect.Path{Kind: PathLayerMountpoint, ID: "id"}},
		{"aufs", "diff", inspect.Path{Kind: PathDriverBookkeeping, ID: "diff"}},
	} {
		var parts []string
		if tc.path != "" {
			parts = strings.Split(tc.path, "/")
		}
		d := fixtures.Backends()
		bk, _ := d.Lookup(inspect.DriverName(tc.driver))
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
	ask := func(arg string) *Answer {
		t.Helper()
		a, err := Ask(au, arg, Options{})
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
	o, err := Ask(ov, "overlay2/"+base.CacheID+"/diff/etc/passwd", Options{})
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
	for arg, want := range map[string]string{
		"aufs/layers/" + m.MountID:            string(PathLayerFile) + " " + string(OwnerRWLayer),
		"aufs/mnt/" + m.MountID:               string(PathLayerMountpoint) + " " + string(OwnerRWLayer),
		"aufs/diff/" + m.InitID:               string(PathLayerContent) + " " + string(OwnerInitLayer),
		"aufs/diff":                           string(PathDriverBookkeeping) + " " + string(OwnerBookkeeping),
		m.MountID:                             string(PathLayerContent) + " " + string(OwnerRWLayer),
		"image/aufs/layerdb/mounts/" + web.ID: string(PathMountRecord) + " " + string(OwnerRWLayer),
		"image/aufs/layerdb/sha256/" + base.ChainID.Encoded(): string(PathLayerRecord) + " " + string(OwnerImageLayer),
	} {
		if a := ask(arg); string(a.Kind)+" "+string(a.Owner.Kind) != want {
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
	s, err := inspect.Open(b.Root, fixtures.Backends(), "")
	if err != nil || s.Driver != "overlay2" {
		t.Fatal(s, err)
	}
	base := b.Image("demo/base:1").Layers[0]
	cache := tw.Layers[base.ChainID]
	a, err := Ask(s, "aufs/diff/"+cache+"/etc/passwd", Options{})
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
	a, err = Ask(s, "overlay2/"+base.CacheID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Owner.Layer.Containers) != 3 {
		t.Errorf("overlay2 base layer containers: %+v", a.Owner.Layer.Containers)
	}
	a, err = Ask(s, "containers/"+tw.Containers[b.Container("web").ID], Options{})
	if err != nil || a.Owner.Container.Driver != "aufs" || len(a.Notes) == 0 {
		t.Errorf("aufs container dir: %v %+v %v", err, a, a.Notes)
	}
}
