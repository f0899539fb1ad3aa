package containerd

import (
	"slices"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// The labels by which containerd's garbage collector follows references
// (containerd core/metadata gc.go): a content record's
// containerd.io/gc.ref.content[.<anything>] label names another blob, its
// containerd.io/gc.ref.snapshot.<snapshotter>[.<anything>] a snapshot key,
// containerd.io/gc.root makes it a root.
const (
	labelRefContent  = "containerd.io/gc.ref.content"
	labelRefSnapshot = "containerd.io/gc.ref.snapshot." + string(Name)
	labelGCRoot      = "containerd.io/gc.root"
)

// nsRefs is one namespace's part of what keeps content alive in the
// content store, which every namespace shares: the roots (images'
// targets, leases, gc.root content) and the references between blobs.
type nsRefs struct {
	name string
	// images are the namespace's image targets, by image name.
	images map[string]digest.Digest
	// leases hold content, by digest: the lease ids.
	leases map[digest.Digest][]string
	// content are the namespace's content records: the blobs each names
	// by its gc.ref.content labels.
	content map[digest.Digest][]digest.Digest
	// roots are content records labelled containerd.io/gc.root.
	roots map[digest.Digest]bool
}

// readRefs reads every namespace's gc references from meta.db's v1/.
func readRefs(tx *bolt.Tx, out map[string]*nsRefs) {
	v1 := tx.Bucket([]byte("v1"))
	if v1 == nil {
		return
	}
	v1.ForEachBucket(func(k []byte) error {
		ns := v1.Bucket(k)
		r := &nsRefs{name: string(k), images: map[string]digest.Digest{}, leases: map[digest.Digest][]string{},
			content: map[digest.Digest][]digest.Digest{}, roots: map[digest.Digest]bool{}}
		out[r.name] = r
		if ib := ns.Bucket([]byte("images")); ib != nil {
			ib.ForEachBucket(func(name []byte) error {
				if t := nested(ib, string(name), "target"); t != nil {
					if d := digest.Digest(t.Get([]byte("digest"))); d.Validate() == nil {
						r.images[string(name)] = d
					}
				}
				return nil
			})
		}
		if lb := ns.Bucket([]byte("leases")); lb != nil {
			lb.ForEachBucket(func(id []byte) error {
				if cb := nested(lb, string(id), "content"); cb != nil {
					cb.ForEach(func(d, _ []byte) error {
						if dd := digest.Digest(d); dd.Validate() == nil {
							r.leases[dd] = append(r.leases[dd], string(id))
						}
						return nil
					})
				}
				return nil
			})
		}
		if cb := nested(ns, "content", "blob"); cb != nil {
			cb.ForEachBucket(func(d []byte) error {
				dd := digest.Digest(d)
				if dd.Validate() != nil {
					return nil
				}
				var kids []digest.Digest
				if labels := nested(cb, string(d), "labels"); labels != nil {
					labels.ForEach(func(k, v []byte) error {
						switch key := string(k); {
						case key == labelGCRoot:
							r.roots[dd] = true
						case key == labelRefContent || strings.HasPrefix(key, labelRefContent+"."):
							if x := digest.Digest(v); x.Validate() == nil {
								kids = append(kids, x)
							}
						}
						return nil
					})
				}
				r.content[dd] = kids
				return nil
			})
		}
		return nil
	})
}

// reach lists the blobs reachable from d by gc.ref.content labels, d
// included: what d keeps alive in the namespace.
func (r *nsRefs) reach(d digest.Digest, seen map[digest.Digest]bool) {
	stack := []digest.Digest{d}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[x] {
			continue
		}
		seen[x] = true
		stack = append(stack, r.content[x]...)
	}
}

// blobUse is what keeps one blob of the content store alive.
type blobUse struct {
	// images are the image targets (IDs) of the store's namespace whose
	// references reach the blob.
	images []digest.Digest
	// holders are the other things that do: "lease <id>" of the store's
	// namespace, "namespace <name>" for another namespace's images,
	// leases or roots.
	holders []string
}

// blobUses computes, for every blob any namespace's references reach,
// what keeps it alive: as containerd's garbage collector marks content,
// from each namespace's images, leases and gc.root records along
// gc.ref.content labels.
func (ix *index) blobUses(ns string) map[digest.Digest]*blobUse {
	out := map[digest.Digest]*blobUse{}
	use := func(d digest.Digest) *blobUse {
		u := out[d]
		if u == nil {
			u = &blobUse{}
			out[d] = u
		}
		return u
	}
	names := make([]string, 0, len(ix.refs))
	for n := range ix.refs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := ix.refs[n]
		if n == ns {
			targets := map[digest.Digest]bool{}
			for _, t := range r.images {
				targets[t] = true
			}
			for _, t := range sortedDigests(targets) {
				seen := map[digest.Digest]bool{}
				r.reach(t, seen)
				for d := range seen {
					u := use(d)
					u.images = append(u.images, t)
				}
			}
			for d, ids := range r.leases {
				seen := map[digest.Digest]bool{}
				r.reach(d, seen)
				for x := range seen {
					u := use(x)
					for _, id := range ids {
						u.holders = append(u.holders, "lease "+id)
					}
				}
			}
			for d := range r.roots {
				seen := map[digest.Digest]bool{}
				r.reach(d, seen)
				for x := range seen {
					u := use(x)
					u.holders = append(u.holders, "gc root "+string(d))
				}
			}
			continue
		}
		seen := map[digest.Digest]bool{}
		for _, t := range r.images {
			r.reach(t, seen)
		}
		for d := range r.leases {
			r.reach(d, seen)
		}
		for d := range r.roots {
			r.reach(d, seen)
		}
		for d := range seen {
			u := use(d)
			u.holders = append(u.holders, "namespace "+n)
		}
	}
	for _, u := range out {
		slices.Sort(u.images)
		u.images = slices.Compact(u.images)
		slices.Sort(u.holders)
		u.holders = slices.Compact(u.holders)
	}
	return out
}

func sortedDigests(m map[digest.Digest]bool) []digest.Digest {
	out := make([]digest.Digest, 0, len(m))
	for d := range m {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}
