package mountinfo

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The overlay mounts captured on kernel 6.18 (overlay-kernel618.mountinfo),
// one per line, with what each was mounted with.
func TestParseOverlaySamples(t *testing.T) {
	tests := []struct {
		name string
		want Overlay // Raw is filled in from the sample
	}{
		{"absolute", Overlay{LowerDirs: []string{capT + "/lo1", capT + "/lo2"},
			UpperDir: capT + "/up", WorkDir: capT + "/wk", UUID: "on"}},
		{"space in paths", Overlay{LowerDirs: []string{capT + "/sp ace/lo"},
			UpperDir: capT + "/sp ace/up", WorkDir: capT + "/sp ace/wk", UUID: "on"}},
		{"userxattr", Overlay{LowerDirs: []string{capT + "/ux/lo"}, UpperDir: capT + "/ux/up",
			WorkDir: capT + "/ux/wk", RedirectDir: "nofollow", UUID: "on", UserXattr: true}},
		// index=off equals this kernel's default, so the kernel omits it.
		{"index=off", Overlay{LowerDirs: []string{capT + "/ix/lo"}, UpperDir: capT + "/ix/up",
			WorkDir: capT + "/ix/wk", UUID: "on"}},
		{`escaped ':' (\:)`, Overlay{LowerDirs: []string{capT + "/co:lon/lo", capT + "/lo1"},
			UpperDir: capT + "/co2", WorkDir: capT + "/wk", UUID: "on"}},
		{"relative, mounted from a driver home", Overlay{LowerDirs: []string{"l/AAA", "l/BBB"},
			UpperDir: "id1/diff", WorkDir: "id1/work", UUID: "on"}},
		{`escaped ',' (\,)`, Overlay{LowerDirs: []string{capT + "/cm/a,b"},
			UpperDir: capT + "/cm/up", WorkDir: capT + "/cm/wk", UUID: "on"}},
		// xino=on was also asked for; the kernel ignored it (one fs).
		{"index, redirect_dir, metacopy on", Overlay{LowerDirs: []string{capT + "/mc/lo1", capT + "/mc/lo2"},
			UpperDir: capT + "/mc/up", WorkDir: capT + "/mc/wk",
			RedirectDir: "on", Index: "on", UUID: "on", Metacopy: "on"}},
		{"lowerdir+= and datadir+=", Overlay{LowerDirs: []string{capT + "/pl/a", capT + "/pl/b"},
			DataDirs: []string{capT + "/pl/d"}, UpperDir: capT + "/pl/up", WorkDir: capT + "/pl/wk",
			UUID: "on", AddForm: true}},
		{"no upper: read-only", Overlay{LowerDirs: []string{capT + "/lo1", capT + "/lo2"},
			ReadOnly: true, RedirectDir: "on"}},
		{"lowerdir+= paths are literal", Overlay{LowerDirs: []string{capT + "/p2/x:y", capT + `/p2/b\s`},
			UpperDir: capT + "/p2/up", WorkDir: capT + "/p2/wk", UUID: "on", AddForm: true}},
		{"data layers after ::", Overlay{LowerDirs: []string{capT + "/dl/l1"},
			DataDirs: []string{capT + "/dl/d1", capT + "/dl/d2"}, ReadOnly: true, RedirectDir: "on"}},
		{`backslashes (\\) and tab/newline in the mount point`, Overlay{LowerDirs: []string{capT + `/q/l\o`},
			UpperDir: capT + `/q/u\v`, WorkDir: capT + "/q/w", UUID: "on"}},
	}
	mounts := readSample(t, "overlay-kernel618.mountinfo")
	if len(mounts) != len(tests) {
		t.Fatalf("%d mounts in the sample, %d cases", len(mounts), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mounts[i].Overlay()
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Raw = mounts[i].SuperOptionsRaw
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("line %d:\n got %+v\nwant %+v", i+1, got, tt.want)
			}
		})
	}
	if mp := mounts[12].MountPoint; mp != capT+"/q/m\ttab\nnl" {
		t.Errorf("mount point %q", mp)
	}
}

