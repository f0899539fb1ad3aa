package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/dlayer/dlayer/inspect/verify"
)

// VerifyDepth is how far the report's verify run went.
type VerifyDepth string

// The depths of the report's verify run.
const (
	VerifyContent VerifyDepth = "content" // every layer's content re-hashed
	VerifyQuick   VerifyDepth = "quick"   // metadata only
	VerifyOff     VerifyDepth = "off"     // not run
)

// VerifyDepths are the values of dlayer report --verify.
func VerifyDepths() []VerifyDepth { return []VerifyDepth{VerifyContent, VerifyQuick, VerifyOff} }

// HTMLInput is what an HTML incident report holds: the explanation of
// each container, the disk audit, verify's findings, and how they were
// made. A part that could not be made has its error instead.
type HTMLInput struct {
	Provenance Provenance
	Containers []*inspect.Explanation
	// Errors are the CONTAINER arguments that could not be explained.
	Errors []string
	DU     *du.Report
	// DUError says why there is no audit.
	DUError     string
	Verify      *verify.Report
	VerifyDepth VerifyDepth
	VerifyError string
	// MaxChanges caps the change rows shown per container; 0: all.
	MaxChanges int
}

//go:embed html/report.html.tmpl
var htmlTemplate string

//go:embed html/report.css
var htmlCSS string

//go:embed html/report.js
var htmlJS string

// The treemap's and the bar chart's drawing sizes, in SVG user units.
const (
	tmWidth, tmHeight = 1000.0, 560.0
	barWidth          = 1000.0
	barRow            = 22.0
	barLabel          = 300.0
	maxBars           = 30
)

// HTML writes the report as one self-contained HTML file: styles and
// script inline (their hashes in the page's Content-Security-Policy,
// which allows nothing else: no request leaves the page), charts drawn
// as SVG here. Every name goes through Escape, then html/template's
// contextual escaping: a file named <script> is text.
func HTML(w io.Writer, in HTMLInput) error {
	t, err := template.New("report").Funcs(htmlFuncs()).Parse(htmlTemplate)
	if err != nil {
		return err
	}
	b := buffered(w)
	if err := t.Execute(b, newHTMLPage(in)); err != nil {
		return err
	}
	return b.Flush()
}

// htmlPage is the template's data.
type htmlPage struct {
	In         HTMLInput
	CSS        template.CSS
	JS         template.JS
	CSP        string
	Title      string
	Containers []htmlContainer
	Disk       []htmlDisk
	Verify     *htmlVerify
	Prov       [][2]string
}

func newHTMLPage(in HTMLInput) htmlPage {
	p := htmlPage{In: in, CSS: template.CSS(htmlCSS), JS: template.JS(htmlJS)}
	p.CSP = "default-src 'none'; style-src '" + cspHash(htmlCSS) + "'; script-src '" + cspHash(htmlJS) + "'; img-src 'none'; form-action 'none'; base-uri 'none'"
	p.Title = "dlayer report: " + Escape(in.Provenance.Root)
	for _, x := range in.Containers {
		p.Containers = append(p.Containers, newHTMLContainer(x, in.MaxChanges))
	}
	if in.DU != nil {
		for _, r := range append([]*du.Report{in.DU}, in.DU.OtherStores...) {
			p.Disk = append(p.Disk, newHTMLDisk(r))
		}
	}
	if in.Verify != nil {
		p.Verify = newHTMLVerify(in.Verify)
	}
	p.Prov = provenanceRows(in.Provenance)
	return p
}

// cspHash is the Content-Security-Policy source of an inline element's text.
func cspHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(h[:])
}

func htmlFuncs() template.FuncMap {
	return template.FuncMap{
		"bytes": HumanBytes,
		"short": func(s string) string { return shortID(strings.TrimPrefix(s, "sha256:")) },
		"esc":   Escape,
		"when":  when,
		"f1":    func(v float64) string { return fmt.Sprintf("%.1f", v) },
		"add":   func(a, b float64) float64 { return a + b },
		"inc":   func(i int) int { return i + 1 },
	}
}

