package mountinfo

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSamples(t *testing.T) {
	ext4Opts := []Option{{"rw", "", false}, {"discard", "", false}, {"resv_strict", "", false},
		{"resuid", "65534", true}, {"resgid", "65534", true}}
	tests := []struct {
		file  string
		count int
		want  map[int]Mount // by line number; compared whole
	}{
		{file: "self-host.mountinfo", count: 23, want: map[int]Mount{
			21: {Line: 21, MountID: 42, ParentID: 27, MajorMinor: "254:0", Major: 254, Minor: 0,
				Root: eng, MountPoint: eng, Options: []string{"rw", "relatime"},
				OptionalFields: []string{"shared:1"}, Shared: 1, FSType: "ext4", Source: "/dev/vda",
				SuperOptions:    ext4Opts,
				SuperOptionsRaw: "rw,discard,resv_strict,resuid=65534,resgid=65534"},
			23: {Line: 23, MountID: 95, ParentID: 27, MajorMinor: "0:4", Major: 0, Minor: 4,
				Root: "net:[4026532181]", MountPoint: "/tmp/eng/exec/netns/456a81b85e6c",
				Options: []string{"rw"}, FSType: "nsfs", Source: "nsfs",
				SuperOptions: []Option{{"rw", "", false}}, SuperOptionsRaw: "rw"},
		}},
		{file: "overlay-kernel618.mountinfo", count: 13, want: map[int]Mount{
			2: {Line: 2, MountID: 65, ParentID: 27, MajorMinor: "0:52", Major: 0, Minor: 52,
				Root: "/", MountPoint: capT + "/sp ace/m", Options: []string{"rw", "relatime"},
				FSType: "overlay", Source: "overlay",
				SuperOptions: []Option{{"rw", "", false},
					{"lowerdir", capT + "/sp ace/lo", true}, {"upperdir", capT + "/sp ace/up", true},
					{"workdir", capT + "/sp ace/wk", true}, {"uuid", "on", true}},
				SuperOptionsRaw: `rw,lowerdir=` + capT + `/sp\040ace/lo,upperdir=` + capT +
					`/sp\040ace/up,workdir=` + capT + `/sp\040ace/wk,uuid=on`},
		}},
		{file: "ns-unchanged.mountinfo", count: 4, want: map[int]Mount{
			3: {Line: 3, MountID: 170, ParentID: 168, MajorMinor: "0:79", Major: 0, Minor: 79,
				Root: "/", MountPoint: capT + "/prop/b", Options: []string{"rw", "relatime"},
				OptionalFields: []string{"shared:5", "master:4"}, Shared: 5, Master: 4,
				FSType: "tmpfs", Source: "src with space",
				SuperOptions:    []Option{{"rw", "", false}, {"size", "1024k", true}},
				SuperOptionsRaw: "rw,size=1024k"},
		}},
		{file: "ns-slave.mountinfo", count: 4},
		{file: "deleted-bind.mountinfo", count: 1, want: map[int]Mount{
			1: {Line: 1, MountID: 105, ParentID: 60, MajorMinor: "254:0", Major: 254, Minor: 0,
				Root: "/tmp/mi-del.AsBu/bfile//deleted", MountPoint: "/tmp/mi-del.AsBu/bdir/f",
				Options: []string{"rw", "relatime"}, FSType: "ext4", Source: "/dev/vda",
				SuperOptions:    ext4Opts,
				SuperOptionsRaw: "rw,discard,resv_strict,resuid=65534,resgid=65534"},
		}},
		{file: "docker-overlay2-handmade.mountinfo", count: 5},
		{file: "ubuntu-handmade.mountinfo", count: 8, want: map[int]Mount{
			7: {Line: 7, MountID: 612, ParentID: 31, MajorMinor: "0:52", Major: 0, Minor: 52,
				Root: "/", MountPoint: "/mnt/media share", Options: []string{"rw", "nosuid", "nodev", "relatime"},
				OptionalFields: []string{"shared:1", "master:2"}, Shared: 1, Master: 2,
				FSType: "fuse.sshfs", Source: "user@nas:/srv/media share",
				SuperOptions:    []Option{{"rw", "", false}, {"user_id", "1000", true}, {"group_id", "1000", true}},
				SuperOptionsRaw: "rw,user_id=1000,group_id=1000"},
			8: {Line: 8, MountID: 613, ParentID: 612, MajorMinor: "0:53", Major: 0, Minor: 53,
				Root: "/", MountPoint: "/mnt/media share/cache", Options: []string{"rw", "relatime"},
				OptionalFields: []string{"master:2", "propagate_from:1"}, Master: 2, PropagateFrom: 1,
				FSType: "tmpfs", Source: "none",
				SuperOptions:    []Option{{"rw", "", false}, {"size", "102400k", true}, {"inode64", "", false}},
				SuperOptionsRaw: "rw,size=102400k,inode64"},
		}},
		{file: "aufs-handmade.mountinfo", count: 2},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			mounts := readSample(t, tt.file)
			if len(mounts) != tt.count {
				t.Fatalf("got %d mounts, want %d", len(mounts), tt.count)
			}
			for i, m := range mounts {
				if m.Line != i+1 {
					t.Errorf("mount %d has Line %d", i, m.Line)
				}
			}
			for line, want := range tt.want {
				if got := mounts[line-1]; !reflect.DeepEqual(got, want) {
					t.Errorf("line %d:\n got %+v\nwant %+v", line, got, want)
				}
			}
		})
	}
}

