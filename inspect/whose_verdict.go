package inspect

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Safe values of a WhoseVerdict.
const (
	SafeNo      = "no"
	SafeYes     = "yes"
	SafeCaution = "caution"
)

// whoseRecent: an unowned dir changed this recently may be one the daemon
// is creating right now (a pull or build writes the layer dir first and
// its metadata last).
const whoseRecent = 10 * time.Minute

// measure fills Usage for what deleting the path would free: files
// always, dirs unless they belong to an image or to Docker as a whole (an
// image layer's size is in layerdb).
func (q *whoseQuery) measure() {
	a := q.a
	if !a.Exists {
		return
	}
	fi, err := os.Lstat(a.Path)
	if err != nil {
		return
	}
	if !fi.IsDir() {
		st := whoseStat(fi)
		a.Usage = &WhoseUsage{Size: fi.Size(), DiskUsage: st}
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
	size, disk, err := treeUsage(a.Path)
	if err != nil {
		a.Findings = append(a.Findings, Finding{Kind: "unreadable", Path: a.Path, Message: err.Error() + ": not fully measured"})
	}
	a.Usage = &WhoseUsage{Size: size, DiskUsage: disk + whoseStat(fi)}
}

// liveMounts lists the live overlay and aufs mounts that use the path's layer dir.
func (q *whoseQuery) liveMounts() {
	a, s := q.a, q.s
	if a.LayerDir == "" || a.Driver != s.Driver || !q.opt.MountsKnown {
		return
	}
	lay := s.graph.Layout(a.LayerDir)
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
			if l, _ := filepath.Abs(s.resolveLowerPath(l)); l == content { // <home>/l/<LINK> read as text
				use = true
			}
		}
		if use && !slices.Contains(a.Mounts, m.MountPoint) { // one mount seen from several namespaces
			a.Mounts = append(a.Mounts, m.MountPoint)
		}
	}
}

// verdict says whether deleting the path is safe.
func (q *whoseQuery) verdict() WhoseVerdict {
	a := q.a
	o := a.Owner
	switch a.Kind {
	case PathDataRoot, PathDriverHome, PathContainers, PathImageStore:
		if o.Kind == OwnerOtherDriver {
			return q.otherDriver()
		}
		return WhoseVerdict{Safe: SafeNo, Reason: "it holds the whole store or a whole part of it: " + o.Why}
	case PathRepositories:
		return WhoseVerdict{Safe: SafeNo, Reason: "deleting it untags every image (they stay, as <none>)"}
	case PathDistribution:
		return WhoseVerdict{Safe: SafeCaution, Reason: "nothing breaks, but the next push and pull of these layers cannot be skipped: " + o.Why}
	case PathLayerdbTmp:
		return WhoseVerdict{Safe: SafeCaution, Reason: "an unfinished layer write: safe to delete only while the daemon is stopped"}
	case PathBuildKit:
		return WhoseVerdict{Safe: SafeNo, Reason: o.Why + "; deleting parts of it by hand breaks later builds", Instead: "docker builder prune"}
	case PathOther:
		return q.otherVerdict()
	case PathContainerDir, PathContainerFile:
		return q.containerVerdict()
	case PathShortLink:
		if a.Link != nil && a.Link.Dangling {
			return WhoseVerdict{Safe: SafeYes, Reason: "dangling short link: " + a.Link.Target + " does not exist, so nothing can use it"}
		}
		if o.Kind == OwnerOrphan {
			return WhoseVerdict{Safe: SafeYes, Reason: "the short link of an orphan layer dir (" + o.ID + "): delete it with that dir"}
		}
		v := q.ownerVerdict()
		switch o.Kind {
		case OwnerImageLayer, OwnerInitLayer:
			v.Reason = "the short name of " + whoseOwnerPhrase(a) + ": the lower files of the layers above it and their overlay mounts name it; deleting it breaks every container on that layer"
		case OwnerRWLayer:
			v.Reason = "the short name of " + whoseOwnerPhrase(a) + ": no lower file names a writable layer, but the driver keeps one link per layer dir and expects it"
		}
		return v
	}
	return q.ownerVerdict()
}

