package whose

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
)

// Words for verdicts.

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func ctrName(c *Container) string {
	if c.Name != "" {
		return c.Name
	}
	return inspect.ShortID(c.ID)
}

// ctrPhrase: "web (running)".
func ctrPhrase(c *Container) string {
	return ctrName(c) + " (" + c.State + ")"
}

func imageName(id digest.Digest, tags []string) string {
	if len(tags) > 0 {
		return tags[0]
	}
	return inspect.ShortID(string(id))
}

// tagList names the images to remove: the tagged ones (an untagged
// parent goes with its child), or, when none is tagged, every image ID.
func tagList(ims []ImageUse) []string {
	var tagged, all []string
	for _, im := range ims {
		if len(im.Tags) > 0 {
			tagged = append(tagged, im.Tags[0])
		}
		all = append(all, inspect.ShortID(string(im.ID)))
	}
	if len(tagged) == 0 {
		tagged = all
	}
	return tagged
}

// layerPos: "layer 3 of 4".
func layerPos(u ImageUse) string {
	return fmt.Sprintf("layer %d of %d", u.Position, u.Layers)
}

// hitPhrase names the layer of an entry: "image layer 2 (RUN …)",
// "the rw layer", "the init layer".
func hitPhrase(h *Hit) string {
	switch h.Role {
	case RoleRW:
		return "the rw layer"
	case RoleInit:
		return "the init layer"
	}
	return fmt.Sprintf("image layer %d (%s)", h.Position, inspect.ShortID(string(h.ChainID)))
}

// ownerPhrase names the owner of a layer dir.
func ownerPhrase(a *Answer) string {
	o := a.Owner
	switch o.Kind {
	case OwnerImageLayer:
		return "image layer " + inspect.ShortID(o.ID)
	case OwnerRWLayer:
		return "the rw layer of container " + ctrPhrase(o.Container)
	case OwnerInitLayer:
		return "the init layer of container " + ctrPhrase(o.Container)
	}
	return strings.ReplaceAll(string(o.Kind), "_", " ") + " " + inspect.ShortID(o.ID)
}

// allocated is a file's allocated bytes.
func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return 0
}
