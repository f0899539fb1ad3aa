package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/dlayer/dlayer/inspect/du"
	"github.com/opencontainers/go-digest"
)

// Owner is a kind of owner of bytes under the data root, as a disk map
// groups them: each is a top-level region of the treemap, in its color.
type Owner string

// The owners of the disk map, in the order du's summary lists them.
const (
	OwnerImages      Owner = "images"
	OwnerContainers  Owner = "containers"
	OwnerBuildCache  Owner = "build_cache"
	OwnerOrphans     Owner = "orphans"
	OwnerBookkeeping Owner = "bookkeeping"
	OwnerInactive    Owner = "inactive_driver"
	OwnerContent     Owner = "content"
	OwnerStackDirs   Owner = "stack_dirs"
	OwnerIngest      Owner = "ingest"
	OwnerOther       Owner = "other"
	// OwnerUncharged is what the audit counted in its total but charged to
	// none of the above (layer dirs in use that no record names: each is
	// a layer_dir_unaccounted finding).
	OwnerUncharged Owner = "uncharged"
)

// DiskNode is one region of the disk map: an owner, an image, a layer, a
// container, a dir. Bytes is its disk usage (allocated, each inode once,
// as du -x counts), the sum of its children's when it has any.
type DiskNode struct {
	Owner Owner
	Name  string
	// Detail says what it is, for the tooltip.
	Detail string
	Bytes  int64
	// Size is Docker's content size (st_size) where it has one.
	Size int64
	Kids []*DiskNode
}

// maxKids is how many children a disk map node shows; the smallest of
// the rest are one region "N more".
const maxKids = 40

// DiskMap is the tree of the treemap: owners, then images and their
// layers (layers several images share apart), containers and their rw
// and init layers and dirs, and each dir charged as a whole. Its leaves
// add up to the audit's total disk usage exactly.
func DiskMap(r *du.Report) *DiskNode {
	root := &DiskNode{Name: r.Root, Detail: "the data root (" + r.Driver + ")"}
	if r.StoreRoot != "" {
		root.Detail += " and containerd's root " + r.StoreRoot
	}
	add := func(n *DiskNode) {
		if n.settle() > 0 {
			root.Kids = append(root.Kids, n)
		}
	}
	add(imageNodes(r))
	add(containerNodes(r))
	add(dirNodes(OwnerBuildCache, "build cache", r.BuildCache))
	add(dirNodes(OwnerOrphans, "orphans (no owner)", r.Orphans))
	add(dirNodes(OwnerBookkeeping, "driver bookkeeping", r.Bookkeeping))
	add(dirNodes(OwnerInactive, "inactive driver", r.InactiveDriver))
	add(blobNodes(r.Blobs))
	add(dirNodes(OwnerStackDirs, "build container init snapshots", r.StackDirs))
	add(dirNodes(OwnerIngest, "unfinished blob writes", r.Ingest))
	add(dirNodes(OwnerOther, "rest of the data root", r.Other))
	if rest := r.Summary.Total.DiskUsage - root.settle(); rest > 0 {
		add(&DiskNode{Owner: OwnerUncharged, Name: "not charged to an owner", Bytes: rest,
			Detail: "layer dirs something in use refers to but no record names (see the findings)"})
	}
	root.settle()
	return root
}

// settle sums the children into Bytes and Size (a leaf keeps its own),
// drops empty children, and orders them biggest first, folding the
// smallest beyond maxKids into one. It returns Bytes.
func (n *DiskNode) settle() int64 {
	if len(n.Kids) == 0 {
		return n.Bytes
	}
	var bytes, size int64
	kids := n.Kids[:0]
	for _, k := range n.Kids {
		if k.settle() > 0 {
			kids = append(kids, k)
			bytes += k.Bytes
			size += k.Size
		}
	}
	slices.SortStableFunc(kids, func(a, b *DiskNode) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Name, b.Name))
	})
	if len(kids) > maxKids {
		rest := &DiskNode{Owner: n.Owner, Name: fmt.Sprintf("%d more", len(kids)-maxKids+1), Detail: "the smallest, together"}
		for _, k := range kids[maxKids-1:] {
			rest.Bytes += k.Bytes
			rest.Size += k.Size
		}
		kids = append(kids[:maxKids-1], rest)
	}
	n.Kids, n.Bytes, n.Size = kids, bytes, size
	return bytes
}

