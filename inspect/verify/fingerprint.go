package verify

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"path"
	"path/filepath"
	"sort"
	"sync"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// treePrint is a layer tree's stat fingerprint (see State): how many
// entries its content dir has and the hex SHA-256 of their stat fields.
type treePrint struct {
	entries int64
	sum     string
	err     error // the walk failed: the layer is re-hashed
}

// fingerprint walks layer l's content dir at stat cost (one fstatat per
// entry, through directory descriptors, never following a symlink, as
// every read of a layer) and hashes, in name order, each entry's path
// with its stat fields; then the stat of the file the layer's tar comes
// from (tar-split.json.gz, or its blob). Xattrs are not read: setting or
// removing one changes the inode's ctime.
func (m *model) fingerprint(l *layerInfo) treePrint {
	root, err := m.s.FS().OpenDir(m.graph.Layout(l.CacheID).Content)
	if err != nil {
		return treePrint{err: err}
	}
	defer root.Close()
	w := &printWalk{h: sha256.New()}
	self, err := root.Self()
	if err != nil {
		return treePrint{err: err}
	}
	w.add(".", self)
	if err := w.dir(root, "."); err != nil {
		return treePrint{err: err}
	}
	src := l.tarSplit
	if l.blob != nil {
		src = l.blob.Path
	}
	st, err := m.fileStat(src)
	if err != nil {
		return treePrint{err: err}
	}
	w.h.Write([]byte("\x00source\x00"))
	w.add(filepath.Base(src), st) // not the path: the root may be named another way next time
	return treePrint{entries: w.n, sum: hex.EncodeToString(w.h.Sum(nil))}
}

// fileStat lstats a store file (never following a symlink) as layerfs
// does an entry.
func (m *model) fileStat(p string) (layerfs.Stat, error) {
	fi, err := m.s.FS().Lstat(p)
	if err != nil {
		return layerfs.Stat{}, err
	}
	st, ok := layerfs.StatOf(fi)
	if !ok {
		return layerfs.Stat{}, fmt.Errorf("%s: no stat", p)
	}
	return st, nil
}

// statSum is the hex SHA-256 of one file's stat fields.
func statSum(st layerfs.Stat) string {
	w := &printWalk{h: sha256.New()}
	w.add("", st)
	return hex.EncodeToString(w.h.Sum(nil))
}

// printWalk hashes a tree's entries as it walks them.
type printWalk struct {
	h   hash.Hash
	n   int64
	buf []byte
}

// add hashes one entry: its path, then its stat fields, fixed-width.
// The device (st_dev) is left out: it may differ each time a disk image
// is mounted, and the inode with its ctime already tells a replaced file.
func (w *printWalk) add(rel string, st layerfs.Stat) {
	w.n++
	b := append(w.buf[:0], rel...)
	b = append(b, 0)
	for _, v := range []uint64{uint64(st.Mode), uint64(st.UID), uint64(st.GID), st.Rdev, st.Ino, st.Nlink, uint64(st.Size),
		uint64(st.Mtime.Sec), uint64(st.Mtime.Nsec), uint64(st.Ctime.Sec), uint64(st.Ctime.Nsec)} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	w.buf = b
	w.h.Write(b)
}

// errVanished is a walk's error when an entry listed is gone when stat-ed.
var errVanished = errors.New("removed during the walk")

// dir hashes the entries of d (at rel), in name order, and their subtrees.
func (w *printWalk) dir(d *layerfs.Dir, rel string) error {
	names, err := d.Names()
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range names {
		st, ok, err := d.Lstat(n)
		if err != nil {
			return err
		}
		p := path.Join(rel, n)
		if !ok {
			return fmt.Errorf("%s: %w", p, errVanished)
		}
		w.add(p, st)
		if !st.IsDir() {
			continue
		}
		sub, err := d.Sub(n)
		if err != nil {
			return err
		}
		err = w.dir(sub, p)
		sub.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// fingerprints walks the layers, jobs at a time. A layer that is a whole
// tree (Terms.WholeTreeLayers) is checked against the layer below it, so
// its print also covers that layer's.
func (m *model) fingerprints(ls []*layerInfo, jobs int) map[*layerInfo]treePrint {
	prints := make([]treePrint, len(ls))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(jobs, max(len(ls), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				prints[i] = m.fingerprint(ls[i])
			}
		}()
	}
	for i := range ls {
		next <- i
	}
	close(next)
	wg.Wait()
	out := make(map[*layerInfo]treePrint, len(ls))
	for i, l := range ls {
		out[l] = prints[i]
	}
	if !m.terms.WholeTreeLayers {
		return out
	}
	combined := make(map[*layerInfo]treePrint, len(ls))
	var combine func(l *layerInfo, depth int) treePrint
	combine = func(l *layerInfo, depth int) treePrint {
		if p, ok := combined[l]; ok {
			return p
		}
		p := out[l]
		if l.Parent != "" && p.err == nil {
			below, ok := m.layers[l.Parent]
			var bp treePrint
			switch {
			case !ok || depth > len(m.layers):
				bp.err = fmt.Errorf("layer %s: the layer below is unknown", l.ChainID)
			case out[below].sum == "":
				bp.err = fmt.Errorf("layer %s: the layer below was not walked", l.ChainID)
			default:
				bp = combine(below, depth+1)
			}
			if bp.err != nil {
				p = treePrint{err: bp.err}
			} else {
				h := sha256.Sum256([]byte(p.sum + " " + bp.sum))
				p.sum = hex.EncodeToString(h[:])
			}
		}
		combined[l] = p
		return p
	}
	for _, l := range ls {
		combine(l, 0)
	}
	return combined
}
