// Command capture mounts overlays the way a Docker overlay2 driver lays
// out its layers and prints the lines the kernel shows for them in
// /proc/self/mountinfo, to make overlay-newapi-kernel618.mountinfo (see
// ../README.md). It needs root. Usage: go run ./mountinfo/testdata/capture DIR
//
// DIR must not exist; it is created, and everything is unmounted and
// removed again before the command exits.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: capture DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "capture:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// A data root whose path needs the kernel's octal escapes: a space,
	// a tab and a backslash.
	home := filepath.Join(dir, "docker data\tx\\y", "overlay2")
	var links []string
	for i := range 60 {
		id := fmt.Sprintf("%064x", i*7919+1)
		link := fmt.Sprintf("%026d", i)
		link = strings.Map(func(r rune) rune { return 'A' + (r-'0')*2 }, link)
		link = link[:20] + fmt.Sprintf("%06d", i)
		if err := os.MkdirAll(filepath.Join(home, id, "diff"), 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(home, "l"), 0o700); err != nil {
			return err
		}
		if err := os.Symlink("../"+id+"/diff", filepath.Join(home, "l", link)); err != nil {
			return err
		}
		links = append(links, filepath.Join(home, "l", link))
	}
	rw := filepath.Join(home, strings.Repeat("f", 64))
	for _, d := range []string{"diff", "work", "merged"} {
		if err := os.MkdirAll(filepath.Join(rw, d), 0o755); err != nil {
			return err
		}
	}
	target := filepath.Join(rw, "merged")
	// New mount API: one fsconfig call per layer, so the option string
	// is not limited to a page as mount(2)'s data is.
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen: %w", err)
	}
	defer unix.Close(fd)
	for _, l := range links {
		if err := unix.FsconfigSetString(fd, "lowerdir+", l); err != nil {
			return fmt.Errorf("lowerdir+=%s: %w", l, err)
		}
	}
	// upperdir= and workdir= are unescaped by overlayfs (a backslash
	// quotes the next character); lowerdir+= values are literal.
	quote := strings.NewReplacer(`\`, `\\`).Replace
	for k, v := range map[string]string{"upperdir": quote(filepath.Join(rw, "diff")), "workdir": quote(filepath.Join(rw, "work")), "index": "off"} {
		if err := unix.FsconfigSetString(fd, k, v); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return fmt.Errorf("fsconfig create: %w", err)
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fsmount: %w", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	defer unix.Unmount(target, unix.MNT_DETACH)
	// The same layers with mount(2) and Docker's relative form, from the
	// driver home (moby overlay2 mountFrom).
	rel := filepath.Join(home, strings.Repeat("e", 64))
	for _, d := range []string{"diff", "work", "merged"} {
		if err := os.MkdirAll(filepath.Join(rel, d), 0o755); err != nil {
			return err
		}
	}
	var short []string
	for _, l := range links[:5] {
		short = append(short, "l/"+filepath.Base(l))
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(home); err != nil {
		return err
	}
	id := filepath.Base(rel)
	data := "lowerdir=" + strings.Join(short, ":") + ",upperdir=" + id + "/diff,workdir=" + id + "/work,userxattr"
	err = unix.Mount("overlay", id+"/merged", "overlay", 0, data)
	os.Chdir(wd)
	if err != nil {
		return fmt.Errorf("mount %s: %w", data, err)
	}
	defer unix.Unmount(filepath.Join(rel, "merged"), unix.MNT_DETACH)

	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	esc := strings.NewReplacer(" ", `\040`, "\t", `\011`, "\\", `\134`).Replace(dir)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, esc) {
			fmt.Println(line)
		}
	}
	return nil
}
