package whose

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/layerfs"
)

func (q *query) imageLayerVerdict() Verdict {
	a := q.a
	l := a.Owner.Layer
	what := "image layer " + inspect.ShortID(l.CacheID)
	switch a.Kind {
	case PathLayerEntry:
		what = "a path inside image layer " + inspect.ShortID(l.CacheID)
	case PathLayerRecord:
		what = "the layerdb record of image layer " + inspect.ShortID(l.CacheID)
	}
	if len(l.Images) == 0 {
		return Verdict{Safe: SafeCaution, Instead: "docker image prune; docker builder prune",
			Reason: what + ": no image uses it now, but layerdb still records it, so Docker believes it exists; remove it through Docker"}
	}
	users := fmt.Sprintf("%s of %s", layerPos(l.Images[0]), imageName(l.Images[0].ID, l.Images[0].Tags))
	if n := len(l.Images) - 1; n > 0 {
		users += fmt.Sprintf(" (and %d more image%s)", n, plural(n))
	}
	v := Verdict{Safe: SafeNo}
	cmds := [][]string{append([]string{"docker", "rmi"}, tagList(l.Images)...)}
	if n := len(l.Containers); n > 0 {
		names := make([]string, len(l.Containers))
		for i, c := range l.Containers {
			names[i] = ctrName(&c)
		}
		users += fmt.Sprintf(", used by %d container%s (%s)", n, plural(n), strings.Join(names, ", "))
		v.Reason = what + ", " + users + ": deleting it breaks them"
		cmds = append([][]string{append([]string{"docker", "rm"}, names...)}, cmds...)
	} else {
		v.Reason = what + ", " + users + ": deleting it breaks the image"
	}
	if a.Kind == PathLayerEntry {
		v.Reason += "; changing an image layer changes what every container on it sees, and the layer no longer matches its diff ID (dlayer verify, docker save and push notice)"
		return v
	}
	v.suggest(cmds...)
	return v
}

func (q *query) rwVerdict() Verdict {
	a := q.a
	c := a.Owner.Container
	name := ctrName(c)
	switch a.Kind {
	case PathLayerMountpoint, PathMergedEntry:
		return Verdict{Safe: SafeNo, Reason: "the mount point of container " + ctrPhrase(c) +
			"'s root file system: nothing is stored here; while it is mounted, deleting a file below it deletes it in the container (a whiteout in its writable layer)"}
	case PathLayerEntry:
		if c.State == "running" || c.State == "paused" || c.State == "restarting" || len(a.Mounts) > 0 {
			v := Verdict{Safe: SafeNo,
				Reason: "container " + ctrPhrase(c) + " has this writable layer mounted: changing the writable layer under a live union mount (overlayfs, aufs) is undefined behaviour"}
			switch {
			case a.Entry == nil || !a.Entry.Exists || a.Entry.Kind == EntryWhiteout:
			case a.Entry.Type == layerfs.TypeDir:
				v.suggest([]string{"docker", "exec", name, "rm", "-r", a.InLayer})
			default:
				v.suggest([]string{"docker", "exec", name, "rm", a.InLayer})
			}
			return v
		}
		instead := "nothing: the path disappears from the container"
		for _, v := range a.Views {
			if v.Below != nil && a.Entry != nil && a.Entry.Kind != EntryWhiteout {
				instead = "the " + v.Below.Entry + " of " + hitPhrase(v.Below) + " shows again"
			} else if a.Entry != nil && a.Entry.Kind == EntryWhiteout && v.Below != nil {
				instead = "the deleted " + v.Below.Entry + " of " + hitPhrase(v.Below) + " comes back"
			}
		}
		return Verdict{Safe: SafeCaution,
			Reason: "a change container " + ctrPhrase(c) + " made; it is stopped, so deleting it here is like undoing the change: " + instead}
	}
	if a.Kind == PathMountRecord {
		return withCommand(Verdict{Safe: SafeNo,
			Reason: "the layerdb record of the writable layer of container " + ctrPhrase(c) + ": it is how Docker finds the container's rw and init layer dirs (mount-id, init-id) and its image's top layer (parent)"},
			[]string{"docker", "rm", name})
	}
	return withCommand(Verdict{Safe: SafeNo,
		Reason: "part of the writable layer of container " + ctrPhrase(c) + ": every change it made to its files lives here; deleting it loses them and breaks the container"},
		[]string{"docker", "rm", name})
}

// recentChange: an unowned dir changed this recently may be one the daemon
// is creating right now (a pull or build writes the layer dir first and
// its metadata last).
const recentChange = 10 * time.Minute