// provenanceRows are the report's provenance, label and value: what wrote
// it, from what, when, and with what rights.
func provenanceRows(p Provenance) [][2]string {
	version := p.Version
	if p.Revision != "" {
		version += " (" + p.Revision
		if p.Modified {
			version += ", modified"
		}
		version += ")"
	}
	caps := "none"
	if len(p.Capabilities) > 0 {
		caps = strings.Join(p.Capabilities, ", ")
	}
	sysAdmin := "yes: overlayfs's trusted.* markers (opaque dirs, redirects) are visible"
	if !slices.Contains(p.Capabilities, "cap_sys_admin") {
		sysAdmin = "no: overlayfs's trusted.* markers are not visible to this process; what depends on them is marked incomplete"
	}
	rows := [][2]string{
		{"tool", p.Tool + " " + version + ", " + p.GoVersion},
		{"command", Escape(strings.Join(p.Command, " "))},
		{"data root", Escape(p.Root)},
	}
	if p.ContainerdRoot != "" {
		rows = append(rows, [2]string{"containerd root", Escape(p.ContainerdRoot)})
	}
	return append(rows,
		[2]string{"host", Escape(p.Host)},
		[2]string{"started", p.Started.UTC().Format(time.RFC3339Nano)},
		[2]string{"user", fmt.Sprintf("euid %d, egid %d", p.EUID, p.EGID)},
		[2]string{"capabilities", caps + " (CapEff " + p.CapEff + ")"},
		[2]string{"CAP_SYS_ADMIN", sysAdmin},
	)
}

// htmlContainer is one container's part of the report.
type htmlContainer struct {
	X       *inspect.Explanation
	Name    string
	Image   string
	State   string
	Anchor  string
	Layers  []htmlLayer
	Dirs    [][2]string
	Lowers  []htmlLower
	Kinds   []htmlKind
	Changes []htmlChange
	// Shown is how many change rows the page holds, Total how many there
	// are (entries and docker diff's lines no entry has).
	Shown, Total int
	Attention    []htmlAttention
	Findings     []inspect.Finding
	Written      string
	Help         string
}

// htmlLayer is one storey of the layer tower, top to bottom.
type htmlLayer struct {
	Role       inspect.LayerRole
	Label      string
	What       string
	Size       string
	ChainID    string
	CacheID    string
	Dir        string
	Link       string
	Containers string
}

// htmlLower is one lower dir of the union mount, uppermost first.
type htmlLower struct{ Link, Dir string }

// htmlKind is one kind of change present, for the filter.
type htmlKind struct {
	Kind  string
	Count int
	Help  string
}

// htmlChange is one row of the change list.
type htmlChange struct {
	Letter string
	Kind   string
	Path   string
	Type   string
	Size   string
	// Origin is the layer the path came from, OriginWhat its instruction,
	// OriginTitle both in full.
	Origin      string
	OriginWhat  string
	OriginTitle string
	Phase       string
	Detail      string
}

// htmlAttention is one line of what deserves a look.
type htmlAttention struct {
	Label string
	Count int
	Paths []string
}

// kindDiffOnly is the change-list kind of docker diff's lines that no
// entry of the upper dir has (what a deleted or recreated dir hides).
const kindDiffOnly = "hidden_lower"

