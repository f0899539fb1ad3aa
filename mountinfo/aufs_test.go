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

// IDs of ubuntu1804-aufs*.mountinfo and testdata/sys (see README.md).
const (
	aufsHome = "/var/lib/docker/aufs"
	u1804Web = "2c40d51ff4e7faced3ae0e2a38aa3b7f8e95c1862b7fb1f43bbd92ba086781f8"
	u1804L0  = "49b56d5ddadcab7eb18d12785e66e1d781b3cccf20a6710d3144f857b5cc2979"
	u1804L1  = "cbfb582c7ef121606d1b49f3565a7a1f7179f44621d55ed3cc025a1b4d259d65"
	u1804L2  = "3a08dee856d6c4ef5a171a0ccf86ef308245c6dab466f0b803cb5a7896168956"
	u1804App = "64ebc5485893e0f4aee06e145c0952298fe07193803c7b2fc7312bd80d58c453"
)

func TestParseAufsSamples(t *testing.T) {
	plain := []Option{{"relatime", "", false}, {"dio", "", false}, {"dirperm1", "", false}}
	si := readSample(t, "ubuntu1804-aufs.mountinfo")
	brs := readSample(t, "ubuntu1804-aufs-brs0.mountinfo")
	old := readSample(t, "aufs-handmade.mountinfo")
	spaced := "/srv/docker data/aufs/diff/"
	tests := []struct {
		name string
		m    Mount
		want Aufs // Raw filled in from the mount
	}{
		{"si only (brs=1)", si[5], Aufs{SI: "e5c2a0b7d1f3968c", Other: plain}},
		{"si only, handmade", old[1], Aufs{SI: "4c3a8f9e0a1b2c3d", Other: plain}},
		{"br: with an escaped space", brs[2], Aufs{SI: "3f09b2c4a1d87e65", Other: plain, BranchesFrom: "options",
			Branches: []Branch{{spaced + u1804App, "rw"}, {spaced + u1804App + "-init", "ro+wh"},
				{spaced + u1804L2, "ro+wh"}, {spaced + u1804L1, "ro+wh"}, {spaced + u1804L0, "ro+wh"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.m.Aufs()
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Raw = tt.m.SuperOptionsRaw
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if len(brs[3].SuperOptionsRaw) < 200 {
		t.Fatal("sample changed")
	}
	b, err := brs[3].Aufs()
	if err != nil || len(b.Branches) != 3 || !b.Branches[0].Writable() || b.Branches[1].Writable() ||
		b.Branches[2].Path != aufsHome+"/diff/"+u1804L0 {
		t.Errorf("second br: mount: %+v, %v", b, err)
	}
	if _, err := si[3].Aufs(); !errors.Is(err, ErrNotAufs) {
		t.Errorf("ext4 mount: err = %v, want ErrNotAufs", err)
	}
}

func TestParseAufsForms(t *testing.T) {
	two := []Branch{{"/d/a", "rw"}, {"/d/b", "ro+wh"}}
	tests := []struct {
		name, in string
		want     Aufs
	}{
		{"br= up to the next comma", "br=/d/a=rw:/d/b=ro+wh,dio", Aufs{Branches: two, BranchesFrom: "options",
			Other: []Option{{"dio", "", false}}}},
		{"dirs=", "dirs=/d/a=rw:/d/b=ro+wh", Aufs{Branches: two, BranchesFrom: "options"}},
		{"numbered, out of order", "si=AbC1,br1=/d/b=ro+wh,br0=/d/a=rw", Aufs{SI: "abc1", Branches: two, BranchesFrom: "options"}},
		{"br: keeps commas and ':' not before '/'", "si=1,br:/d/a,x=rw:/d/b:c=ro", Aufs{SI: "1", BranchesFrom: "options",
			Branches: []Branch{{"/d/a,x", "rw"}, {"/d/b:c", "ro"}}}},
		{"branch without perm", "br:/d/a:/d/b=rr+unpin", Aufs{BranchesFrom: "options",
			Branches: []Branch{{"/d/a", ""}, {"/d/b", "rr+unpin"}}}},
		{"octal escapes", `br:/d/tab\011x=rw`, Aufs{BranchesFrom: "options", Branches: []Branch{{"/d/tab\tx", "rw"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAufs(tt.in)
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

func TestParseAufsMalformed(t *testing.T) {
	tests := []struct{ name, in, says string }{
		{"empty", "", "empty aufs options"},
		{"nothing to find branches by", "rw,relatime,dio", "neither si= nor branches"},
		{"si not hex", "si=xyz", "not a hex id"},
		{"empty si", "si=", "not a hex id"},
		{"empty br:", "si=1,br:", "empty branch list"},
		{"relative branch", "br:d/a=rw", "not absolute"},
		{"empty branch", "br:/d/a=rw::/d/b=ro", `permission "rw:"`},
		{"bad perm", "br:/d/a=rwx", `permission "rwx"`},
		{"bad perm attribute", "br:/d/a=ro+", `permission "ro+"`},
		{"branches twice", "br=/d/a,dirs=/d/b", "given twice"},
		{"numbered twice", "br0=/d/a,br0=/d/b", "given twice"},
		{"numbered with a gap", "br0=/d/a,br2=/d/b", "br1= missing"},
		{"numbered mixed with a list", "br0=/d/a,br=/d/b", "mixed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAufs(tt.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("message %q should say %q", err, tt.says)
			}
		})
	}
}

// The si-only mount of ubuntu1804-aufs.mountinfo resolves through the fake
// sysfs tree in testdata/sys, as it would through /sys on that host.
func TestAufsResolveSysfs(t *testing.T) {
	m := readSample(t, "ubuntu1804-aufs.mountinfo")[5]
	a, err := m.Aufs()
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.ResolveSysfs(filepath.Join("testdata", "sys"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Branch{{aufsHome + "/diff/" + u1804Web, "rw"}, {aufsHome + "/diff/" + u1804Web + "-init", "ro+wh"},
		{aufsHome + "/diff/" + u1804L2, "ro+wh"}, {aufsHome + "/diff/" + u1804L1, "ro+wh"}, {aufsHome + "/diff/" + u1804L0, "ro+wh"}}
	if !reflect.DeepEqual(r.Branches, want) || r.BranchesFrom != "sysfs" || r.SI != a.SI {
		t.Errorf("got %+v", r)
	}
	if a.Branches != nil {
		t.Error("ResolveSysfs changed its receiver")
	}
	// Known branches are kept; the other mount's si has no sysfs dir.
	if same, err := r.ResolveSysfs("/nonexistent"); err != nil || same.BranchesFrom != "sysfs" {
		t.Errorf("resolved twice: %+v, %v", same, err)
	}
	other, _ := readSample(t, "ubuntu1804-aufs.mountinfo")[7].Aufs()
	if _, err := other.ResolveSysfs(filepath.Join("testdata", "sys")); !errors.Is(err, fs.ErrNotExist) ||
		!strings.Contains(err.Error(), "si_e5c2a0b7d2a0968c") {
		t.Errorf("missing si dir: err = %v", err)
	}
}

func TestAufsResolveSysfsMalformed(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		says  string
	}{
		{"no branch files", map[string]string{"xi_path": "/x\n"}, "no br<N> files"},
		{"gap", map[string]string{"br0": "/a=rw\n", "br2": "/b=ro\n"}, "without gaps"},
		{"relative path", map[string]string{"br0": "a=rw\n"}, "not absolute"},
		{"two lines", map[string]string{"br0": "/a=rw\n/b=ro\n"}, "more than one line"},
		{"bad perm", map[string]string{"br0": "/a=write\n"}, "permission"},
		{"too long", map[string]string{"br0": "/" + strings.Repeat("a", 9000) + "=rw\n"}, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := t.TempDir()
			dir := filepath.Join(sys, "fs", "aufs", "si_abc")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for n, c := range tt.files {
				writeFile(t, filepath.Join(dir, n), c)
			}
			_, err := Aufs{SI: "abc"}.ResolveSysfs(sys)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), dir) {
				t.Errorf("err = %v, want ErrMalformed naming %s and saying %q", err, dir, tt.says)
			}
		})
	}
	if _, err := (Aufs{}).ResolveSysfs(t.TempDir()); !errors.Is(err, ErrMalformed) {
		t.Errorf("no si: err = %v", err)
	}
}
