package report

import (
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/dlayer/dlayer/inspect/layerfs"
	"github.com/dlayer/dlayer/inspect/whose"
	"github.com/opencontainers/go-digest"
)

// whoseWhat says what the path is, in one line.
func whoseWhat(a *whose.Answer) string {
	o := whoseOwnerPhrase(a)
	switch a.Kind {
	case whose.PathDataRoot:
		return "the Docker data root"
	case whose.PathDriverHome:
		return "the " + a.Driver + " driver's dir: one dir per layer"
	case whose.PathDriverBookkeeping:
		return "the " + a.Driver + " driver's own " + a.LayerDir + ": " + a.Owner.Why
	case whose.PathShortLink:
		return "the short link of " + o
	case whose.PathLayerDir:
		if a.Owner.Kind == whose.OwnerOrphan {
			return "a layer dir that nothing owns (an orphan)"
		}
		return "the dir of " + o
	case whose.PathLayerContent:
		// the content dir's own name, when it is a subdir of the layer dir
		// (overlay2's diff/; the legacy overlay driver's root/ or upper/)
		if base := path.Base(a.Path); a.LayerDir != "" && base != a.LayerDir {
			return "the content dir (" + base + "/) of " + o
		}
		return "the content dir of " + o
	case whose.PathLayerEntry:
		return a.InLayer + " in the content dir of " + o
	case whose.PathLayerWork:
		return "the overlay work dir of " + o
	case whose.PathLayerMountpoint:
		return "the mount point (merged/) of " + o
	case whose.PathMergedEntry:
		return a.InLayer + " in the mounted root file system (merged/) of " + o
	case whose.PathLayerFile:
		return "the " + a.Name + " file of " + o + whoseFileHelp(a.Name)
	case whose.PathLayerRecord, whose.PathMountRecord:
		s := "the layerdb record of " + o
		if a.Name != "" {
			s = "the " + a.Name + " file of " + s + whoseFileHelp(a.Name)
		}
		return s
	case whose.PathLayerdbTmp:
		return "a layer being written (layerdb/tmp)"
	case whose.PathImageConfig:
		return "the config of " + o
	case whose.PathContentBlob:
		if a.Owner.Kind == whose.OwnerImage {
			return "a content blob (" + a.Name + ") of " + o
		}
		return "containerd's content store (blobs/" + a.Name + ")"
	case whose.PathImageMetadata:
		return "metadata of " + o
	case whose.PathRepositories:
		return "the tag store (repositories.json)"
	case whose.PathDistribution:
		return "the registry digest cache (distribution/)"
	case whose.PathImageStore:
		if a.Driver == "" {
			return "the image and layer stores (image/<driver>/)"
		}
		return "the image and layer store of the " + a.Driver + " driver"
	case whose.PathContainers:
		return "the container store"
	case whose.PathContainerDir:
		return "the dir of " + o
	case whose.PathContainerFile:
		if strings.Contains(a.Name, "-json.log") {
			return "the json-file log (" + a.Name + ") of " + o
		}
		return a.Name + " of " + o + whoseFileHelp(a.Name)
	case whose.PathBuildKit:
		return "BuildKit's state (buildkit/)"
	}
	if a.Owner.Why != "" {
		return a.Owner.Why
	}
	return "a part of the data root dlayer does not know"
}

// whoseFileHelp says what a small metadata file holds, as a tail for the
// file's description; "" for files it does not know.
func whoseFileHelp(name string) string {
	switch name {
	case "link":
		return ": its short name in l/"
	case "lower":
		return ": the short links of the layers below it, uppermost first"
	case "committed":
		return ": marks that a layer was created on top of it"
	case "diff":
		return ": the layer's diff ID (sha256 of its tar)"
	case "parent":
		return ": the chain ID below it"
	case "size":
		return ": its content size"
	case "cache-id":
		return ": the name of its layer dir"
	case "tar-split.json.gz":
		return ": the tar headers, to re-create the exact tar"
	case "mount-id":
		return ": the name of the rw layer dir"
	case "init-id":
		return ": the name of the init layer dir"
	case "config.v2.json":
		return ": its config and last state"
	case "hostconfig.json":
		return ": its host settings (mounts, ports, restart policy, log driver)"
	case "hostname":
		return ", bind-mounted as /etc/hostname"
	case "hosts":
		return ", bind-mounted as /etc/hosts"
	case "resolv.conf":
		return ", bind-mounted as /etc/resolv.conf"
	}
	return ""
}