func newHTMLContainer(x *inspect.Explanation, maxChanges int) htmlContainer {
	c := x.Container
	hc := htmlContainer{X: x, Name: Escape(c.Name), State: stateLine(c.State), Anchor: "c-" + shortID(c.ID)}
	if hc.Name == "" {
		hc.Name = shortID(c.ID)
	}
	hc.Image = "none (scratch)"
	if c.ImageID != "" {
		hc.Image = Escape(c.ImageRef) + " (image " + short(c.ImageID) + ")"
	}
	images := 0
	for _, l := range x.Layers {
		if l.Role == inspect.RoleImage {
			images++
		}
	}
	for _, l := range x.Layers {
		hl := htmlLayer{Role: l.Role, Size: HumanBytes(l.Size), ChainID: string(l.ChainID), CacheID: l.CacheID, Dir: Escape(l.Dir)}
		if l.Link != "" {
			hl.Link = "l/" + l.Link
		}
		if l.CacheID != "" && strings.Contains(l.Dir, l.CacheID) {
			hl.CacheID = "" // the dir names it
		}
		switch l.Role {
		case inspect.RoleRW:
			hl.Label, hl.What = "writable layer (upper dir)", "everything the container wrote: new files, copies of changed lower files, whiteouts"
		case inspect.RoleInit:
			hl.Label, hl.What = "init layer", "what Docker prepares for every container: /etc/hosts, /etc/resolv.conf, /etc/hostname, /.dockerenv, /dev/console"
		case inspect.RoleUnowned:
			hl.Label, hl.What = "below", "in no image: "+Escape(l.CreatedBy)
		default:
			hl.Label = fmt.Sprintf("image layer %d/%d", l.Position, images)
			if l.Position == 1 {
				hl.Label += " (base)"
			}
			hl.What = Escape(Instruction(l.CreatedBy))
		}
		hc.Layers = append(hc.Layers, hl)
	}
	rw := x.RWLayer
	mounted := "unknown (no mount data read)"
	if rw.Mounted != nil {
		mounted = "no"
		if *rw.Mounted {
			mounted = "yes, at " + Escape(rw.Mount.MountPoint)
		}
	}
	hc.Dirs = [][2]string{{"upper dir", Escape(rw.UpperDir)}}
	if rw.Terms.WorkDir {
		hc.Dirs = append(hc.Dirs, [2]string{"work dir", Escape(rw.WorkDir)})
	}
	hc.Dirs = append(hc.Dirs, [2]string{"merged dir", Escape(rw.MergedDir)}, [2]string{"mounted", mounted})
	from := "layerdb/mounts/<container>/mount-id"
	if rw.Terms.MountIDFrom != "" {
		from = rw.Terms.MountIDFrom
	}
	hc.Dirs = append(hc.Dirs, [2]string{"mount-id", rw.MountID + " (" + from + ")"})
	for i, d := range rw.LowerDirs {
		lw := htmlLower{Dir: Escape(d)}
		if d == "" {
			lw.Dir = "(does not resolve)"
		}
		if rw.Terms.ShortLinks && i < len(rw.LowerLinks) {
			lw.Link = Escape(rw.LowerLinks[i])
		}
		hc.Lowers = append(hc.Lowers, lw)
	}
	hc.Help = strings.ReplaceAll(rw.Terms.Stacking, "\n", " ")
	if len(x.Layers) > 0 {
		hc.Written = fmt.Sprintf("%s in the writable layer, %s of it copies of lower files", HumanBytes(x.Layers[0].Size), HumanBytes(x.Summary.CopyBytes))
	}
	for _, a := range x.Summary.Attention {
		ha := htmlAttention{Label: attentionLabel(a.Kind), Count: a.Count}
		for _, q := range a.Paths {
			ha.Paths = append(ha.Paths, Escape(q))
		}
		hc.Attention = append(hc.Attention, ha)
	}
	hc.Findings = x.Findings
	hc.Changes, hc.Kinds, hc.Total = changeRows(x, maxChanges)
	hc.Shown = len(hc.Changes)
	return hc
}

