package report

import (
	"io"
	"strconv"
	"strings"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/mounts"
)

// MountsOptions control the mounts table.
type MountsOptions struct {
	// Long adds a block per mount: its dirs, options and sightings.
	Long bool
}

// Mounts writes a mounts report: the tables read, one row per mount, the
// problems with their messages, and with Long each mount's details.
func Mounts(w io.Writer, r *mounts.Report, opt MountsOptions) error {
	p := &printer{w: w}
	p.f("Mount tables read:\n")
	for _, t := range r.Tables {
		ns := t.Namespace
		if ns == "" {
			ns = "-"
		}
		line := "  " + Escape(t.Path) + "   " + ns + "   " + strconv.Itoa(t.Mounts) + " " + plural(t.Mounts, "mount", "mounts")
		if len(t.Procs) > 0 {
			line += "   " + strings.Join(t.Procs, ", ")
		}
		if t.Error != "" && t.Mounts == 0 {
			line += "   (not read: see stderr)"
		}
		p.f("%s\n", line)
	}
	p.f("\n")
	if p.err != nil {
		return p.err
	}
	if len(r.Mounts) == 0 {
		p.f("No overlay or aufs mount of %s in these tables.\n", Escape(r.Root))
	} else {
		rows := make([][]string, 0, len(r.Mounts))
		for _, m := range r.Mounts {
			rows = append(rows, []string{Escape(verifyShortPath(r.Root, m.MountPoint)), mountContainer(m), m.State.String(),
				mountLowers(m), m.Propagation, mountDash(strings.Join(m.Namespaces(), ", ")), mountDash(mountProblems(m.Problems))})
		}
		if err := table(w, []string{"mount point", "container", "state", "lowers", "propagation", "namespace", "problems"}, rows); err != nil {
			return err
		}
	}
	p.f("\n%s\n", MountsSummary(r))
	for _, f := range r.Findings {
		p.f("  %s  %s\n", f.Kind, Escape(f.Path))
		wrap(p, "    ", Escape(f.Message))
	}
	mountsChanged(p, r)
	if opt.Long {
		for _, m := range r.Mounts {
			mountDetails(p, m)
		}
	}
	return p.err
}

// MountsSummary is the one-line summary of a mounts report.
func MountsSummary(r *mounts.Report) string {
	var b strings.Builder
	b.WriteString("dlayer mounts " + Escape(r.Root) + ": " + mountCount(len(r.Mounts), "mount"))
	states := map[mounts.State]int{}
	for _, m := range r.Mounts {
		states[m.State]++
	}
	var parts []string
	for _, s := range mounts.States() {
		if states[s] > 0 {
			parts = append(parts, strconv.Itoa(states[s])+" "+s.String())
		}
	}
	if len(parts) > 0 {
		b.WriteString(" (" + strings.Join(parts, ", ") + ")")
	}
	nss := map[string]bool{}
	for _, t := range r.Tables {
		if t.Mounts > 0 {
			nss[t.Path+t.Namespace] = true
		}
	}
	b.WriteString(" in " + mountCount(len(nss), "mount table") + ": ")
	if len(r.Findings) == 0 {
		b.WriteString("no problems")
	} else {
		b.WriteString(mountCount(len(r.Findings), "problem"))
	}
	b.WriteString(mountsChangedSummary(r))
	return b.String()
}

// MountsJSON writes the report as one JSON object.
func MountsJSON(w io.Writer, p Provenance, r *mounts.Report) error {
	out := *r
	if out.Tables == nil {
		out.Tables = []mounts.Table{}
	}
	if out.Findings == nil {
		out.Findings = []inspect.Finding{}
	}
	if out.Warnings == nil {
		out.Warnings = []inspect.Finding{}
	}
	out.Mounts = make([]mounts.Mount, len(r.Mounts))
	for i, m := range r.Mounts {
		m.MountPoint, _ = jsonString(m.MountPoint)
		m.UpperDir, _ = jsonString(m.UpperDir)
		m.WorkDir, _ = jsonString(m.WorkDir)
		m.LowerDirs = mountJSONStrings(m.LowerDirs)
		out.Mounts[i] = m
	}
	out.Changed = mountsChangedJSON(r.Changed)
	return JSON(w, MountsDocument{NewHeader(SchemaMounts, p), out})
}

// mountDetails is the --long block of one mount.
func mountDetails(p *printer, m mounts.Mount) {
	p.f("\n%s\n", Escape(m.MountPoint))
	kv := func(k, v string) {
		if v != "" {
			p.f("  %-12s %s\n", k, v)
		}
	}
	kv("fstype", m.FSType)
	if m.Container != nil {
		kv("container", m.Container.ID+" "+Escape(m.Container.Name)+" ("+m.Container.Layer.String()+" layer, "+mountDash(m.Container.Status)+")")
	}
	kv("layer", m.Driver+" "+m.LayerID)
	kv("upper", Escape(m.UpperDir))
	kv("work", Escape(m.WorkDir))
	for i, d := range m.LowerDirs {
		v := Escape(d)
		if i < len(m.LowerLayers) && m.LowerLayers[i] != "" {
			v += " -> layer " + mountShortLayer(m.LowerLayers[i])
		}
		kv("lower "+strconv.Itoa(i+1), v)
	}
	for i, b := range m.Branches {
		kv("branch "+strconv.Itoa(i), Escape(b.Path)+"="+b.Perm)
	}
	if m.StoreLowerLayers != nil {
		kv("store lower", mountLayerIDs(m.StoreLowerLayers))
	}
	if m.Relative {
		v := "the kernel shows paths relative to the driver home (long layer chain)"
		if m.ResolvedIn != "" {
			v += "; resolved against " + Escape(m.ResolvedIn)
		}
		kv("relative", v)
	}
	kv("options", Escape(m.Options))
	for _, s := range m.Seen {
		kv("seen", Escape(s.Table)+":"+strconv.Itoa(s.Line)+" "+mountDash(s.Namespace)+" mount "+strconv.Itoa(s.MountID)+" "+s.Propagation)
	}
}

// mountShortLayer cuts a layer dir name like a Docker ID, keeping "-init".
func mountShortLayer(id string) string {
	if base, ok := strings.CutSuffix(id, "-init"); ok {
		return shortID(base) + "-init"
	}
	return shortID(id)
}

func mountContainer(m mounts.Mount) string {
	c := m.Container
	if c == nil {
		return "-"
	}
	s := shortID(c.ID)
	if c.Name != "" {
		s = Escape(c.Name) + " (" + s + ")"
	}
	if c.Layer != mounts.RoleRW {
		s += " " + c.Layer.String()
	}
	return s
}

func mountLowers(m mounts.Mount) string {
	s := strconv.Itoa(len(m.LowerDirs))
	if m.Relative {
		s += " (relative)"
	}
	return s
}

func mountProblems(ps []mounts.Problem) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return strings.Join(out, ", ")
}

func mountLayerIDs(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = mountDash(mountShortLayer(id))
	}
	return mountDash(strings.Join(out, " "))
}

func mountJSONStrings(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i], _ = jsonString(s)
	}
	return out
}

func mountDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func mountCount(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