// ownerVerdict judges paths of a layer dir, by the dir's owner.
func (q *whoseQuery) ownerVerdict() WhoseVerdict {
	a := q.a
	o := a.Owner
	switch o.Kind {
	case OwnerImageLayer:
		return q.imageLayerVerdict()
	case OwnerRWLayer:
		return q.rwVerdict()
	case OwnerInitLayer:
		return WhoseVerdict{Safe: SafeNo, Instead: "docker rm " + whoseCtrName(o.Container),
			Reason: "part of the init layer of container " + whoseCtrPhrase(o.Container) +
				": Docker makes it with the container and mounts it under the writable layer at every start"}
	case OwnerBuildCache:
		return WhoseVerdict{Safe: SafeNo, Instead: "docker builder prune",
			Reason: "BuildKit's build cache: buildkit/snapshots.db still names it; deleting it by hand breaks builds that reuse it"}
	case OwnerBookkeeping:
		return WhoseVerdict{Safe: SafeNo, Reason: "the driver's own: " + o.Why}
	case OwnerOrphan:
		return q.orphanVerdict()
	case OwnerImage:
		return q.imageVerdict()
	case OwnerOtherDriver:
		return q.otherDriver()
	}
	return WhoseVerdict{Safe: SafeCaution, Reason: "dlayer cannot tell who owns it (" + o.Why + "): leave it unless you know"}
}

func (q *whoseQuery) imageLayerVerdict() WhoseVerdict {
	a := q.a
	l := a.Owner.Layer
	what := "image layer " + shortID(l.CacheID)
	switch a.Kind {
	case PathLayerEntry:
		what = "a path inside image layer " + shortID(l.CacheID)
	case PathLayerRecord:
		what = "the layerdb record of image layer " + shortID(l.CacheID)
	}
	if len(l.Images) == 0 {
		return WhoseVerdict{Safe: SafeCaution, Instead: "docker image prune; docker builder prune",
			Reason: what + ": no image uses it now, but layerdb still records it, so Docker believes it exists; remove it through Docker"}
	}
	users := fmt.Sprintf("%s of %s", whoseLayerPos(l.Images[0]), whoseImageName(l.Images[0].ID, l.Images[0].Tags))
	if n := len(l.Images) - 1; n > 0 {
		users += fmt.Sprintf(" (and %d more image%s)", n, whosePlural(n))
	}
	v := WhoseVerdict{Safe: SafeNo, Instead: "docker rmi " + whoseTagList(l.Images)}
	if n := len(l.Containers); n > 0 {
		names := make([]string, len(l.Containers))
		for i, c := range l.Containers {
			names[i] = whoseCtrName(&c)
		}
		users += fmt.Sprintf(", used by %d container%s (%s)", n, whosePlural(n), strings.Join(names, ", "))
		v.Reason = what + ", " + users + ": deleting it breaks them"
		v.Instead = "docker rm " + strings.Join(names, " ") + "; then " + v.Instead
	} else {
		v.Reason = what + ", " + users + ": deleting it breaks the image"
	}
	if a.Kind == PathLayerEntry {
		v.Reason += "; changing an image layer changes what every container on it sees, and the layer no longer matches its diff ID (dlayer verify, docker save and push notice)"
		v.Instead = ""
	}
	return v
}

