package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/opencontainers/go-digest"
)

// whoseWhat says what the path is, in one line.
func whoseWhat(a *inspect.WhoseAnswer) string {
	o := whoseOwnerPhrase(a)
	switch a.Kind {
	case inspect.PathDataRoot:
		return "the Docker data root"
	case inspect.PathDriverHome:
		return "the " + a.Driver + " driver's dir: one dir per layer"
	case inspect.PathDriverBookkeeping:
		return "the " + a.Driver + " driver's own " + a.LayerDir + ": " + a.Owner.Why
	case inspect.PathShortLink:
		return "the short link of " + o
	case inspect.PathLayerDir:
		if a.Owner.Kind == inspect.OwnerOrphan {
			return "a layer dir that nothing owns (an orphan)"
		}
		return "the dir of " + o
	case inspect.PathLayerContent:
		return "the content dir (diff/) of " + o
	case inspect.PathLayerEntry:
		return a.InLayer + " in the content dir of " + o
	case inspect.PathLayerWork:
		return "the overlay work dir of " + o
	case inspect.PathLayerMountpoint:
		return "the mount point (merged/) of " + o
	case inspect.PathMergedEntry:
		return a.InLayer + " in the mounted root file system (merged/) of " + o
	case inspect.PathLayerFile:
		return "the " + a.Name + " file of " + o + whoseFileHelp[a.Name]
	case inspect.PathLayerRecord, inspect.PathMountRecord:
		s := "the layerdb record of " + o
		if a.Name != "" {
			s = "the " + a.Name + " file of " + s + whoseFileHelp[a.Name]
		}
		return s
	case inspect.PathLayerdbTmp:
		return "a layer being written (layerdb/tmp)"
	case inspect.PathImageConfig:
		return "the config of " + o
	case inspect.PathImageMetadata:
		return "metadata of " + o
	case inspect.PathRepositories:
		return "the tag store (repositories.json)"
	case inspect.PathDistribution:
		return "the registry digest cache (distribution/)"
	case inspect.PathImageStore:
		if a.Driver == "" {
			return "the image and layer stores (image/<driver>/)"
		}
		return "the image and layer store of the " + a.Driver + " driver"
	case inspect.PathContainers:
		return "the container store"
	case inspect.PathContainerDir:
		return "the dir of " + o
	case inspect.PathContainerFile:
		if strings.Contains(a.Name, "-json.log") {
			return "the json-file log (" + a.Name + ") of " + o
		}
		return a.Name + " of " + o + whoseFileHelp[a.Name]
	case inspect.PathBuildKit:
		return "BuildKit's state (buildkit/)"
	}
	if a.Owner.Why != "" {
		return a.Owner.Why
	}
	return "a part of the data root dlayer does not know"
}

// whoseFileHelp says what a small metadata file holds.
var whoseFileHelp = map[string]string{
	"link":              ": its short name in l/",
	"lower":             ": the short links of the layers below it, uppermost first",
	"committed":         ": marks that a layer was created on top of it",
	"diff":              ": the layer's diff ID (sha256 of its tar)",
	"parent":            ": the chain ID below it",
	"size":              ": its content size",
	"cache-id":          ": the name of its layer dir",
	"tar-split.json.gz": ": the tar headers, to re-create the exact tar",
	"mount-id":          ": the name of the rw layer dir",
	"init-id":           ": the name of the init layer dir",
	"config.v2.json":    ": its config and last state",
	"hostconfig.json":   ": its host settings (mounts, ports, restart policy, log driver)",
	"hostname":          ", bind-mounted as /etc/hostname",
	"hosts":             ", bind-mounted as /etc/hosts",
	"resolv.conf":       ", bind-mounted as /etc/resolv.conf",
}

// whoseOwnerPhrase names the owner.
func whoseOwnerPhrase(a *inspect.WhoseAnswer) string {
	o := a.Owner
	switch o.Kind {
	case inspect.OwnerImageLayer:
		l := o.Layer
		s := "image layer " + shortID(l.CacheID)
		if len(l.Images) > 0 {
			im := l.Images[0]
			s = fmt.Sprintf("image layer %d/%d of %s (cache id %s)", im.Position, im.Layers, whoseImage(im.ID, im.Tags), shortID(l.CacheID))
			if len(l.Images) > 1 {
				s += fmt.Sprintf(", shared by %d images", len(l.Images))
			}
		}
		return s
	case inspect.OwnerRWLayer:
		return "the writable (rw) layer of container " + whoseCtr(o.Container)
	case inspect.OwnerInitLayer:
		return "the init layer of container " + whoseCtr(o.Container)
	case inspect.OwnerContainer:
		return "container " + whoseCtr(o.Container)
	case inspect.OwnerImage:
		return "image " + whoseImage(o.Image.ID, o.Image.Tags) + " (" + short(o.Image.ID) + ")"
	case inspect.OwnerBuildCache:
		return "a BuildKit build cache snapshot"
	case inspect.OwnerOrphan:
		return "nothing: an orphan"
	case inspect.OwnerBookkeeping:
		return "the driver's bookkeeping"
	case inspect.OwnerOtherDriver:
		return "another storage driver"
	}
	return "an unknown owner"
}