// changeRows are the change list's rows: every entry of the writable
// layer, with its docker diff letter ("-" when docker diff does not list
// it), then docker diff's lines no entry has; at most max rows (0: all).
// kinds are the kinds present, total the rows there are.
func changeRows(x *inspect.Explanation, max int) (rows []htmlChange, kinds []htmlKind, total int) {
	counts := map[string]int{}
	listed := map[string]bool{}
	addRow := func(r htmlChange) {
		counts[r.Kind]++
		total++
		if max == 0 || len(rows) < max {
			rows = append(rows, r)
		}
	}
	for _, c := range x.Changes {
		r := htmlChange{Letter: c.DockerDiff, Kind: c.Kind.String(), Path: Escape(c.Path), Type: c.Type, Phase: c.Phase.String()}
		if r.Letter == "" {
			r.Letter = "-"
		} else {
			listed[c.DockerDiff+" "+c.Path] = true
		}
		if c.Type != "dir" && c.Kind != inspect.KindWhiteout {
			r.Size = HumanBytes(c.Size)
		}
		if o := c.Origin; o != nil {
			r.Origin, r.OriginTitle = originShort(o), layerName(o)
			if o.Layer == "image" {
				r.OriginWhat = Escape(clip(Instruction(o.CreatedBy), 60))
			}
		}
		var detail []string
		if c.LinkTarget != "" {
			detail = append(detail, "symlink to "+Escape(c.LinkTarget))
		}
		if len(c.Changed) > 0 {
			detail = append(detail, "changed: "+changedLine(c))
		}
		if len(c.Hides) > 0 {
			detail = append(detail, fmt.Sprintf("hides %d lower entr%s", len(c.Hides), plural(len(c.Hides), "y", "ies")))
		}
		if c.Note != "" {
			detail = append(detail, Escape(c.Note))
		}
		r.Detail = strings.Join(detail, "; ")
		addRow(r)
	}
	for _, d := range x.Diff {
		if !listed[d.Kind+" "+d.Path] {
			addRow(htmlChange{Letter: d.Kind, Kind: kindDiffOnly, Path: Escape(d.Path),
				Detail: "below a dir the container deleted, recreated or renamed"})
		}
	}
	for _, k := range inspect.ChangeKinds() {
		if n := counts[k.String()]; n > 0 {
			kinds = append(kinds, htmlKind{Kind: k.String(), Count: n, Help: KindText(k.String(), x.RWLayer.Terms)})
		}
	}
	if n := counts[kindDiffOnly]; n > 0 {
		kinds = append(kinds, htmlKind{Kind: kindDiffOnly, Count: n,
			Help: "Not an entry of the upper dir: a lower entry that docker diff lists one by one below a dir the container deleted, recreated (opaque) or renamed."})
	}
	return rows, kinds, total
}

// originShort names an origin layer in a few words.
func originShort(o *inspect.Origin) string {
	switch o.Layer {
	case "init":
		return "init layer"
	case "image":
		return fmt.Sprintf("layer %d", o.Position)
	}
	return "unknown layer"
}

// htmlDisk is one store's disk use: the treemap, the owners' table and
// the shared-vs-unique bars.
type htmlDisk struct {
	R      *du.Report
	Total  int64
	Boxes  []htmlBox
	Owners []htmlOwner
	Bars   []htmlBar
	// BarsHeight is the bar chart's height; MoreImages how many images
	// it leaves out.
	BarsHeight float64
	MoreImages int
	W, H       float64
}

// htmlBox is one rectangle of the treemap.
type htmlBox struct {
	Box
	Class string
	Fill  string
	Label string
	Title string
}

// htmlOwner is one row of the owners' table under the treemap.
type htmlOwner struct {
	Owner Owner
	Name  string
	Fill  string
	Disk  int64
	Size  int64
}

// htmlBar is one image's bar: Docker's shared and unique sizes.
type htmlBar struct {
	Name          string
	Y             float64
	SharedW       float64
	UniqueW       float64
	Shared, Uniq  int64
	Size          int64
	Containers    int
	SharedX, Tail float64
}

// ownerHue is an owner's hue (HSL), one per region of the map.
func ownerHue(o Owner) int {
	switch o {
	case OwnerImages:
		return 210
	case OwnerContainers:
		return 28
	case OwnerBuildCache:
		return 280
	case OwnerBookkeeping:
		return 170
	case OwnerInactive:
		return 50
	case OwnerContent:
		return 240
	case OwnerStackDirs:
		return 320
	case OwnerIngest:
		return 90
	case OwnerOther:
		return 200
	default: // orphans, uncharged: red
		return 0
	}
}