func (q *whoseQuery) rwVerdict() WhoseVerdict {
	a := q.a
	c := a.Owner.Container
	name := whoseCtrName(c)
	switch a.Kind {
	case PathLayerMountpoint, PathMergedEntry:
		return WhoseVerdict{Safe: SafeNo, Reason: "the mount point of container " + whoseCtrPhrase(c) +
			"'s root file system: nothing is stored here; while it is mounted, deleting a file below it deletes it in the container (a whiteout in its writable layer)"}
	case PathLayerEntry:
		if c.State == "running" || c.State == "paused" || c.State == "restarting" || len(a.Mounts) > 0 {
			v := WhoseVerdict{Safe: SafeNo,
				Reason: "container " + whoseCtrPhrase(c) + " has this writable layer mounted: changing the writable layer under a live union mount (overlayfs, aufs) is undefined behaviour"}
			switch {
			case a.Entry == nil || !a.Entry.Exists || a.Entry.Kind == "whiteout":
			case a.Entry.Type == "dir":
				v.Instead = "docker exec " + name + " rm -r " + a.InLayer
			default:
				v.Instead = "docker exec " + name + " rm " + a.InLayer
			}
			return v
		}
		instead := "nothing: the path disappears from the container"
		for _, v := range a.Views {
			if v.Below != nil && a.Entry != nil && a.Entry.Kind != "whiteout" {
				instead = "the " + v.Below.Entry + " of " + whoseHitPhrase(v.Below) + " shows again"
			} else if a.Entry != nil && a.Entry.Kind == "whiteout" && v.Below != nil {
				instead = "the deleted " + v.Below.Entry + " of " + whoseHitPhrase(v.Below) + " comes back"
			}
		}
		return WhoseVerdict{Safe: SafeCaution,
			Reason: "a change container " + whoseCtrPhrase(c) + " made; it is stopped, so deleting it here is like undoing the change: " + instead}
	}
	if a.Kind == PathMountRecord {
		return WhoseVerdict{Safe: SafeNo, Instead: "docker rm " + name,
			Reason: "the layerdb record of the writable layer of container " + whoseCtrPhrase(c) + ": it is how Docker finds the container's rw and init layer dirs (mount-id, init-id) and its image's top layer (parent)"}
	}
	return WhoseVerdict{Safe: SafeNo, Instead: "docker rm " + name,
		Reason: "part of the writable layer of container " + whoseCtrPhrase(c) + ": every change it made to its files lives here; deleting it loses them and breaks the container"}
}

func (q *whoseQuery) orphanVerdict() WhoseVerdict {
	a := q.a
	v := WhoseVerdict{Safe: SafeYes, Reason: "orphan: " + a.Owner.Why}
	if a.Usage != nil {
		v.Reason += fmt.Sprintf("; deleting it frees %d bytes (%d allocated)", a.Usage.Size, a.Usage.DiskUsage)
	}
	var doubts []string
	if len(a.Mounts) > 0 {
		doubts = append(doubts, "a live mount uses it: "+strings.Join(a.Mounts, ", "))
	}
	if x := q.index(); len(x.unreadable) > 0 {
		doubts = append(doubts, fmt.Sprintf("%d metadata entr%s could not be read, and may name it", len(x.unreadable), map[bool]string{true: "y", false: "ies"}[len(x.unreadable) == 1]))
		a.Findings = append(a.Findings, x.unreadable...)
	}
	if a.Driver == q.s.Driver && q.bk == nil {
		doubts = append(doubts, "BuildKit's snapshots.db could not be read: it may be build cache")
	}
	dir := a.Path
	if a.LayerDir != "" {
		dir = q.s.Path(a.Driver, a.LayerDir)
	}
	if fi, err := os.Lstat(dir); err == nil && time.Since(fi.ModTime()) < whoseRecent {
		doubts = append(doubts, "it changed "+time.Since(fi.ModTime()).Round(time.Second).String()+" ago: the daemon may be creating it (a pull or build writes the dir before its metadata)")
	}
	if ents, err := os.ReadDir(q.s.imageDir("layerdb", "tmp")); err == nil && len(ents) > 0 && a.Driver == q.s.Driver {
		doubts = append(doubts, "layerdb/tmp holds a layer being written")
	}
	if len(doubts) > 0 {
		v.Safe = SafeCaution
		v.Reason += "; but " + strings.Join(doubts, "; ")
	}
	return v
}

func (q *whoseQuery) otherDriver() WhoseVerdict {
	return WhoseVerdict{Safe: SafeCaution, Reason: q.a.Owner.Why + "; deleting it loses those images should the daemon run that driver again"}
}

