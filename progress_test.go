package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: the master to read what was drawn, the
// slave to draw on.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// TestProgressOnTerminal: on a terminal the progress line shows what
// format says and is cleared at the end; on a pipe or a file nothing is
// drawn.
func TestProgressOnTerminal(t *testing.T) {
	m, s := openPTY(t)
	update, done := progress(s, func(n int) string { return fmt.Sprintf("step %d of 3", n) })
	if update == nil {
		t.Fatal("no progress on a terminal")
	}
	// read what is drawn until the slave side is closed (EIO): never
	// a read that waits on a deadline a pty master may not support
	got := make(chan string, 1)
	go func() {
		var b bytes.Buffer
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		got <- b.String()
	}()
	for i := 1; i <= 3; i++ {
		update(i)
		time.Sleep(120 * time.Millisecond) // past the throttle
	}
	done()
	s.Close()
	var out string
	select {
	case out = <-got:
	case <-time.After(10 * time.Second):
		m.Close()
		t.Fatal("the terminal's output never ended")
	}
	if !strings.Contains(out, "step ") || !strings.Contains(out, "of 3") {
		t.Errorf("the terminal shows %q, want the steps", out)
	}
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if update, _ := progress(f, func(int) string { return "x" }); update != nil {
		t.Error("progress on a regular file")
	}
}
