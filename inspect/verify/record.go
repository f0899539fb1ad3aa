package verify

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/dlayer/dlayer/inspect/backend"
	"github.com/opencontainers/go-digest"
)

// readLayer reads one layer's record through the Store, which reads each
// of its files on its own: each bad file is one finding.
func (m *model) readLayer(chain digest.Digest) *layerInfo {
	rec, err := m.s.Layer(chain)
	rec.ChainID = chain
	l := &layerInfo{Layer: rec, dir: m.s.LayerPath(chain)}
	bad := func(kind Kind, file, msg string) {
		m.add(Finding{Kind: kind, ObjectType: ObjectLayer, Object: chain.String(), Path: file, File: file, Message: msg})
	}
	files, other := fileErrors(err)
	for _, e := range other {
		bad(KindLayerUnreadable, l.dir, e.Error())
	}
	ok := map[string]bool{"diff": len(other) == 0, "parent": len(other) == 0, "cache-id": len(other) == 0}
	for _, fe := range files {
		name := filepath.Base(fe.Path)
		if name == "size" {
			bad(KindSizeMalformed, fe.Path, fe.Err.Error())
			continue
		}
		bad(KindLayerUnreadable, fe.Path, name+": "+fe.Err.Error())
		ok[name] = false
	}
	if l.CacheID != "" && !m.graph.ValidID(l.CacheID) {
		p := filepath.Join(l.dir, "cache-id")
		bad(KindLayerUnreadable, p, fmt.Sprintf("cache-id %q is not a directory name", l.CacheID))
		l.CacheID, ok["cache-id"] = "", false
	}
	l.readable = ok["diff"] && ok["parent"] && ok["cache-id"] && l.DiffID != "" && l.CacheID != ""
	if m.bv != nil {
		m.readLayerBlob(l)
		return l
	}
	p := filepath.Join(l.dir, "tar-split.json.gz")
	if fi, err := m.s.FS().Lstat(p); err != nil || !fi.Mode().IsRegular() {
		msg := "not a regular file"
		if err != nil {
			msg = err.Error()
		}
		bad(KindTarSplitMissing, p, msg+": the layer's tar stream cannot be rebuilt (docker save and push fail)")
	} else {
		l.tarSplit = p
	}
	return l
}

// fileErrors splits an error of Store.Layer into one FileError per bad
// file and the errors that name no file (the record's dir is gone or
// unreadable).
func fileErrors(err error) (files []*backend.FileError, other []error) {
	if err == nil {
		return nil, nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			f, o := fileErrors(e)
			files, other = append(files, f...), append(other, o...)
		}
		return files, other
	}
	var fe *backend.FileError
	if errors.As(err, &fe) {
		return []*backend.FileError{fe}, nil
	}
	return nil, []error{err}
}