func (q *query) orphanVerdict() Verdict {
	a := q.a
	v := Verdict{Safe: SafeYes, Reason: "orphan: " + a.Owner.Why}
	if a.Usage != nil {
		v.Reason += fmt.Sprintf("; deleting it frees %d bytes (%d allocated)", a.Usage.Size, a.Usage.DiskUsage)
	}
	var doubts []string
	if len(a.Mounts) > 0 {
		doubts = append(doubts, "a live mount uses it: "+strings.Join(a.Mounts, ", "))
	}
	if x := q.index(); len(x.unreadable) > 0 {
		entries := "entries"
		if len(x.unreadable) == 1 {
			entries = "entry"
		}
		doubts = append(doubts, fmt.Sprintf("%d metadata %s could not be read, and may name it", len(x.unreadable), entries))
		a.Findings = append(a.Findings, x.unreadable...)
	}
	if isOwn(q.s, a.Driver) && q.bk == nil {
		doubts = append(doubts, "BuildKit's snapshots.db could not be read: it may be build cache")
	}
	dir := a.Path
	if a.LayerDir != "" {
		dir = q.s.Graph().Layout(a.LayerDir).Dir
	}
	if fi, err := q.s.FS().Lstat(dir); err == nil && time.Since(fi.ModTime()) < recentChange {
		doubts = append(doubts, "it changed "+time.Since(fi.ModTime()).Round(time.Second).String()+" ago: the daemon may be creating it (a pull or build writes the dir before its metadata)")
	}
	if ents, err := q.s.FS().ReadDir(q.s.ImagePath("layerdb", "tmp")); err == nil && len(ents) > 0 && isOwn(q.s, a.Driver) {
		doubts = append(doubts, "layerdb/tmp holds a layer being written")
	}
	if len(doubts) > 0 {
		v.Safe = SafeCaution
		v.Reason += "; but " + strings.Join(doubts, "; ")
	}
	return v
}

func (q *query) containerVerdict() Verdict {
	a := q.a
	o := a.Owner
	if o.Kind == OwnerOrphan {
		if strings.HasSuffix(o.ID, "-removing") {
			return Verdict{Safe: SafeYes, Reason: "orphan: " + o.Why}
		}
		return Verdict{Safe: SafeCaution, Reason: "orphan: " + o.Why + "; the daemon may be creating the container right now"}
	}
	c := o.Container
	name := ctrName(c)
	base := path.Base(a.Name)
	switch {
	case a.Kind == PathContainerDir:
		return withCommand(Verdict{Safe: SafeNo,
			Reason: "the dir of container " + ctrPhrase(c) + ": its config, logs and hosts files; deleting it makes Docker forget the container and leaves its layers as orphans"},
			[]string{"docker", "rm", name})
	case strings.Contains(base, "-json.log"):
		return withCommand(Verdict{Safe: SafeCaution,
			Reason: "the json-file log of container " + ctrPhrase(c) + ": while the container runs the daemon keeps it open, so deleting it frees nothing until the container stops, and docker logs loses it; empty it instead (and run containers with --log-opt max-size=…)"},
			[]string{"truncate", "-s", "0", a.Path})
	case base == "hosts" || base == "hostname" || base == "resolv.conf" || base == "resolv.conf.hash":
		return Verdict{Safe: SafeNo, Reason: "bind-mounted into container " + ctrPhrase(c) + " as /etc/" + strings.TrimSuffix(base, ".hash") + " (Docker writes it when the container starts)"}
	case a.Name == "config.v2.json" || a.Name == "hostconfig.json":
		return withCommand(Verdict{Safe: SafeNo,
			Reason: "the configuration of container " + ctrPhrase(c) + ": without it Docker forgets the container and its layers become orphans"},
			[]string{"docker", "rm", name})
	}
	return Verdict{Safe: SafeNo, Reason: "part of the dir of container " + ctrPhrase(c)}
}

func (q *query) imageVerdict() Verdict {
	a := q.a
	im := a.Owner.Image
	what := "the config"
	switch a.Kind {
	case PathImageMetadata:
		what = "metadata"
	case PathContentBlob:
		what = "the " + q.blobWhat + " blob"
	}
	v := Verdict{Safe: SafeNo,
		Reason: fmt.Sprintf("%s of image %s (%d layer%s)", what, imageName(im.ID, im.Tags), im.Layers, plural(im.Layers))}
	cmds := [][]string{{"docker", "rmi", imageName(im.ID, im.Tags)}}
	if n := len(im.Containers); n > 0 {
		names := make([]string, n)
		for i, c := range im.Containers {
			names[i] = ctrName(&c)
		}
		v.Reason += fmt.Sprintf(", used by %d container%s (%s)", n, plural(n), strings.Join(names, ", "))
		cmds = append([][]string{append([]string{"docker", "rm"}, names...)}, cmds...)
	}
	if im.Children > 0 {
		v.Reason += fmt.Sprintf(", parent of %d image%s built from it", im.Children, plural(im.Children))
	}
	v.Reason += ": deleting it breaks the image"
	v.suggest(cmds...)
	return v
}