// Every sample line renders back to itself: nothing is lost or decoded
// twice.
func TestParseRoundTrip(t *testing.T) {
	for _, path := range samples(t) {
		lines := sampleLines(t, path)
		mounts := readSample(t, filepath.Base(path))
		for i, m := range mounts {
			if got := formatLine(m); got != lines[i] {
				t.Errorf("%s:%d: rendered\n %q\nwant\n %q", path, i+1, got, lines[i])
			}
		}
	}
}

func TestPropagation(t *testing.T) {
	tests := []struct {
		file string
		line int
		want string
	}{
		{"self-host.mountinfo", 1, "private"},
		{"self-host.mountinfo", 21, "shared"},
		{"ns-unchanged.mountinfo", 3, "shared,slave"},
		{"ns-unchanged.mountinfo", 4, "private,unbindable"},
		{"ns-slave.mountinfo", 1, "private,slave"},
		{"ubuntu-handmade.mountinfo", 7, "shared,slave"},
	}
	for _, tt := range tests {
		m := readSample(t, tt.file)[tt.line-1]
		if got := m.Propagation(); got != tt.want {
			t.Errorf("%s:%d: Propagation() = %q, want %q", tt.file, tt.line, got, tt.want)
		}
	}
}

func TestAufsAndAccessors(t *testing.T) {
	m := readSample(t, "aufs-handmade.mountinfo")[1]
	if m.FSType != "aufs" || m.Source != "none" {
		t.Errorf("got type %q source %q", m.FSType, m.Source)
	}
	if si, ok := m.SuperOption("si"); !ok || si != "4c3a8f9e0a1b2c3d" {
		t.Errorf("SuperOption(si) = %q, %v", si, ok)
	}
	if _, ok := m.SuperOption("br"); ok {
		t.Error("SuperOption(br) found an option that is not there")
	}
	if !m.HasOption("relatime") || m.HasOption("ro") {
		t.Errorf("HasOption wrong for %v", m.Options)
	}
	if _, err := m.Overlay(); !errors.Is(err, ErrNotOverlay) {
		t.Errorf("Overlay() on aufs: err = %v, want ErrNotOverlay", err)
	}
	snap := readSample(t, "ubuntu-handmade.mountinfo")[5]
	if !snap.HasOption("ro") {
		t.Errorf("snap mount should be ro: %v", snap.Options)
	}
}