func TestParseOverlayInline(t *testing.T) {
	tests := []struct {
		name, in string
		want     Overlay
	}{
		{"trailing backslash is dropped, as the kernel does", `lowerdir=/a\134`,
			Overlay{LowerDirs: []string{"/a"}}},
		{"unknown options kept in order", "rw,lowerdir=/a,fsync=auto,sync",
			Overlay{LowerDirs: []string{"/a"}, Other: []Option{{"fsync", "auto", true}, {"sync", "", false}}}},
		{"escaped '=' and ',' in upperdir", `lowerdir=/a,upperdir=/u\075\054v,workdir=/w`,
			Overlay{LowerDirs: []string{"/a"}, UpperDir: "/u=,v", WorkDir: "/w"}},
		{"all flags", "lowerdir=/a,volatile,default_permissions,verity=require,xino=auto,nfs_export=on",
			Overlay{LowerDirs: []string{"/a"}, Volatile: true, DefaultPermissions: true,
				Verity: "require", Xino: "auto", NFSExport: "on"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOverlay(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Raw = tt.in
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseOverlayMalformed(t *testing.T) {
	tests := []struct{ name, in, says string }{
		{"empty", "", "empty overlay options"},
		{"no lower layer", "rw,upperdir=/u,workdir=/w", "no lower layer"},
		{"empty lowerdir", "rw,lowerdir=", "empty lowerdir"},
		{"leading colon", "lowerdir=:/a", "starts with ':'"},
		{"trailing colon", "lowerdir=/a:", "ends with ':'"},
		{"trailing double colon", "lowerdir=/a::", "ends with ':'"},
		{"three colons", "lowerdir=/a:::/b", "more than two"},
		{"regular layer after data layer", "lowerdir=/a::/d:/b", "after a data layer"},
		{"layer empty after unescaping", `lowerdir=/a:\134`, "empty layer"},
		{"bad octal escape", `lowerdir=/a\04`, "bad escape"},
		{"bad escape in key", `lower\dir=/a`, "bad escape"},
		{"lowerdir= then lowerdir+=", "lowerdir=/a,lowerdir+=/b", "mixed"},
		{"lowerdir+= then lowerdir=", "lowerdir+=/a,lowerdir=/b", "mixed"},
		{"datadir+= first", "datadir+=/d,lowerdir+=/a", "before any lowerdir+="},
		{"lowerdir+= after datadir+=", "lowerdir+=/a,datadir+=/d,lowerdir+=/b", "after datadir+="},
		{"empty lowerdir+=", "lowerdir+=", "empty lowerdir+"},
		{"upperdir twice", "lowerdir=/a,upperdir=/u,upperdir=/v", "given twice"},
		{"empty upperdir", "lowerdir=/a,upperdir=", "empty upperdir"},
		{"upperdir empty after unescaping", `lowerdir=/a,upperdir=\134`, "after unescaping"},
		{"switch without value", "lowerdir=/a,index", `"index" needs a value`},
		{"flag with value", "lowerdir=/a,userxattr=on", "takes no value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOverlay(tt.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("message %q should say %q", err, tt.says)
			}
		})
	}
}

func TestOverlayRoundTrip(t *testing.T) {
	for _, path := range samples(t) {
		for _, m := range readSample(t, path[len("testdata/"):]) {
			o, err := m.Overlay()
			if errors.Is(err, ErrNotOverlay) {
				continue
			}
			if err != nil {
				t.Fatalf("%s:%d: %v", path, m.Line, err)
			}
			back, err := ParseOverlay(formatOverlay(o))
			if err != nil || !sameLayers(o, back) {
				t.Errorf("%s:%d: round trip gave %+v, %v", path, m.Line, back, err)
			}
		}
	}
}

// sameLayers compares the layer paths of two overlays.
func sameLayers(a, b Overlay) bool {
	return reflect.DeepEqual(a.LowerDirs, b.LowerDirs) && reflect.DeepEqual(a.DataDirs, b.DataDirs) &&
		a.UpperDir == b.UpperDir && a.WorkDir == b.WorkDir
}

func TestResolve(t *testing.T) {
	o, err := ParseOverlay("lowerdir=l/A:/abs/B::l/D,upperdir=" + id1 + "/diff,workdir=/abs/work")
	if err != nil {
		t.Fatal(err)
	}
	if !o.Relative() {
		t.Error("Relative() = false for relative paths")
	}
	r := o.Resolve(dHome)
	want := Overlay{LowerDirs: []string{dHome + "/l/A", "/abs/B"}, DataDirs: []string{dHome + "/l/D"},
		UpperDir: dHome + "/" + id1 + "/diff", WorkDir: "/abs/work", Raw: o.Raw}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("\n got %+v\nwant %+v", r, want)
	}
	if r.Relative() {
		t.Error("Relative() = true after Resolve")
	}
	if o.LowerDirs[0] != "l/A" || o.UpperDir != id1+"/diff" {
		t.Errorf("Resolve changed its receiver: %+v", o)
	}
	// No upper dir stays empty.
	if ro := (Overlay{LowerDirs: []string{"l/A"}}).Resolve("/h"); ro.UpperDir != "" || ro.WorkDir != "" {
		t.Errorf("empty paths were resolved: %+v", ro)
	}
}
