package overlay2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// ErrBadLink is returned for an l/ link, link file or lower entry that does
// not have the form the driver writes.
var ErrBadLink = errors.New("malformed overlay2 link")

// LinkLen is the length of the short names in l/ (moby overlay2 idLength).
const LinkLen = 26

// Home is the overlay2 driver directory, <root>/overlay2.
type Home struct {
	Dir string
	// FS reads the driver's files; nil reads the machine's.
	FS layerfs.Opener
	// Links, when set, keeps every short link read, so each is read once
	// however many lower lists name it.
	Links *LinkCache
}

// LinkCache keeps what each short link in l/ says.
type LinkCache struct {
	mu sync.Mutex
	m  map[string]linkResult
}

type linkResult struct {
	id  string
	err error
}

// NewLinkCache returns an empty cache.
func NewLinkCache() *LinkCache { return &LinkCache{m: map[string]linkResult{}} }

// Dirs are the paths of one layer's directories.
type Dirs struct {
	Layer  string // <home>/<id>
	Diff   string
	Work   string
	Merged string
}

// Dirs returns the directories of layer id (a cache-id, mount-id or
// <mount-id>-init). It does not check that they exist.
func (h Home) Dirs(id string) Dirs {
	l := filepath.Join(h.Dir, id)
	return Dirs{Layer: l, Diff: filepath.Join(l, "diff"), Work: filepath.Join(l, "work"), Merged: filepath.Join(l, "merged")}
}

// ValidID reports whether id can name a directory of the driver home.
func ValidID(id string) bool {
	return id != "" && id != "." && id != ".." && id != "l" && !strings.ContainsAny(id, "/\x00")
}

// Link reads the short name in <id>/link.
func (h Home) Link(id string) (string, error) {
	p := filepath.Join(h.Dir, id, "link")
	s, err := layerfs.ReadSmall(layerfs.OrOS(h.FS), p, 256)
	if err != nil {
		return "", err
	}
	if !validLink(s) {
		return "", fmt.Errorf("%s: %w: %q is not %d characters of [A-Z0-9]", p, ErrBadLink, s, LinkLen)
	}
	return s, nil
}

func validLink(s string) bool {
	if len(s) != LinkLen {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Lower is one entry of a layer's lower file.
type Lower struct {
	Ref  string // as written: "l/ABC…"
	Link string // "ABC…"
	ID   string // the layer the link points at; empty when it does not resolve
	Diff string // <home>/<ID>/diff
	Err  error  // why it does not resolve
}

// Lowers reads <id>/lower and resolves each entry through l/. exists is
// false when the layer has no lower file (a base layer). A malformed entry
// is returned with Err set; the others still resolve.
func (h Home) Lowers(id string) (lowers []Lower, exists bool, err error) {
	p := filepath.Join(h.Dir, id, "lower")
	s, err := layerfs.ReadSmall(layerfs.OrOS(h.FS), p, 1<<20)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	if s == "" {
		return nil, true, fmt.Errorf("%s: %w: empty", p, ErrBadLink)
	}
	for _, ref := range strings.Split(s, ":") {
		lw := Lower{Ref: ref}
		name, ok := strings.CutPrefix(ref, "l/")
		if !ok || !validLink(name) {
			lw.Err = fmt.Errorf("%s: %w: entry %q is not l/<%d chars>", p, ErrBadLink, ref, LinkLen)
		} else {
			lw.Link = name
			lw.ID, lw.Err = h.ResolveLink(name)
			if lw.Err == nil {
				lw.Diff = h.Dirs(lw.ID).Diff
			}
		}
		lowers = append(lowers, lw)
	}
	return lowers, true, nil
}

// ResolveLink reads the symlink l/<name> as text and returns the layer id
// it names. The link is never followed: a target that is not exactly
// "../<id>/diff" is ErrBadLink.
func (h Home) ResolveLink(name string) (string, error) {
	if c := h.Links; c != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if r, ok := c.m[name]; ok {
			return r.id, r.err
		}
		id, err := h.readLink(name)
		c.m[name] = linkResult{id, err}
		return id, err
	}
	return h.readLink(name)
}

func (h Home) readLink(name string) (string, error) {
	p := filepath.Join(h.Dir, "l", name)
	target, err := layerfs.OrOS(h.FS).Readlink(p)
	if err != nil {
		return "", err
	}
	id, ok := strings.CutPrefix(target, "../")
	if ok {
		id, ok = strings.CutSuffix(id, "/diff")
	}
	if !ok || !ValidID(id) {
		return "", fmt.Errorf("%s: %w: target %q is not ../<id>/diff", p, ErrBadLink, target)
	}
	return id, nil
}

// bookkeeping says what the driver's own entry name of its home is, for
// the names that are not layer dirs.
func bookkeeping(name string) (string, bool) {
	switch name {
	case "l":
		return "the driver's short links: l/<link> -> ../<id>/diff, so that mount options fit in a page", true
	case "backingFsBlockDev":
		return "device node the driver makes to set project quotas", true
	}
	return "", false
}
