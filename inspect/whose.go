package inspect

import (
	"errors"
	"fmt"
	"github.com/dlayer/dlayer/inspect/backend"
	"os"
	"path/filepath"

	"strings"
	"syscall"
)

// ErrOutsideRoot: a path given to Whose is not under the data root.
var ErrOutsideRoot = errors.New("not under the data root")

// WhoseOptions are the inputs of Whose besides the store and the path.
type WhoseOptions struct {
	// BuildKit reads the driver dir names that BuildKit's snapshot store
	// at path records (buildkit.Snapshots). It is called only when a
	// layer dir is named by no layer or container. Nil: build cache cannot
	// be told from orphans, and the answer says so.
	BuildKit func(path string) (map[string]bool, error)
	// Mounts are the overlay mounts of mountinfo; MountsKnown says whether
	// mount data was read at all. A layer dir a live mount uses is never
	// called safe to delete.
	Mounts      []LiveMount
	MountsKnown bool
}

// Whose says what a path under the data root is, who owns it (an image
// layer, a container's rw or init layer, build cache, or nothing), what
// each container using a layer sees at a path inside it, and whether
// deleting it is safe. arg is absolute, or relative to the data root, or a
// bare short link name or layer dir id. It is resolved lexically: nothing
// inside the data root is followed. A path outside the root is
// ErrOutsideRoot; a path that does not exist and that nothing names is
// ErrNotFound.
func (s *Store) Whose(arg string, opt WhoseOptions) (*WhoseAnswer, error) {
	parts, err := s.resolveArg(arg)
	if err != nil {
		return nil, err
	}
	// A path of another driver's store that the root also holds (a host
	// migrated between drivers) is answered from that store.
	if other := s.storeOfPath(parts); other != s {
		a, err := other.whose(arg, parts, opt)
		if err != nil {
			return nil, err
		}
		whoseInactive(a, s.Driver)
		return a, nil
	}
	return s.whose(arg, parts, opt)
}

// storeOfPath is the store of the driver whose dirs a path is in (its
// home, or where its metadata lives); s for the rest.
func (s *Store) storeOfPath(parts []string) *Store {
	p := strings.Join(parts, "/") + "/"
	for _, st := range s.stores() {
		for _, dir := range []string{st.graph.Home(), st.meta.Path()} {
			if rel, err := filepath.Rel(s.Root, dir); err == nil && strings.HasPrefix(p, rel+"/") {
				return st
			}
		}
	}
	return s
}

// whoseInactive marks an answer from the store of a driver the root holds
// besides the one read (active).
func whoseInactive(a *WhoseAnswer, active string) {
	a.Notes = append(a.Notes, fmt.Sprintf("this root holds the image stores of %s and %s (a host migrated between drivers): dlayer reads the %s store (--driver), and this path is in the %s store, which a daemon running %s does not use",
		active, a.Driver, active, a.Driver, active))
	if a.Verdict.Safe == SafeNo {
		a.Verdict = WhoseVerdict{Safe: SafeCaution, Instead: a.Verdict.Instead,
			Reason: "in the " + a.Driver + " store, which a daemon running " + active + " does not use: " + a.Verdict.Reason + "; it matters again only if the daemon runs " + a.Driver}
	}
}

// whose answers for a path of this store's driver.
func (s *Store) whose(arg string, parts []string, opt WhoseOptions) (*WhoseAnswer, error) {
	q := &whoseQuery{s: s, opt: opt, a: &WhoseAnswer{Arg: arg, Findings: []Finding{}}}
	parts = q.throughShortLink(parts)
	q.setPath(parts)
	q.classify(parts)
	a := q.a
	if !a.Exists && !whoseNamed[a.Owner.Kind] {
		return nil, fmt.Errorf("%s: %w: no such file or directory, and no layer, container or image of the store names it", a.Path, ErrNotFound)
	}
	q.measure()
	q.liveMounts()
	a.Verdict = q.verdict()
	return a, nil
}

// whoseNamed are the owners the store's metadata names: a path of theirs
// that does not exist is still answered (a missing layer dir, the merged/
// dir of a container that is not running).
var whoseNamed = map[string]bool{OwnerImageLayer: true, OwnerRWLayer: true, OwnerInitLayer: true, OwnerImage: true, OwnerContainer: true}

// whoseQuery is one Whose call in progress.
type whoseQuery struct {
	s   *Store
	opt WhoseOptions
	a   *WhoseAnswer
	idx *whoseIndex
	// bk is BuildKit's dir names, read once when needed.
	bk     map[string]bool
	bkRead bool
}