// imageNodes: each image with the layers only it uses; the layers
// several images share, and those of no image, apart (a shared layer is
// on disk once).
func imageNodes(r *du.Report) *DiskNode {
	top := &DiskNode{Owner: OwnerImages, Name: "images", Detail: "image layers"}
	byImage := map[digest.Digest]*DiskNode{}
	for _, im := range r.Images {
		n := &DiskNode{Owner: OwnerImages, Name: Escape(imageName(im)), Detail: "image " + string(im.ID) + ": the layers only it uses"}
		byImage[im.ID] = n
		top.Kids = append(top.Kids, n)
	}
	shared := &DiskNode{Owner: OwnerImages, Name: "shared layers", Detail: "layers several images use"}
	none := &DiskNode{Owner: OwnerImages, Name: "layers of no image", Detail: "layers no image's chain holds"}
	top.Kids = append(top.Kids, shared, none)
	for _, l := range r.Layers {
		leaf := &DiskNode{Owner: OwnerImages, Name: "layer " + short(l.ChainID), Bytes: l.DiskUsage, Size: l.Size,
			Detail: fmt.Sprintf("chain %s, dir %s, %d files", l.ChainID, Escape(l.Dir), l.Files)}
		switch {
		case len(l.Images) == 1 && byImage[l.Images[0]] != nil:
			byImage[l.Images[0]].Kids = append(byImage[l.Images[0]].Kids, leaf)
		case len(l.Images) > 1:
			leaf.Detail = fmt.Sprintf("used by %d images; %s", len(l.Images), leaf.Detail)
			shared.Kids = append(shared.Kids, leaf)
		default:
			none.Kids = append(none.Kids, leaf)
		}
	}
	return top
}

// imageName is an image's first tag, or its short ID, as stored (Escape
// it to show it).
func imageName(im du.Image) string {
	if len(im.Tags) > 0 {
		return im.Tags[0]
	}
	return short(im.ID)
}

// containerNodes: each container with its rw and init layers and its
// containers/<id>/ dir (config and logs).
func containerNodes(r *du.Report) *DiskNode {
	top := &DiskNode{Owner: OwnerContainers, Name: "containers", Detail: "containers' layers and dirs"}
	for _, c := range r.Containers {
		name := Escape(c.Name)
		if name == "" {
			name = shortID(c.ID)
		}
		n := &DiskNode{Owner: OwnerContainers, Name: name, Detail: "container " + c.ID + " (" + c.State + ")"}
		n.Kids = []*DiskNode{
			{Owner: OwnerContainers, Name: name + " rw", Bytes: c.DiskUsage, Size: c.SizeRw, Detail: "the writable layer " + c.MountID},
			{Owner: OwnerContainers, Name: name + " init", Bytes: c.InitDiskUsage, Size: c.InitSize, Detail: "the init layer " + c.InitID},
			{Owner: OwnerContainers, Name: name + " dir", Bytes: c.DirUsage.DiskUsage, Size: c.DirUsage.Size, Detail: Escape(c.Dir) + ": config and logs"},
		}
		top.Kids = append(top.Kids, n)
	}
	return top
}

// dirNodes is an owner whose dirs are charged whole.
func dirNodes(o Owner, name string, dirs []du.Dir) *DiskNode {
	top := &DiskNode{Owner: o, Name: name}
	for _, d := range dirs {
		detail := Escape(d.Path)
		if d.Why != "" {
			detail += ": " + Escape(d.Why)
		}
		top.Kids = append(top.Kids, &DiskNode{Owner: o, Name: Escape(d.Name), Bytes: d.DiskUsage, Size: d.Size, Detail: detail})
	}
	return top
}

