package whose

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dlayer/dlayer/inspect"
)

// ErrOutsideRoot: a path given to Ask is not under the data root.
var ErrOutsideRoot = errors.New("not under the data root")

// Options are the inputs of Ask besides the store and the path.
type Options struct {
	// Mounts are the overlay mounts of mountinfo; MountsKnown says whether
	// mount data was read at all. A layer dir a live mount uses is never
	// called safe to delete.
	Mounts      []inspect.LiveMount
	MountsKnown bool
}

// Ask says what a path under the data root is, who owns it (an image
// layer, a container's rw or init layer, build cache, or nothing), what
// each container using a layer sees at a path inside it, and whether
// deleting it is safe. arg is absolute, or relative to the data root, or a
// bare short link name or layer dir id. It is resolved lexically: nothing
// inside the data root is followed. A path outside the root is
// ErrOutsideRoot; a path that does not exist and that nothing names is
// inspect.ErrNotFound.
func Ask(s *inspect.Store, arg string, opt Options) (*Answer, error) {
	parts, err := resolveArg(s, arg)
	if err != nil {
		return nil, err
	}
	// A path of another driver's store that the root also holds (a host
	// migrated between drivers) is answered from that store.
	if other := storeOfPath(s, parts); other != s {
		a, err := answer(other, arg, parts, opt)
		if err != nil {
			return nil, err
		}
		inactive(a, s.Driver)
		return a, nil
	}
	return answer(s, arg, parts, opt)
}

// storeOfPath is the store of the driver whose dirs a path is in (its
// home, or where its metadata lives); s for the rest.
func storeOfPath(s *inspect.Store, parts []string) *inspect.Store {
	p := strings.Join(parts, "/") + "/"
	for _, st := range s.Stores() {
		for _, dir := range []string{st.Home(), st.Metadata().Path()} {
			if rel, err := filepath.Rel(s.Root, dir); err == nil && strings.HasPrefix(p, rel+"/") {
				return st
			}
		}
	}
	return s
}

// inactive marks an answer from the store of a driver the root holds
// besides the one read (active).
func inactive(a *Answer, active string) {
	a.Notes = append(a.Notes, fmt.Sprintf("this root holds the image stores of %s and %s (a host migrated between drivers): dlayer reads the %s store (--driver), and this path is in the %s store, which a daemon running %s does not use",
		active, a.Driver, active, a.Driver, active))
	if a.Verdict.Safe == SafeNo {
		a.Verdict = Verdict{Safe: SafeCaution, Instead: a.Verdict.Instead,
			Reason: "in the " + a.Driver + " store, which a daemon running " + active + " does not use: " + a.Verdict.Reason + "; it matters again only if the daemon runs " + a.Driver}
	}
}

// answer answers for a path of the store's driver.
func answer(s *inspect.Store, arg string, parts []string, opt Options) (*Answer, error) {
	q := &query{s: s, opt: opt, a: &Answer{Arg: arg, Findings: []inspect.Finding{}, Terms: s.Graph().Terms()}}
	parts = q.throughShortLink(parts)
	q.setPath(parts)
	q.classify(parts)
	a := q.a
	if !a.Exists && !a.Owner.Kind.named() {
		return nil, fmt.Errorf("%s: %w: no such file or directory, and no layer, container or image of the store names it", a.Path, inspect.ErrNotFound)
	}
	q.measure()
	q.liveMounts()
	a.Verdict = q.verdict()
	return a, nil
}

// query is one Ask in progress.
type query struct {
	s   *inspect.Store
	opt Options
	a   *Answer
	idx *index
	// bk is BuildKit's dir names, read once when needed.
	bk     map[string]bool
	bkRead bool
	// claimedBy names the containers whose records all claim the layer
	// dir asked about, when more than one does.
	claimedBy []string
	// blobWhat is what a content blob asked about is to its images
	// ("manifest", "config", "layer", "index").
	blobWhat string
}

// finding adds a finding to the answer.
func (q *query) finding(kind inspect.FindingKind, path, msg string) {
	q.a.Findings = append(q.a.Findings, inspect.Finding{Kind: kind, Path: path, Message: msg})
}

// lexists reports whether p exists, without following a symlink.
func lexists(s *inspect.Store, p string) bool {
	_, err := s.FS().Lstat(p)
	return err == nil
}