// resolveArg turns arg into the components of a path below the root.
func (s *Store) resolveArg(arg string) ([]string, error) {
	if arg == "" {
		return nil, fmt.Errorf("empty path: %w", ErrNotFound)
	}
	root, err := filepath.Abs(s.Root)
	if err != nil {
		return nil, err
	}
	var rel string
	if filepath.IsAbs(arg) {
		rel, err = filepath.Rel(root, filepath.Clean(arg))
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, fmt.Errorf("%s: %w %s (compared as text: a symlink to the data root does not count)", arg, ErrOutsideRoot, root)
		}
	} else {
		rel = filepath.Clean(arg)
		if !strings.Contains(rel, "/") && rel != "." {
			if _, err := os.Lstat(filepath.Join(root, rel)); errors.Is(err, os.ErrNotExist) {
				return s.resolveBare(rel)
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

// resolveBare finds what a bare name names: a short link, a layer dir
// (cache-id, mount-id, init-id), a layer (chain ID), an image or a
// container ID.
func (s *Store) resolveBare(name string) ([]string, error) {
	exists := s.whoseExists
	hex := strings.TrimPrefix(name, "sha256:")
	_, link, linkErr := s.graph.ShortLink(name)
	switch {
	case s.graph.IsShortLink(name) && !errors.Is(linkErr, backend.ErrNoShortLinks) && s.lexists(link):
		return s.rootParts(link), nil
	case validID(name) && exists(s.whoseDirParts(name)...):
		return s.whoseDirParts(name), nil
	case isHex64(hex) && exists("image", s.Driver, "layerdb", "sha256", hex):
		return []string{"image", s.Driver, "layerdb", "sha256", hex}, nil
	case isHex64(hex) && exists("image", s.Driver, "imagedb", "content", "sha256", hex):
		return []string{"image", s.Driver, "imagedb", "content", "sha256", hex}, nil
	case isHex64(hex) && exists("containers", hex):
		return []string{"containers", hex}, nil
	}
	// a layer dir that metadata names but that is missing
	if validID(name) {
		q := &whoseQuery{s: s}
		if o := q.index().owner(name); o != "" {
			return s.whoseDirParts(name), nil
		}
	}
	return nil, fmt.Errorf("%q: %w: not a path under %s, nor a short link, layer dir, chain ID, image ID or container ID of the store", name, ErrNotFound, s.Root)
}

// whoseDirParts is layer dir id below the data root, as components.
func (s *Store) whoseDirParts(id string) []string {
	rel, err := filepath.Rel(s.Root, s.graph.Layout(id).Dir)
	if err != nil {
		return []string{s.Driver, id}
	}
	return strings.Split(rel, "/")
}

// throughShortLink rewrites <driver>/l/<LINK>/rest to the layer dir the
// link names, read as text: <driver>/<id>/diff/rest.
func (q *whoseQuery) throughShortLink(parts []string) []string {
	l, ok := q.s.whoseLayoutAt(whoseFirst(parts))
	if !ok || l.Name != q.s.Driver {
		return parts
	}
	d := l.Parse(parts[1:])
	if d.Kind != PathShortLink || len(d.Rel) == 0 {
		return parts
	}
	id, link, err := l.d.ShortLink(d.Link)
	if err != nil {
		return parts // classify reports the bad link
	}
	content, err := filepath.Rel(q.s.Root, q.s.graph.Layout(id).Content)
	if err != nil {
		return parts
	}
	linkRel, _ := filepath.Rel(q.s.Root, link)
	q.a.Notes = append(q.a.Notes, fmt.Sprintf("%s is a symlink to the layer's content dir: read as text, not followed; answering for %s/%s",
		linkRel, content, strings.Join(d.Rel, "/")))
	return append(strings.Split(content, "/"), d.Rel...)
}

// hasLayoutAt reports whether the data root's entry first is a
// registered driver's home.
func (s *Store) hasLayoutAt(first string) bool {
	_, ok := s.whoseLayoutAt(first)
	return ok
}

// lexists reports whether p exists, without following a symlink.
func (s *Store) lexists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// rootParts is p below the data root, as components.
func (s *Store) rootParts(p string) []string {
	rel, err := filepath.Rel(s.Root, p)
	if err != nil {
		return nil
	}
	return strings.Split(rel, "/")
}

func whoseFirst(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	return parts[0]
}

// setPath fills Path and Rel, and Exists and Type from lstat of each
// component in turn: a symlink before the last component is not followed.
func (q *whoseQuery) setPath(parts []string) {
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
		fi, err := os.Lstat(p)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				a.Findings = append(a.Findings, Finding{Kind: "unreadable", Path: p, Message: err.Error()})
			}
			return
		}
		if i < len(parts)-1 && fi.Mode()&os.ModeSymlink != 0 {
			a.Notes = append(a.Notes, fmt.Sprintf("%s is a symlink; dlayer does not follow symlinks inside the data root", p))
			return
		}
		if i == len(parts)-1 {
			a.Exists, a.Type = true, whoseFileType(fi.Mode())
		}
	}
	if len(parts) == 0 {
		a.Exists, a.Type = true, "dir"
	}
}