// good is a well-formed line put around each malformed one.
const good = "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name, line, says string
	}{
		{"too few fields", "36 35 98:0 /mnt1 /mnt2 rw", "too few fields"},
		{"empty line", "", "too few fields"},
		{"missing separator", "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw", `no "-" separator`},
		{"separator too early", "36 35 98:0 /mnt1 - rw,noatime ext3 /dev/root rw x", `no "-" separator`},
		{"nothing after separator", "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 x - ext3", "after the"},
		{"non-numeric mount ID", "x6 35 98:0 /mnt1 /mnt2 rw - ext3 /dev/root rw", "mount ID"},
		{"negative mount ID", "-1 35 98:0 /mnt1 /mnt2 rw - ext3 /dev/root rw", "mount ID"},
		{"non-numeric parent ID", "36 3a 98:0 /mnt1 /mnt2 rw - ext3 /dev/root rw", "parent ID"},
		{"bad major:minor", "36 35 98-0 /mnt1 /mnt2 rw - ext3 /dev/root rw", "major:minor"},
		{"major:minor not numeric", "36 35 a:b /mnt1 /mnt2 rw - ext3 /dev/root rw", "major:minor"},
		{"major:minor without minor", "36 35 98: /mnt1 /mnt2 rw - ext3 /dev/root rw", "major:minor"},
		{"empty root", "36 35 98:0  /mnt2 rw - ext3 /dev/root rw", "empty root"},
		{"bad escape in mount point", `36 35 98:0 / /mnt\04 rw - ext3 /dev/root rw`, "mount point"},
		{"escape out of range", `36 35 98:0 / /mnt\777 rw - ext3 /dev/root rw`, "bad escape"},
		{"lone backslash in source", `36 35 98:0 / /mnt rw - ext3 /dev\root rw`, "source"},
		{"non-numeric peer group", "36 35 98:0 / /mnt rw shared:x - ext3 /dev/root rw", "shared:N"},
		{"peer group zero", "36 35 98:0 / /mnt rw master:0 - ext3 /dev/root rw", "master:N"},
		{"unbindable with value", "36 35 98:0 / /mnt rw unbindable:1 - ext3 /dev/root rw", "unbindable"},
		{"repeated optional field", "36 35 98:0 / /mnt rw shared:1 shared:2 - ext3 /dev/root rw", "repeated"},
		{"empty optional field", "36 35 98:0 / /mnt rw  shared:1 - ext3 /dev/root rw", "empty optional"},
		{"empty fs type", "36 35 98:0 / /mnt rw -  /dev/root rw", "filesystem type"},
		{"empty super options", "36 35 98:0 / /mnt rw - ext3 /dev/root ", "super options"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good + "\n" + tt.line + "\n" + good + "\n"
			mounts, err := Parse(strings.NewReader(in))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			var le *LineError
			if !errors.As(err, &le) || le.Line != 2 || le.Text != tt.line {
				t.Fatalf("err = %#v, want a *LineError for line 2", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "mountinfo:2: ") || !strings.Contains(msg, tt.says) {
				t.Errorf("message %q should start with mountinfo:2: and say %q", msg, tt.says)
			}
			if len(mounts) != 2 || mounts[0].Line != 1 || mounts[1].Line != 3 {
				t.Errorf("good lines around the bad one: got %+v", mounts)
			}
		})
	}
}

func TestParseEdges(t *testing.T) {
	for _, in := range []string{"", good, good + "\n", good + "\n" + good} {
		mounts, err := Parse(strings.NewReader(in))
		if err != nil || len(mounts) != strings.Count(in+"\n", good) {
			t.Errorf("Parse(%q) = %d mounts, %v", in, len(mounts), err)
		}
	}
	// Several bad lines give one LineError each.
	_, err := Parse(strings.NewReader("x\n" + good + "\ny\n"))
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok || len(joined.Unwrap()) != 2 {
		t.Fatalf("want two joined errors, got %v", err)
	}
	// A very long line (beyond bufio.Scanner's default 64 KiB) parses.
	long := good + strings.Repeat(",x", 40000)
	if mounts, err := Parse(strings.NewReader(long)); err != nil || len(mounts[0].SuperOptions) != 40002 {
		t.Errorf("long line: %v", err)
	}
}

func TestReadFileErrors(t *testing.T) {
	if _, err := ReadFile(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "mountinfo")
	writeFile(t, path, good+"\n36 35 98:0\n")
	mounts, err := ReadFile(path)
	if len(mounts) != 1 || !errors.Is(err, ErrMalformed) || !strings.HasPrefix(err.Error(), path+":2: ") {
		t.Errorf("got %d mounts, err %v; want 1 and an error naming %s:2", len(mounts), err, path)
	}
}
