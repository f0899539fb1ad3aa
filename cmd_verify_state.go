package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/inspect/verify"
)

// verifyState is verify --state: the file, the records read from it, and
// what the report says of them.
type verifyState struct {
	file string
	// root is the data root as recorded: absolute, symlinks resolved.
	root  string
	trust verify.Trust
	// problem says why the file could not be used ("" when it could, or
	// when there is none yet).
	problem string
}

// openState checks --state and --max-age and reads the file: a missing
// file is a first run; one that cannot be used is said (problem) and the
// run re-hashes everything, then rewrites it. The error is a usage
// error: a file under the root, or a directory that does not exist.
func openState(root string, o verifyOptions, now time.Time) (*verifyState, error) {
	if o.State == "" {
		if o.MaxAge != nil {
			return nil, errors.New("--max-age limits the age of a --state record: it needs --state FILE")
		}
		return nil, nil
	}
	if o.Quick {
		return nil, errors.New("--state records what full re-hashes established; --quick re-hashes nothing")
	}
	file, err := outsideRoot("--state", root, o.State)
	if err != nil {
		return nil, err
	}
	vs := &verifyState{file: file, root: canonicalRoot(root)}
	if o.MaxAge != nil {
		vs.trust.NotBefore = now.Add(-max(*o.MaxAge, 0))
	}
	b, err := layerfs.ReadFileLimit(file, verify.MaxStateBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return vs, nil
	case err != nil:
		vs.problem = err.Error()
		return vs, nil
	}
	st, err := verify.ParseState(bytes.NewReader(b))
	if err == nil {
		err = st.For(vs.root)
	}
	if err != nil {
		vs.problem = err.Error()
		return vs, nil
	}
	vs.trust.Prev = st
	return vs, nil
}

// canonicalRoot is root absolute with its symlinks resolved, as a state
// file records it (the same store named two ways is one store).
func canonicalRoot(root string) string {
	r, err := filepath.EvalSymlinks(root)
	if err != nil {
		r = root
	}
	if abs, err := filepath.Abs(r); err == nil {
		r = abs
	}
	return filepath.Clean(r)
}

// warn says on stderr that the file could not be used, and what the run
// does instead.
func (vs *verifyState) warn(stderr io.Writer) {
	if vs.problem != "" {
		fmt.Fprintf(stderr, "dlayer: verify: --state %s: %s: every layer is re-hashed and the file rewritten\n", vs.file, vs.problem)
	}
}

// note fills what the report says of the state file.
func (vs *verifyState) note(r *verify.Report, maxAge *time.Duration) {
	if r == nil || r.Trust == nil {
		return
	}
	r.Trust.File, r.Trust.Problem = vs.file, vs.problem
	if maxAge != nil {
		r.Trust.MaxAge = maxAge.String()
	}
}

// write records the run's state for the next run (mode 0600, through a
// temporary file and a rename). A run that could not see everything
// keeps the old file: it established nothing.
func (vs *verifyState) write(d deps, r *verify.Report) error {
	if r == nil || r.Next == nil || !r.Complete {
		return nil
	}
	r.Next.Root = vs.root
	return writeAtomic(d.critical, vs.file, 0o600, r.Next.Encode)
}
