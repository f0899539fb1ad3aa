package layerfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestListTypes pins what List reads from getdents on this filesystem:
// every name once, "." and ".." left out, each with its type, and a name
// that looks like markup or holds a newline kept byte for byte.
func TestListTypes(t *testing.T) {
	dir := t.TempDir()
	want := map[string]uint8{"f": unix.DT_REG, "sub": unix.DT_DIR, "link": unix.DT_LNK, "fifo": unix.DT_FIFO, "<b>\nx": unix.DT_REG}
	os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o644)
	os.WriteFile(filepath.Join(dir, "<b>\nx"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.Symlink("f", filepath.Join(dir, "link"))
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 3000 { // more than one getdents buffer's worth
		n := fmt.Sprintf("many-%04d-%045d", i, i)
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
		want[n] = unix.DT_REG
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for range 2 { // a second call reads from the start again
		got, err := d.List()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("List: %d names, want %d", len(got), len(want))
		}
		for n, typ := range want {
			if got[n] != typ {
				t.Errorf("List[%q] = %d, want %d", n, got[n], typ)
			}
		}
	}
}

// TestDirentsMalformed: a record whose length is short or runs past the
// buffer ends the walk instead of reading out of bounds, and a record
// without a NUL in its name is skipped.
func TestDirentsMalformed(t *testing.T) {
	rec := func(name string, typ uint8, reclen int) []byte {
		b := make([]byte, max(reclen, 19+len(name)))
		binary.NativeEndian.PutUint16(b[16:], uint16(reclen))
		b[18] = typ
		copy(b[19:], name)
		return b
	}
	collect := func(buf []byte) (names []string) {
		for n, typ := range Dirents(buf) {
			names = append(names, fmt.Sprintf("%s:%d", n, typ))
		}
		return names
	}
	good := append(append(rec(".", unix.DT_DIR, 24), rec("..", unix.DT_DIR, 24)...), rec("a", unix.DT_REG, 24)...)
	if got := fmt.Sprint(collect(good)); got != "[a:8]" {
		t.Errorf("good buffer: %s", got)
	}
	for name, buf := range map[string][]byte{
		"zero reclen":   append(rec("a", unix.DT_REG, 24), rec("b", unix.DT_REG, 0)...),
		"past the end":  append(rec("a", unix.DT_REG, 24), rec("b", unix.DT_REG, 24)[:22]...),
		"reclen beyond": append(rec("a", unix.DT_REG, 24), rec("b", unix.DT_REG, 4096)[:24]...),
	} {
		if got := fmt.Sprint(collect(buf)); got != "[a:8]" {
			t.Errorf("%s: %s", name, got)
		}
	}
	noNUL := rec("abcde", unix.DT_REG, 24) // 19 + 5 = 24: no room for the NUL
	if got := collect(append(noNUL, rec("b", unix.DT_REG, 24)...)); fmt.Sprint(got) != "[b:8]" {
		t.Errorf("a name without its NUL: %v", got)
	}
	if got := collect(nil); got != nil {
		t.Errorf("empty buffer: %v", got)
	}
	closed, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if _, err := closed.List(); !errors.Is(err, unix.EBADF) {
		t.Errorf("List on a closed dir: %v, want EBADF", err)
	}
}