// blobNodes are the content store's blobs something keeps.
func blobNodes(blobs []du.Blob) *DiskNode {
	top := &DiskNode{Owner: OwnerContent, Name: "content store blobs"}
	for _, b := range blobs {
		top.Kids = append(top.Kids, &DiskNode{Owner: OwnerContent, Name: b.What + " " + short(b.Digest), Bytes: b.DiskUsage, Size: b.Size,
			Detail: string(b.Digest) + " (" + b.Role + ")"})
	}
	return top
}

// Box is a node's rectangle in the treemap, in SVG user units.
type Box struct {
	X, Y, W, H float64
	Node       *DiskNode
	Depth      int
	Leaf       bool
	// Shade is the leaf's place among its siblings, for its color.
	Shade int
}

// treemap header height and padding of a group, in user units.
const (
	tmHeader = 16.0
	tmPad    = 2.0
)

// Treemap lays n out in w×h, squarified (Bruls, Huizing, van Wijk): each
// node's area proportional to its bytes, groups with a header row for
// their name. The boxes are parents before their children.
func Treemap(n *DiskNode, w, h float64) []Box {
	var out []Box
	var place func(n *DiskNode, x, y, w, h float64, depth, shade int)
	place = func(n *DiskNode, x, y, w, h float64, depth, shade int) {
		leaf := len(n.Kids) == 0
		out = append(out, Box{X: x, Y: y, W: w, H: h, Node: n, Depth: depth, Leaf: leaf, Shade: shade})
		if leaf {
			return
		}
		ix, iy, iw, ih := x+tmPad, y+tmPad, w-2*tmPad, h-2*tmPad
		if depth > 0 && ih > 3*tmHeader {
			iy, ih = iy+tmHeader, ih-tmHeader
		}
		if iw <= 0 || ih <= 0 { // too small to show inside: the children share the box
			ix, iy, iw, ih = x, y, max(w, 0), max(h, 0)
		}
		for i, k := range squarify(n.Kids, ix, iy, iw, ih) {
			place(n.Kids[i], k.X, k.Y, k.W, k.H, depth+1, i)
		}
	}
	place(n, 0, 0, w, h, 0, 0)
	return out
}

// squarify places nodes (biggest first) in the rectangle, rows of them
// along its shorter side, each row as close to squares as it gets.
func squarify(nodes []*DiskNode, x, y, w, h float64) []Box {
	out := make([]Box, 0, len(nodes))
	var left float64
	for _, n := range nodes {
		left += float64(n.Bytes)
	}
	for i := 0; i < len(nodes) && left > 0; {
		side := min(w, h)
		scale := w * h / left // area per byte
		j, best, sum := i, math.Inf(1), 0.0
		for j < len(nodes) {
			s := sum + float64(nodes[j].Bytes)
			r := worst(nodes[i:j+1], s, side, scale)
			if j > i && r > best {
				break
			}
			best, sum = r, s
			j++
		}
		thick := 0.0
		if side > 0 {
			thick = sum * scale / side
		}
		pos := 0.0
		for _, n := range nodes[i:j] {
			length := 0.0
			if thick > 0 {
				length = float64(n.Bytes) * scale / thick
			}
			if w >= h { // a column at the left
				out = append(out, Box{X: x, Y: y + pos, W: thick, H: length})
			} else { // a row at the top
				out = append(out, Box{X: x + pos, Y: y, W: length, H: thick})
			}
			pos += length
		}
		if w >= h {
			x, w = x+thick, w-thick
		} else {
			y, h = y+thick, h-thick
		}
		left -= sum
		i = j
	}
	return out
}

// worst is the worst aspect ratio of a row of nodes summing to sum, laid
// along side.
func worst(row []*DiskNode, sum, side, scale float64) float64 {
	if sum == 0 || side == 0 {
		return math.Inf(1)
	}
	area := sum * scale
	s2, a2 := side*side, area*area
	r := 0.0
	for _, n := range row {
		a := float64(n.Bytes) * scale
		if a == 0 {
			continue
		}
		r = max(r, s2*a/a2, a2/(s2*a))
	}
	return r
}