func (q *whoseQuery) otherVerdict() WhoseVerdict {
	a := q.a
	switch {
	case a.Owner.Kind == OwnerUnknown:
		return WhoseVerdict{Safe: SafeCaution, Reason: "dlayer does not know this part of the data root: leave it unless you know"}
	case strings.HasPrefix(a.Rel, "volumes/") && a.Name != "":
		return WhoseVerdict{Safe: SafeNo, Instead: "docker volume rm " + a.Name, Reason: a.Owner.Why}
	case a.Rel == "tmp" || strings.HasPrefix(a.Rel, "tmp/"):
		return WhoseVerdict{Safe: SafeCaution, Reason: a.Owner.Why + ": safe to delete while the daemon is stopped"}
	}
	return WhoseVerdict{Safe: SafeNo, Reason: a.Owner.Why}
}

func (q *whoseQuery) containerVerdict() WhoseVerdict {
	a := q.a
	o := a.Owner
	if o.Kind == OwnerOrphan {
		if strings.HasSuffix(o.ID, "-removing") {
			return WhoseVerdict{Safe: SafeYes, Reason: "orphan: " + o.Why}
		}
		return WhoseVerdict{Safe: SafeCaution, Reason: "orphan: " + o.Why + "; the daemon may be creating the container right now"}
	}
	c := o.Container
	name := whoseCtrName(c)
	base := path.Base(a.Name)
	switch {
	case a.Kind == PathContainerDir:
		return WhoseVerdict{Safe: SafeNo, Instead: "docker rm " + name,
			Reason: "the dir of container " + whoseCtrPhrase(c) + ": its config, logs and hosts files; deleting it makes Docker forget the container and leaves its layers as orphans"}
	case strings.Contains(base, "-json.log"):
		return WhoseVerdict{Safe: SafeCaution, Instead: "truncate -s 0 " + a.Path + " (or run containers with --log-opt max-size=…)",
			Reason: "the json-file log of container " + whoseCtrPhrase(c) + ": while the container runs the daemon keeps it open, so deleting it frees nothing until the container stops, and docker logs loses it"}
	case base == "hosts" || base == "hostname" || base == "resolv.conf" || base == "resolv.conf.hash":
		return WhoseVerdict{Safe: SafeNo, Reason: "bind-mounted into container " + whoseCtrPhrase(c) + " as /etc/" + strings.TrimSuffix(base, ".hash") + " (Docker writes it when the container starts)"}
	case a.Name == "config.v2.json" || a.Name == "hostconfig.json":
		return WhoseVerdict{Safe: SafeNo, Instead: "docker rm " + name,
			Reason: "the configuration of container " + whoseCtrPhrase(c) + ": without it Docker forgets the container and its layers become orphans"}
	}
	return WhoseVerdict{Safe: SafeNo, Reason: "part of the dir of container " + whoseCtrPhrase(c)}
}

func (q *whoseQuery) imageVerdict() WhoseVerdict {
	a := q.a
	im := a.Owner.Image
	what := "the config"
	if a.Kind == PathImageMetadata {
		what = "metadata"
	}
	v := WhoseVerdict{Safe: SafeNo, Instead: "docker rmi " + whoseImageName(im.ID, im.Tags),
		Reason: fmt.Sprintf("%s of image %s (%d layer%s)", what, whoseImageName(im.ID, im.Tags), im.Layers, whosePlural(im.Layers))}
	if n := len(im.Containers); n > 0 {
		names := make([]string, n)
		for i, c := range im.Containers {
			names[i] = whoseCtrName(&c)
		}
		v.Reason += fmt.Sprintf(", used by %d container%s (%s)", n, whosePlural(n), strings.Join(names, ", "))
		v.Instead = "docker rm " + strings.Join(names, " ") + "; then " + v.Instead
	}
	if im.Children > 0 {
		v.Reason += fmt.Sprintf(", parent of %d image%s built from it", im.Children, whosePlural(im.Children))
	}
	v.Reason += ": deleting it breaks the image"
	return v
}
