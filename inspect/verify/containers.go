package verify

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/dlayer/dlayer/inspect"
)

// checkContainers checks each container's image, rw and init layers,
// mount parent and lower files, and the mount records of no container.
func (m *model) checkContainers() {
	known := map[string]bool{}
	for _, ci := range m.containers {
		c := ci.c
		known[c.ID] = true
		add := func(kind Kind, path, expected, actual, msg string) {
			m.add(Finding{Kind: kind, ObjectType: ObjectContainer, Object: c.ID, Path: path, File: path,
				Expected: expected, Actual: actual, Message: msg})
		}
		im := m.images[c.ImageID]
		if c.ImageID != "" && im == nil {
			add(KindContainerImageMissing, c.Path, c.ImageID.String(), "missing", "the container's image does not exist in imagedb")
		}
		if c.Driver != "" && c.Driver != m.s.Driver {
			continue // another driver's container: its layers are not here
		}
		mr, err := m.s.MountRecord(c.ID)
		if err != nil {
			p := m.s.ImagePath("layerdb", "mounts", c.ID)
			add(KindContainerMountMissing, p, "", "", err.Error())
			continue
		}
		if m.aufs {
			m.aufsContainer(c.ID, mr, m.layers[mr.Parent])
			continue
		}
		rw := m.home.Dirs(mr.MountID)
		rwOK := m.containerDir(add, rw.Layer, "rw")
		initOK := mr.InitID != "" && m.containerDir(add, m.home.Dirs(mr.InitID).Layer, "init")
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
		imgLower, ok := "", true
		if top != nil {
			imgLower, ok = m.lowerOf(top)
		} else if mr.Parent != "" {
			ok = false
		}
		if !ok || !rwOK || !initOK {
			continue
		}
		initLink, err := m.home.Link(mr.InitID)
		if err != nil {
			add(KindContainerLowerMismatch, m.home.Dirs(mr.InitID).Layer+"/link", "", "", err.Error())
			continue
		}
		m.checkShortLink(ObjectContainer, c.ID, initLink, mr.InitID)
		if link, err := m.home.Link(mr.MountID); err != nil {
			add(KindContainerLowerMismatch, rw.Layer+"/link", "", "", err.Error())
		} else {
			m.checkShortLink(ObjectContainer, c.ID, link, mr.MountID)
		}
		m.compareLower(ObjectContainer, c.ID, m.home.Dirs(mr.InitID).Layer, imgLower)
		m.compareLower(ObjectContainer, c.ID, rw.Layer, strings.TrimSuffix("l/"+initLink+":"+imgLower, ":"))
	}
	ids, err := m.s.MountContainerIDs()
	if err != nil {
		p := m.s.ImagePath("layerdb", "mounts")
		m.add(Finding{Kind: KindContainerMountMissing, ObjectType: ObjectStore, Path: p, File: p, Message: err.Error()})
	}
	for _, id := range ids {
		if !known[id] {
			p := m.s.ImagePath("layerdb", "mounts", id)
			if _, err := os.Stat(m.s.Path("containers", id)); err == nil {
				continue // the container exists but its config was unreadable: already a finding
			}
			m.add(Finding{Kind: KindMountOrphan, ObjectType: ObjectContainer, Object: id, Path: p, File: p,
				Expected: "containers/" + id, Actual: "missing", Message: "an rw layer record whose container does not exist"})
		}
	}
}

// containerDir checks that a container's layer dir exists.
// aufsContainer checks a container's rw and init branches and their
// layers files: init on the image's layers, rw on init.
func (m *model) aufsContainer(id string, mr inspect.MountRecord, top *layerInfo) {
	var below []string
	if top != nil {
		below = m.parentIDs(top)
	} else if mr.Parent != "" {
		return // reported above: the parent layer does not exist
	}
	rwOK := m.aufsDirs(ObjectContainer, id, mr.MountID, "the container's rw layer directory is gone")
	if mr.InitID == "" {
		if rwOK {
			m.compareParents(ObjectContainer, id, mr.MountID, below)
		}
		return
	}
	if m.aufsDirs(ObjectContainer, id, mr.InitID, "the container's init layer directory is gone") {
		m.compareParents(ObjectContainer, id, mr.InitID, below)
	}
	if rwOK {
		m.compareParents(ObjectContainer, id, mr.MountID, append([]string{mr.InitID}, below...))
	}
}

func (m *model) containerDir(add func(Kind, string, string, string, string), p, what string) bool {
	fi, err := os.Lstat(p)
	if err == nil && fi.IsDir() {
		return true
	}
	actual := "not a directory"
	if errors.Is(err, fs.ErrNotExist) {
		actual = "missing"
	} else if err != nil {
		actual = err.Error()
	}
	add(KindContainerLayerMissing, p, "a directory", actual, fmt.Sprintf("the container's %s layer directory is gone", what))
	return false
}