func whoseCtr(c *inspect.WhoseContainer) string {
	name := c.Name
	if name == "" {
		name = "?"
	}
	return fmt.Sprintf("%s (%s, %s)", Escape(name), shortID(c.ID), c.State)
}

func whoseImage(id digest.Digest, tags []string) string {
	if len(tags) > 0 {
		return Escape(tags[0])
	}
	return short(id)
}

// whoseBecause says why a view shows what it shows.
func whoseBecause(a *inspect.WhoseAnswer, v inspect.WhoseView) string {
	by := func(h *inspect.WhoseHit) string {
		return whoseHit(h) + " has " + whoseArticle(h.Entry) + " " + h.Entry + " " + h.Path
	}
	above := func(h *inspect.WhoseHit) string {
		if h == nil {
			return ""
		}
		return whoseHit(h) + " has " + whoseArticle(h.Entry) + " " + h.Entry + " at " + h.Path + ", above it"
	}
	switch v.Result {
	case inspect.ViewVisible:
		if v.Below == nil {
			return "no lower layer has it"
		}
		verb := "shadows"
		if a.Entry != nil && a.Entry.Type == "dir" && v.Below.Entry == "dir" {
			verb = "merges with"
			if a.Entry.Kind == "opaque_dir" {
				verb = "hides"
			}
		}
		return verb + " the " + v.Below.Entry + " of " + whoseHit(v.Below)
	case inspect.ViewDeletes:
		if v.Below == nil {
			return "deletes nothing: no lower layer has it"
		}
		return "deletes the " + v.Below.Entry + " of " + whoseHit(v.Below)
	case inspect.ViewMerged:
		return by(v.By) + " on top; the entries of both show"
	case inspect.ViewShadowed:
		if v.By.Entry == "opaque dir" {
			return by(v.By) + ", which hides it"
		}
		return whoseHit(v.By) + " has its own " + v.By.Entry + " " + v.By.Path
	case inspect.ViewWhitedOut:
		return whoseHit(v.By) + " deletes it: a whiteout " + v.By.Path
	case inspect.ViewHidden:
		return above(v.By)
	case inspect.ViewFrom:
		return "the " + v.By.Entry + " of " + whoseHit(v.By)
	case inspect.ViewAbsent:
		if v.By != nil {
			return by(v.By)
		}
		return "no layer has it"
	}
	return ""
}

// whoseHit names the layer of an entry: "the rw layer", "layer 2 (RUN …)".
func whoseHit(h *inspect.WhoseHit) string {
	switch h.Role {
	case "rw":
		return "the rw layer"
	case "init":
		return "the init layer"
	}
	s := fmt.Sprintf("layer %d", h.Position)
	if h.CreatedBy != "" {
		s += " (" + clip(instruction(h.CreatedBy), 40) + ")"
	}
	return s
}

func whoseArticle(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// whoseIndent writes a table two spaces in.
type whoseIndent struct{ w io.Writer }

func (i whoseIndent) Write(b []byte) (int, error) {
	var out []byte
	start := true
	for _, c := range b {
		if start && c != '\n' {
			out = append(out, ' ', ' ')
		}
		out = append(out, c)
		start = c == '\n'
	}
	if _, err := i.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// WhoseJSON writes the answer as one JSON object. Paths that are not
// valid UTF-8 are given in dlayer's escaped form.
func WhoseJSON(w io.Writer, a *inspect.WhoseAnswer) error {
	y := *a
	y.Path, _ = jsonString(a.Path)
	y.Rel, _ = jsonString(a.Rel)
	y.Arg, _ = jsonString(a.Arg)
	y.InLayer, _ = jsonString(a.InLayer)
	if a.Entry != nil {
		e := *a.Entry
		e.Path, _ = jsonString(e.Path)
		e.LinkTarget, _ = jsonString(e.LinkTarget)
		y.Entry = &e
	}
	y.Views = make([]inspect.WhoseView, len(a.Views))
	for i, v := range a.Views {
		for _, h := range []**inspect.WhoseHit{&v.By, &v.Below} {
			if *h != nil {
				c := **h
				c.Path, _ = jsonString(c.Path)
				*h = &c
			}
		}
		y.Views[i] = v
	}
	return JSON(w, &y)
}
