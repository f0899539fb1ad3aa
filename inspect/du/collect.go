package du

import (
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
)

// collect copies the walk's numbers into the report.
func (p *plan) collect(w *walker) {
	r := p.r
	for _, e := range p.entries {
		u := p.units[e.unit]
		use := Usage{Size: u.size.Load(), DiskUsage: u.disk.Load()}
		// the driver's other entries of a layer (aufs's layers/<id> and
		// mnt/<id>) add to their owner's disk usage; the content dir gives
		// the size.
		content := p.dir(e.parent).content()
		switch e.kind {
		case ownLayer:
			e.layer.DiskUsage += use.DiskUsage
			e.layer.Files += u.files.Load()
			if content {
				e.layer.MeasuredSize = use.Size
			}
			if p.bk[e.name] {
				e.layer.BuildCache = true
			}
		case ownRW:
			e.ctr.DiskUsage += use.DiskUsage
			if content {
				e.ctr.SizeRw = use.Size
			}
		case ownInit:
			e.ctr.InitDiskUsage += use.DiskUsage
			if content {
				e.ctr.InitSize = use.Size
			}
		case ownContainerDir:
			e.ctr.DirUsage = use
			e.ctr.LogUsage = Usage{Size: u.logSize.Load(), DiskUsage: u.logDisk.Load()}
			e.ctr.LogFiles = u.logFiles.Load()
		default:
			d := Dir{Name: p.display(e), Path: u.path, Usage: use, Files: u.files.Load(), Why: e.why}
			switch e.kind {
			case ownInactive:
				r.InactiveDriver = append(r.InactiveDriver, d)
			case ownBuildCache:
				r.BuildCache = append(r.BuildCache, d)
			case ownBookkeeping:
				r.Bookkeeping = append(r.Bookkeeping, d)
			case ownOrphan:
				if fi, err := p.s.FS().Lstat(u.path); err == nil {
					d.Modified = fi.ModTime().UTC()
				}
				r.Orphans = append(r.Orphans, d)
			case ownStack:
				r.StackDirs = append(r.StackDirs, d)
			case ownIngest:
				r.Ingest = append(r.Ingest, d)
			case ownBlob, ownHeld:
				c := e.charge
				b := Blob{Digest: c.Blob, Path: u.path, Usage: use, Role: c.Role.String(), What: c.What, Images: c.Images, Holders: c.Holders, Why: c.Why}
				if b.Images == nil {
					b.Images = []digest.Digest{}
				}
				r.Blobs = append(r.Blobs, b)
			case ownUnaccounted:
				r.unaccounted = r.unaccounted.Add(use)
				p.m.find(KindUnaccounted, u.path, "%s (%d bytes on disk)", e.why, use.DiskUsage)
			default:
				r.Other = append(r.Other, d)
			}
		}
	}
	self := func(u int32, name, why string) Dir {
		return Dir{Name: name, Path: p.units[u].path, Usage: Usage{DiskUsage: p.units[u].disk.Load()}, Why: why}
	}
	for _, pd := range p.dirs {
		u, ok := p.selfs[pd.at]
		switch {
		case !ok:
		case pd.at == inContainers:
			r.Other = append(r.Other, self(u, "containers/.", "the containers dir itself"))
		case pd.at == inHome:
			r.Bookkeeping = append(r.Bookkeeping, self(u, ".", "the driver dir itself"))
		case pd.tree || pd.lead:
			r.Other = append(r.Other, self(u, pd.path+"/.", "the "+pd.path+" dir itself"))
		default:
			r.Bookkeeping = append(r.Bookkeeping, self(u, pd.name+"/.", "the "+pd.rel+" dir itself"))
		}
	}
	r.Other = append(r.Other, self(p.selfs[inRoot], ".", "the data root dir itself"))
	for _, e := range w.errs {
		p.m.find(KindUnreadable, e.path, "%v: its tree is not fully counted", e.err)
	}
	r.Mounts = append(r.Mounts, w.mounts...)
	p.locate()
	for _, u := range p.units {
		r.Summary.Files += u.files.Load() + u.dirs.Load()
	}
	r.Summary.SparseFiles, r.Summary.SparseBytes = w.sparse.Load(), w.sparseBytes.Load()
	r.Summary.HardlinkedInodes, r.Summary.ExtraLinks = w.links.count.Load(), w.links.extra.Load()
}

// locate adds up the units by where they lie: the driver home, the data
// root, the store's own tree. Each unit is counted once, so each is what
// du -sx of that dir reports (the tree inside the data root is in both).
func (p *plan) locate() {
	s := &p.r.Summary
	home, root := filepath.Clean(p.s.Graph().Home()), filepath.Clean(p.s.Root)
	tree := ""
	if st, ok := p.s.StoreTree(); ok {
		tree = filepath.Clean(st.Tree().Root)
	}
	for _, u := range p.units {
		use := Usage{Size: u.size.Load(), DiskUsage: u.disk.Load()}
		s.Total = s.Total.Add(use)
		if below(u.path, home) {
			s.DriverDir = s.DriverDir.Add(use)
		}
		if below(u.path, root) {
			s.DataRoot = s.DataRoot.Add(use)
		}
		if tree != "" && below(u.path, tree) {
			s.StoreTree = s.StoreTree.Add(use)
		}
	}
}

// below reports whether path is dir or below it.
func below(path, dir string) bool {
	path = filepath.Clean(path)
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}
