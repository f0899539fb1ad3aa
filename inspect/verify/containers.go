package verify

import (
	"fmt"

	"github.com/dlayer/dlayer/inspect"
)

// checkContainers checks each container's image, rw and init layers,
// mount parent and parents files, and the mount records of no container.
func (m *model) checkContainers() {
	known := map[string]bool{}
	for _, c := range m.containers {
		known[c.ID] = true
		m.checkContainer(c)
	}
	ids, err := m.s.MountContainerIDs()
	if err != nil {
		p := m.s.ImagePath("layerdb", "mounts")
		m.add(Finding{Kind: KindContainerMountMissing, ObjectType: ObjectStore, Path: p, File: p, Message: err.Error()})
	}
	claims := m.s.LayerDirClaims()
	for _, dir := range inspect.SharedLayerDirs(claims) {
		cs := claims[dir]
		p := m.s.Graph().Layout(dir).Dir
		for _, c := range cs {
			rec := m.s.ImagePath("layerdb", "mounts", c)
			m.add(Finding{Kind: KindLayerDirClaimedTwice, ObjectType: ObjectContainer, Object: c, Path: rec, File: rec,
				Expected: "one container's layer dir", Actual: fmt.Sprintf("%s also named by %d other record(s)", dir, len(cs)-1),
				Message: fmt.Sprintf("layer dir %s is claimed by the records of containers %s: Docker gives each container its own; one of the records is not Docker's (every command names all of them)", p, shortList(cs))})
		}
	}
	for _, id := range ids {
		if !known[id] {
			p := m.s.ImagePath("layerdb", "mounts", id)
			if _, err := m.s.FS().Lstat(m.s.Path("containers", id)); err == nil {
				continue // the container exists but its config was unreadable: already a finding
			}
			m.add(Finding{Kind: KindMountOrphan, ObjectType: ObjectContainer, Object: id, Path: p, File: p,
				Expected: "containers/" + id, Actual: "missing", Message: "an rw layer record whose container does not exist"})
		}
	}
}

// containerAdd records a finding about one container.
type containerAdd func(kind Kind, path, expected, actual, msg string)

// checkContainer checks one container: its image exists; its rw and init
// layer dirs exist; its rw layer is stacked on its image's top layer; the
// init layer's parents file lists the image's layers, and the rw layer's
// the init layer and then them.
func (m *model) checkContainer(c inspect.Container) {
	add := func(kind Kind, path, expected, actual, msg string) {
		m.add(Finding{Kind: kind, ObjectType: ObjectContainer, Object: c.ID, Path: path, File: path,
			Expected: expected, Actual: actual, Message: msg})
	}
	im := m.images[c.ImageID]
	if c.ImageID != "" && im == nil {
		add(KindContainerImageMissing, c.Path, c.ImageID.String(), "missing", "the container's image does not exist in imagedb")
	}
	if !m.ownLayers(c) {
		return // another driver's container: its layers are not here
	}
	mr, err := m.s.MountRecord(c.ID)
	if err != nil {
		p := m.s.ImagePath("layerdb", "mounts", c.ID)
		add(KindContainerMountMissing, p, "", "", err.Error())
		return
	}
	rwOK := m.containerDir(add, mr.MountID, "rw")
	initOK := mr.InitID != "" && m.containerDir(add, mr.InitID, "init")
	if mr.InitID == "" {
		add(KindContainerMountMissing, m.s.ImagePath("layerdb", "mounts", c.ID, "init-id"), "", "missing", "no init-id: the container has no init layer")
	}
	var top *layerInfo
	if mr.Parent != "" {
		if top = m.layers[mr.Parent]; top == nil {
			p := m.s.ImagePath("layerdb", "mounts", c.ID, "parent")
			add(KindContainerParentMismatch, p, "a layerdb entry", mr.Parent.String(), "the rw layer's parent layer does not exist")
		}
	}
	if im != nil && im.intact && im.parsed {
		want := ""
		if n := len(im.chains); n > 0 {
			want = im.chains[n-1].String()
		}
		if string(mr.Parent) != want {
			p := m.s.ImagePath("layerdb", "mounts", c.ID, "parent")
			add(KindContainerParentMismatch, p, orNone(want), orNone(mr.Parent.String()),
				"the rw layer is not stacked on the top layer of the container's image")
		}
	}
	var below []string
	ok := true
	if top != nil {
		below, ok = m.lowersOf(top)
	} else if mr.Parent != "" {
		ok = false
	}
	if !ok || !rwOK || !initOK {
		return
	}
	initRef, ok := m.containerLink(c.ID, add, mr.InitID)
	if !ok {
		return
	}
	m.containerLink(c.ID, add, mr.MountID)
	m.compareLowers(ObjectContainer, c.ID, mr.InitID, below)
	m.compareLowers(ObjectContainer, c.ID, mr.MountID, append([]string{initRef}, below...))
}

// containerLink reads the short link of a container's layer id and checks
// that it names the layer; ref is how a parents file names the layer.
func (m *model) containerLink(cid string, add containerAdd, id string) (ref string, ok bool) {
	link, err := m.graph.Link(id)
	if err != nil {
		add(KindContainerLowerMismatch, m.graph.LinkFile(id), "", "", err.Error())
		return "", false
	}
	if link != "" {
		m.checkShortLink(ObjectContainer, cid, link, id)
	}
	return m.graph.LowerRef(id, link), true
}

// containerDir checks that the dirs of a container's layer id (the layer
// dir, and its content dir: the upper dir) are directories. A symlink
// there is never followed: it is a finding naming its target.
func (m *model) containerDir(add containerAdd, id, what string) bool {
	for _, p := range layerDirs(m.graph.Layout(id)) {
		fi, err := m.s.FS().Lstat(p)
		if err == nil && fi.IsDir() {
			continue
		}
		msg := fmt.Sprintf("the container's %s layer directory is gone", what)
		if err == nil {
			msg = fmt.Sprintf("the container's %s layer directory is not a directory: dlayer never follows it, and Docker's mount would use what it names", what)
		}
		add(KindContainerLayerMissing, p, "a directory", describePath(m.s.FS(), p, fi, err), msg)
		return false
	}
	return true
}

// shortList is container IDs as Docker prints them, comma-separated.
func shortList(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += ", "
		}
		out += inspect.ShortID(id)
	}
	return out
}