// fill is an owner's color at a depth and shade: nested regions lighter.
func fill(o Owner, depth, shade int) string {
	sat := 60
	if o == OwnerOther || o == OwnerBookkeeping || o == OwnerUncharged {
		sat = 12
	}
	light := min(40+12*depth+(shade%4)*5, 88)
	return fmt.Sprintf("hsl(%d,%d%%,%d%%)", ownerHue(o), sat, light)
}

func newHTMLDisk(r *du.Report) htmlDisk {
	root := DiskMap(r)
	d := htmlDisk{R: r, Total: root.Bytes, W: tmWidth, H: tmHeight}
	for _, b := range Treemap(root, tmWidth, tmHeight) {
		if b.Depth == 0 {
			continue
		}
		hb := htmlBox{Box: b, Class: "tm-group", Fill: fill(b.Node.Owner, b.Depth, 0)}
		if b.Leaf {
			hb.Class, hb.Fill = "tm-leaf", fill(b.Node.Owner, b.Depth, b.Shade)
		}
		hb.Title = fmt.Sprintf("%s: %s on disk (%d bytes)", b.Node.Name, HumanBytes(b.Node.Bytes), b.Node.Bytes)
		if b.Node.Size > 0 {
			hb.Title += fmt.Sprintf(", %s of content", HumanBytes(b.Node.Size))
		}
		if b.Node.Detail != "" {
			hb.Title += "\n" + b.Node.Detail
		}
		if chars := int((b.W - 6) / 6.5); chars >= 4 && b.H >= 13 {
			hb.Label = clip(b.Node.Name, chars)
		}
		d.Boxes = append(d.Boxes, hb)
	}
	for _, k := range root.Kids {
		d.Owners = append(d.Owners, htmlOwner{Owner: k.Owner, Name: k.Name, Fill: fill(k.Owner, 1, 0), Disk: k.Bytes, Size: k.Size})
	}
	var counted []du.Image
	for _, im := range r.Images {
		if im.Counted {
			counted = append(counted, im)
		}
	}
	var biggest int64 = 1
	for _, im := range counted {
		biggest = max(biggest, im.Size)
	}
	if len(counted) > maxBars {
		d.MoreImages = len(counted) - maxBars
		counted = counted[:maxBars]
	}
	span := barWidth - barLabel - 210
	for i, im := range counted {
		sw := float64(im.SharedSize) / float64(biggest) * span
		uw := float64(im.UniqueSize) / float64(biggest) * span
		d.Bars = append(d.Bars, htmlBar{Name: clip(Escape(imageName(im)), 44), Y: float64(i) * barRow, SharedW: sw, UniqueW: uw,
			Shared: im.SharedSize, Uniq: im.UniqueSize, Size: im.Size, Containers: im.Containers,
			SharedX: barLabel + sw, Tail: barLabel + sw + uw + 6})
	}
	d.BarsHeight = float64(len(d.Bars))*barRow + 4
	return d
}

// htmlVerify is verify's part of the report.
type htmlVerify struct {
	R        *verify.Report
	Summary  string
	Findings []htmlFinding
}

// htmlFinding is one row of verify's findings.
type htmlFinding struct {
	Kind, Check, Object, Path, Expected, Actual, Affects, Message string
	Docker                                                        bool
}

func newHTMLVerify(r *verify.Report) *htmlVerify {
	v := &htmlVerify{R: r, Summary: VerifySummary(r)}
	for _, f := range r.Findings {
		v.Findings = append(v.Findings, htmlFinding{Kind: f.Kind.String(), Check: f.Check.String(), Object: verifyObject(f),
			Path: Escape(verifyShortPath(r.Root, f.Path)), Expected: Escape(f.Expected), Actual: Escape(f.Actual),
			Affects: verifyAffects(f.Affects), Message: Escape(f.Message), Docker: f.DockerDetects})
	}
	return v
}
