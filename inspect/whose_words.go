package inspect

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/opencontainers/go-digest"
)

// Words for verdicts.

func whosePlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func whoseCtrName(c *WhoseContainer) string {
	if c.Name != "" {
		return c.Name
	}
	return shortID(c.ID)
}

// whoseCtrPhrase: "web (running)".
func whoseCtrPhrase(c *WhoseContainer) string {
	return whoseCtrName(c) + " (" + c.State + ")"
}

func whoseImageName(id digest.Digest, tags []string) string {
	if len(tags) > 0 {
		return tags[0]
	}
	return shortID(string(id))
}

// whoseTagList names the images to remove: the tagged ones (an untagged
// parent goes with its child), or, when none is tagged, every image ID.
func whoseTagList(ims []WhoseImageUse) string {
	var tagged, all []string
	for _, im := range ims {
		if len(im.Tags) > 0 {
			tagged = append(tagged, im.Tags[0])
		}
		all = append(all, shortID(string(im.ID)))
	}
	if len(tagged) == 0 {
		tagged = all
	}
	return strings.Join(tagged, " ")
}

// whoseLayerPos: "layer 3 of 4".
func whoseLayerPos(u WhoseImageUse) string {
	return fmt.Sprintf("layer %d of %d", u.Position, u.Layers)
}

// whoseHitPhrase names the layer of an entry: "image layer 2 (RUN …)",
// "the rw layer", "the init layer".
func whoseHitPhrase(h *WhoseHit) string {
	switch h.Role {
	case "rw":
		return "the rw layer"
	case "init":
		return "the init layer"
	}
	return fmt.Sprintf("image layer %d (%s)", h.Position, shortID(string(h.ChainID)))
}

// whoseOwnerPhrase names the owner of a layer dir.
func whoseOwnerPhrase(a *WhoseAnswer) string {
	o := a.Owner
	switch o.Kind {
	case OwnerImageLayer:
		return "image layer " + shortID(o.ID)
	case OwnerRWLayer:
		return "the rw layer of container " + whoseCtrPhrase(o.Container)
	case OwnerInitLayer:
		return "the init layer of container " + whoseCtrPhrase(o.Container)
	}
	return strings.ReplaceAll(o.Kind, "_", " ") + " " + shortID(o.ID)
}

// whoseStat is a file's allocated bytes.
func whoseStat(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return 0
}
