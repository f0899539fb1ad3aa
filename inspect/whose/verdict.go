package whose

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// measure fills Usage for what deleting the path would free: files
// always, dirs unless they belong to an image or to Docker as a whole (an
// image layer's size is in layerdb).
func (q *query) measure() {
	a := q.a
	if !a.Exists {
		return
	}
	fi, err := q.s.FS().Lstat(a.Path)
	if err != nil {
		return
	}
	if !fi.IsDir() {
		st := allocated(fi)
		a.Usage = &Usage{Size: fi.Size(), DiskUsage: st}
		if fi.Mode()&os.ModeSymlink == 0 && !fi.Mode().IsRegular() {
			a.Usage.Size = 0
		}
		return
	}
	switch a.Owner.Kind {
	case OwnerImageLayer, OwnerImage, OwnerDocker, OwnerBookkeeping:
		return
	}
	if a.Kind == PathLayerMountpoint || a.Kind == PathMergedEntry {
		return // a live mount: the content is the layers'
	}
	size, disk, err := q.s.TreeUsage(a.Path)
	if err != nil {
		q.finding("unreadable", a.Path, err.Error()+": not fully measured")
	}
	a.Usage = &Usage{Size: size, DiskUsage: disk + allocated(fi)}
}

// liveMounts lists the live overlay and aufs mounts that use the path's layer dir.
func (q *query) liveMounts() {
	a, s := q.a, q.s
	if a.LayerDir == "" || !isOwn(s, a.Driver) || !q.opt.MountsKnown {
		return
	}
	lay := s.Graph().Layout(a.LayerDir)
	dir, _ := filepath.Abs(lay.Dir)
	content, _ := filepath.Abs(lay.Content)
	merged, _ := filepath.Abs(lay.Merged)
	in := func(p string) bool {
		p, _ = filepath.Abs(p)
		return p == dir || strings.HasPrefix(p, dir+"/") || p == merged
	}
	for _, m := range q.opt.Mounts {
		use := in(m.UpperDir) || in(m.WorkDir) || in(m.MountPoint)
		for _, l := range m.LowerDirs {
			if l, _ := filepath.Abs(s.ResolveLowerDir(l)); l == content { // <home>/l/<LINK> read as text
				use = true
			}
		}
		if use && !slices.Contains(a.Mounts, m.MountPoint) { // one mount seen from several namespaces
			a.Mounts = append(a.Mounts, m.MountPoint)
		}
	}
}

// verdict says whether deleting the path is safe.
func (q *query) verdict() Verdict {
	a := q.a
	o := a.Owner
	if len(q.claimedBy) > 1 {
		return Verdict{Safe: SafeNo, Reason: "the records of containers " + strings.Join(q.claimedBy, " and ") +
			" all name this layer dir, and Docker gives each container its own: one of the records is not Docker's; no command is suggested, since removing either container may remove the other's files"}
	}
	switch a.Kind {
	case PathContentBlob:
		if o.Kind == OwnerImage {
			return q.imageVerdict()
		}
		return Verdict{Safe: SafeNo, Reason: "containerd's content store: " + o.Why + "; containerd's garbage collector removes what no image, lease or build names"}
	case PathDataRoot, PathDriverHome, PathContainers, PathImageStore:
		if o.Kind == OwnerOtherDriver {
			return q.otherDriver()
		}
		return Verdict{Safe: SafeNo, Reason: "it holds the whole store or a whole part of it: " + o.Why}
	case PathRepositories:
		return Verdict{Safe: SafeNo, Reason: "deleting it untags every image (they stay, as <none>)"}
	case PathDistribution:
		return Verdict{Safe: SafeCaution, Reason: "nothing breaks, but the next push and pull of these layers cannot be skipped: " + o.Why}
	case PathLayerdbTmp:
		return Verdict{Safe: SafeCaution, Reason: "an unfinished layer write: safe to delete only while the daemon is stopped"}
	case PathBuildKit:
		return Verdict{Safe: SafeNo, Reason: o.Why + "; deleting parts of it by hand breaks later builds", Instead: "docker builder prune"}
	case PathOther:
		return q.otherVerdict()
	case PathContainerDir, PathContainerFile:
		return q.containerVerdict()
	case PathShortLink:
		if a.Link != nil && a.Link.Dangling {
			return Verdict{Safe: SafeYes, Reason: "dangling short link: " + a.Link.Target + " does not exist, so nothing can use it"}
		}
		if o.Kind == OwnerOrphan {
			return Verdict{Safe: SafeYes, Reason: "the short link of an orphan layer dir (" + o.ID + "): delete it with that dir"}
		}
		v := q.ownerVerdict()
		switch o.Kind {
		case OwnerImageLayer, OwnerInitLayer:
			v.Reason = "the short name of " + ownerPhrase(a) + ": the lower files of the layers above it and their overlay mounts name it; deleting it breaks every container on that layer"
		case OwnerRWLayer:
			v.Reason = "the short name of " + ownerPhrase(a) + ": no lower file names a writable layer, but the driver keeps one link per layer dir and expects it"
		}
		return v
	}
	return q.ownerVerdict()
}