// whoseOwnerPhrase names the owner.
func whoseOwnerPhrase(a *whose.Answer) string {
	o := a.Owner
	switch o.Kind {
	case whose.OwnerImageLayer:
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
	case whose.OwnerRWLayer:
		return "the writable (rw) layer of container " + whoseCtr(o.Container)
	case whose.OwnerInitLayer:
		return "the init layer of container " + whoseCtr(o.Container)
	case whose.OwnerContainer:
		return "container " + whoseCtr(o.Container)
	case whose.OwnerImage:
		return "image " + whoseImage(o.Image.ID, o.Image.Tags) + " (" + short(o.Image.ID) + ")"
	case whose.OwnerBuildCache:
		return "a BuildKit build cache snapshot"
	case whose.OwnerOrphan:
		return "nothing: an orphan"
	case whose.OwnerUnaccounted:
		return "no record, but another layer stacks on it: in use"
	case whose.OwnerUnownedLower:
		return "a build container's init layer, below image layers: in use"
	case whose.OwnerBookkeeping:
		return "the driver's bookkeeping"
	case whose.OwnerOtherDriver:
		return "another storage driver"
	}
	return "an unknown owner"
}

func whoseCtr(c *whose.Container) string {
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
func whoseBecause(a *whose.Answer, v whose.View) string {
	by := func(h *whose.Hit) string {
		return whoseHit(h) + " has " + whoseArticle(h.Entry) + " " + h.Entry + " " + h.Path
	}
	above := func(h *whose.Hit) string {
		if h == nil {
			return ""
		}
		return whoseHit(h) + " has " + whoseArticle(h.Entry) + " " + h.Entry + " at " + h.Path + ", above it"
	}
	switch v.Result {
	case whose.ViewVisible:
		if v.Below == nil {
			return "no layer above changes it, none below has it"
		}
		verb := "shadows"
		if a.Entry != nil && a.Entry.Type == layerfs.TypeDir && v.Below.Entry == string(layerfs.TypeDir) {
			verb = "merges with"
			if a.Entry.Kind == whose.EntryOpaqueDir {
				verb = "hides"
			}
		}
		return verb + " the " + v.Below.Entry + " of " + whoseHit(v.Below)
	case whose.ViewDeletes:
		if v.Below == nil {
			return "deletes nothing: no lower layer has it"
		}
		return "deletes the " + v.Below.Entry + " of " + whoseHit(v.Below)
	case whose.ViewMerged:
		return by(v.By) + " on top; the entries of both show"
	case whose.ViewShadowed:
		if v.By.Entry == "opaque dir" {
			return by(v.By) + ", which hides it"
		}
		return whoseHit(v.By) + " has its own " + v.By.Entry + " " + v.By.Path
	case whose.ViewWhitedOut:
		return whoseHit(v.By) + " deletes it: a whiteout " + v.By.Path
	case whose.ViewHidden:
		return above(v.By)
	case whose.ViewFrom:
		return "the " + v.By.Entry + " of " + whoseHit(v.By)
	case whose.ViewAbsent:
		if v.By != nil {
			return by(v.By)
		}
		return "no layer has it"
	}
	return ""
}

// whoseHit names the layer of an entry: "the rw layer", "layer 2 (RUN …)".
func whoseHit(h *whose.Hit) string {
	switch h.Role {
	case whose.RoleRW:
		return "the rw layer"
	case whose.RoleInit:
		return "the init layer"
	}
	s := fmt.Sprintf("layer %d", h.Position)
	if h.CreatedBy != "" {
		s += " (" + clip(Instruction(h.CreatedBy), 40) + ")"
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
func WhoseJSON(w io.Writer, p Provenance, a *whose.Answer) error {
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
	y.Views = make([]whose.View, len(a.Views))
	for i, v := range a.Views {
		for _, h := range []**whose.Hit{&v.By, &v.Below} {
			if *h != nil {
				c := **h
				c.Path, _ = jsonString(c.Path)
				*h = &c
			}
		}
		y.Views[i] = v
	}
	return JSON(w, WhoseDocument{NewHeader(SchemaWhose, p), y})
}
