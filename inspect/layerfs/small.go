package layerfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrTooLarge is returned by ReadSmallFile for a file over its limit.
var ErrTooLarge = errors.New("file too large")

// ReadSmallFile reads a small metadata file (Docker writes them as ASCII
// without a trailing newline) and returns its content with surrounding white
// space trimmed. The file must be a regular file, not a symlink, of at most
// max bytes. A missing file gives an error matching fs.ErrNotExist.
func ReadSmallFile(path string, max int64) (string, error) {
	b, err := ReadFileLimit(path, max)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// ReadFileLimit reads a whole regular file (never through a symlink) of at
// most max bytes.
func ReadFileLimit(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, ErrNotRegular)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w (over %d bytes)", path, ErrTooLarge, max)
	}
	return b, nil
}
