package whose

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/opencontainers/go-digest"
)

// resolveArg turns arg into the components of a path below the root.
func resolveArg(s *inspect.Store, arg string) ([]string, error) {
	if arg == "" {
		return nil, fmt.Errorf("empty path: %w", inspect.ErrNotFound)
	}
	root, err := filepath.Abs(s.Root)
	if err != nil {
		return nil, err
	}
	var rel string
	if filepath.IsAbs(arg) {
		rel, err = filepath.Rel(root, filepath.Clean(arg))
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			if parts, ok := outsideHome(s, root, filepath.Clean(arg)); ok {
				return parts, nil
			}
			return nil, fmt.Errorf("%s: %w %s (compared as text: a symlink to the data root does not count)", arg, ErrOutsideRoot, root)
		}
	} else {
		rel = filepath.Clean(arg)
		if !strings.Contains(rel, "/") && rel != "." {
			if _, err := s.FS().Lstat(filepath.Join(root, rel)); errors.Is(err, os.ErrNotExist) {
				return resolveBare(s, rel)
			}
		}
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("%s: %w %s (a relative path is taken from the data root)", arg, ErrOutsideRoot, root)
	}
	if rel == "." {
		return nil, nil
	}
	return strings.Split(rel, "/"), nil
}

// outsideHome returns the parts of p when it lies in the home of a driver
// kept outside the data root (the containerd snapshotter's, under the
// containerd root): the home's path relative to the root as the first part
// (what layoutAt matches), then the components below it.
func outsideHome(s *inspect.Store, root, p string) ([]string, bool) {
	var dirs []string
	for _, d := range s.Drivers() {
		dirs = append(dirs, d.Home())
	}
	for _, st := range s.Stores() {
		if b, ok := st.Blobs(); ok {
			dirs = append(dirs, b.BlobsDir())
		}
	}
	for _, d := range dirs {
		home := filepath.Clean(d)
		if rel, err := filepath.Rel(root, home); err != nil || !strings.HasPrefix(rel, "../") {
			continue
		}
		if p == home {
			return []string{relTo(root, home)}, true
		}
		if rest, ok := strings.CutPrefix(p, home+"/"); ok {
			return append([]string{relTo(root, home)}, strings.Split(rest, "/")...), true
		}
	}
	return nil, false
}

func relTo(root, p string) string {
	r, _ := filepath.Rel(root, p)
	return r
}

// resolveBare finds what a bare name names: a short link, a layer dir
// (cache-id, mount-id, init-id), a layer (chain ID), an image or a
// container ID.
func resolveBare(s *inspect.Store, name string) ([]string, error) {
	g := s.Graph()
	hex := strings.TrimPrefix(name, "sha256:")
	id := digest.NewDigestFromEncoded(digest.SHA256, hex)
	_, link, linkErr := g.ShortLink(name)
	switch {
	case g.IsShortLink(name) && !errors.Is(linkErr, backend.ErrNoShortLinks) && lexists(s, link):
		return rootParts(s, link), nil
	case inspect.ValidID(name) && lexists(s, g.Layout(name).Dir):
		return rootParts(s, g.Layout(name).Dir), nil
	case inspect.IsHex64(hex) && lexists(s, s.LayerPath(id)):
		return rootParts(s, s.LayerPath(id)), nil
	case inspect.IsHex64(hex) && lexists(s, s.ImagePath("imagedb", "content", "sha256", hex)):
		return rootParts(s, s.ImagePath("imagedb", "content", "sha256", hex)), nil
	case inspect.IsHex64(hex) && lexists(s, s.Path("containers", hex)):
		return []string{"containers", hex}, nil
	}
	// a layer dir that metadata names but that is missing
	if inspect.ValidID(name) {
		q := &query{s: s}
		if o := q.index().owner(name); o != "" {
			return rootParts(s, g.Layout(name).Dir), nil
		}
	}
	return nil, fmt.Errorf("%q: %w: not a path under %s, nor a short link, layer dir, chain ID, image ID or container ID of the store", name, inspect.ErrNotFound, s.Root)
}

// rootParts is p below the data root, as components.
func rootParts(s *inspect.Store, p string) []string {
	rel, err := filepath.Rel(s.Root, p)
	if err != nil {
		return nil
	}
	return strings.Split(rel, "/")
}

// throughShortLink rewrites <driver>/l/<LINK>/rest to the layer dir the
// link names, read as text: <driver>/<id>/diff/rest.
func (q *query) throughShortLink(parts []string) []string {
	l, ok := layoutAt(q.s, first(parts))
	if !ok || !isOwn(q.s, l.Name) {
		return parts
	}
	d := l.d.ParsePath(parts[1:])
	if d.Kind != PathShortLink || len(d.Rel) == 0 {
		return parts
	}
	id, link, err := l.d.ShortLink(d.Link)
	if err != nil {
		return parts // classify reports the bad link
	}
	content, err := filepath.Rel(q.s.Root, q.s.Graph().Layout(id).Content)
	if err != nil {
		return parts
	}
	linkRel, _ := filepath.Rel(q.s.Root, link)
	q.a.Notes = append(q.a.Notes, fmt.Sprintf("%s is a symlink to the layer's content dir: read as text, not followed; answering for %s/%s",
		linkRel, content, strings.Join(d.Rel, "/")))
	return append(strings.Split(content, "/"), d.Rel...)
}

func first(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	return parts[0]
}

// setPath fills Path and Rel, and Exists and Type from lstat of each
// component in turn: a symlink before the last component is not followed.
func (q *query) setPath(parts []string) {
	a := q.a
	root, _ := filepath.Abs(q.s.Root)
	a.Path = filepath.Join(append([]string{root}, parts...)...)
	a.Rel = filepath.Join(parts...)
	if a.Rel == "" {
		a.Rel = "."
	}
	p := root
	for i, name := range parts {
		p = filepath.Join(p, name)
		fi, err := q.s.FS().Lstat(p)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				q.finding("unreadable", p, err.Error())
			}
			return
		}
		if i < len(parts)-1 && fi.Mode()&os.ModeSymlink != 0 {
			a.Notes = append(a.Notes, fmt.Sprintf("%s is a symlink; dlayer does not follow symlinks inside the data root", p))
			return
		}
		if i == len(parts)-1 {
			a.Exists, a.Type = true, fileType(fi.Mode())
		}
	}
	if len(parts) == 0 {
		a.Exists, a.Type = true, layerfs.TypeDir
	}
}

// fileType names a file mode's type as layerfs does.
func fileType(m os.FileMode) layerfs.Type {
	switch {
	case m.IsRegular():
		return layerfs.TypeFile
	case m.IsDir():
		return layerfs.TypeDir
	case m&os.ModeSymlink != 0:
		return layerfs.TypeSymlink
	case m&os.ModeNamedPipe != 0:
		return layerfs.TypeFIFO
	case m&os.ModeSocket != 0:
		return layerfs.TypeSocket
	case m&os.ModeCharDevice != 0:
		return layerfs.TypeChar
	case m&os.ModeDevice != 0:
		return layerfs.TypeBlock
	}
	return layerfs.TypeUnknown
}