// ownerVerdict judges paths of a layer dir, by the dir's owner.
func (q *query) ownerVerdict() Verdict {
	a := q.a
	o := a.Owner
	switch o.Kind {
	case OwnerImageLayer:
		return q.imageLayerVerdict()
	case OwnerRWLayer:
		return q.rwVerdict()
	case OwnerInitLayer:
		return withCommand(Verdict{Safe: SafeNo,
			Reason: "part of the init layer of container " + ctrPhrase(o.Container) +
				": Docker makes it with the container and mounts it under the writable layer at every start"},
			[]string{"docker", "rm", ctrName(o.Container)})
	case OwnerBuildCache:
		if strings.HasPrefix(o.Why, "BuildKit's build cache: ") {
			return Verdict{Safe: SafeNo, Instead: "docker builder prune", Reason: o.Why + "; deleting it by hand breaks builds that reuse it"}
		}
		return Verdict{Safe: SafeNo, Instead: "docker builder prune",
			Reason: "BuildKit's build cache: buildkit/snapshots.db still names it; deleting it by hand breaks builds that reuse it"}
	case OwnerBookkeeping:
		return Verdict{Safe: SafeNo, Reason: "the driver's own: " + o.Why}
	case OwnerOrphan:
		return q.orphanVerdict()
	case OwnerUnaccounted:
		return Verdict{Safe: SafeNo, Reason: o.Why + "; run dlayer verify to find the damaged record"}
	case OwnerUnownedLower:
		return Verdict{Safe: SafeNo, Reason: o.Why}
	case OwnerImage:
		return q.imageVerdict()
	case OwnerOtherDriver:
		return q.otherDriver()
	}
	return Verdict{Safe: SafeCaution, Reason: "dlayer cannot tell who owns it (" + o.Why + "): leave it unless you know"}
}

func (q *query) otherDriver() Verdict {
	return Verdict{Safe: SafeCaution, Reason: q.a.Owner.Why + "; deleting it loses those images should the daemon run that driver again"}
}

func (q *query) otherVerdict() Verdict {
	a := q.a
	switch {
	case a.Owner.Kind == OwnerUnknown:
		return Verdict{Safe: SafeCaution, Reason: "dlayer does not know this part of the data root: leave it unless you know"}
	case strings.HasPrefix(a.Rel, "volumes/") && a.Name != "":
		return withCommand(Verdict{Safe: SafeNo, Reason: a.Owner.Why}, []string{"docker", "volume", "rm", a.Name})
	case a.Rel == "tmp" || strings.HasPrefix(a.Rel, "tmp/"):
		return Verdict{Safe: SafeCaution, Reason: a.Owner.Why + ": safe to delete while the daemon is stopped"}
	}
	return Verdict{Safe: SafeNo, Reason: a.Owner.Why}
}
