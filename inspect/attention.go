package inspect

import (
	"strconv"
	"strings"

	"github.com/dlayer/dlayer/inspect/layerfs"
)

// AttentionKind names something a writable layer did that deserves a
// look first during an incident.
type AttentionKind string

// String returns the kind as written in JSON.
func (k AttentionKind) String() string { return string(k) }

// The kinds of attention, in the order an explanation lists them.
const (
	// AttentionSetID: a regular file that is setuid or setgid now and was
	// not in the image (or is new).
	AttentionSetID AttentionKind = "setid_gained"
	// AttentionCapability: a file whose security.capability xattr (file
	// capabilities, e.g. cap_net_raw) is new or differs from the image's.
	AttentionCapability AttentionKind = "capability_gained"
	// AttentionExecAdded: a new executable regular file (any x bit).
	AttentionExecAdded AttentionKind = "executable_added"
	// AttentionExecReplaced: an executable of the image whose content was
	// changed, or a file of the image made executable.
	AttentionExecReplaced AttentionKind = "executable_replaced"
	// AttentionSystemPath: a change under a dir of system configuration,
	// binaries, libraries or scheduled jobs (SystemDirs), beyond the copy
	// of a parent dir that a change below it forces.
	AttentionSystemPath AttentionKind = "system_path"
	// AttentionAfterStart: a change made after the container's latest
	// start (phase running or after-stop).
	AttentionAfterStart AttentionKind = "after_start"
)

// AttentionKinds lists the kinds in order.
func AttentionKinds() []AttentionKind {
	return []AttentionKind{AttentionSetID, AttentionCapability, AttentionExecAdded, AttentionExecReplaced, AttentionSystemPath, AttentionAfterStart}
}

// SystemDirs are the dirs whose changes AttentionSystemPath names: system
// configuration, root's home, binaries, libraries, the boot dir, cron.
func SystemDirs() []string {
	return []string{"/etc", "/root", "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin",
		"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/libexec", "/boot", "/var/spool/cron"}
}

// MaxAttentionPaths bounds the example paths one Attention keeps.
const MaxAttentionPaths = 5

// Attention is one kind of thing to look at: how many changes, and the
// first of them in tree order.
type Attention struct {
	Kind  AttentionKind `json:"kind"`
	Count int           `json:"count"`
	// Paths are the first MaxAttentionPaths of them.
	Paths []string `json:"paths"`
}

// attention lists, kind by kind, the changes of cs that deserve a look.
func attention(cs []Change) []Attention {
	by := map[AttentionKind]*Attention{}
	add := func(k AttentionKind, p string) {
		a := by[k]
		if a == nil {
			a = &Attention{Kind: k}
			by[k] = a
		}
		a.Count++
		if len(a.Paths) < MaxAttentionPaths {
			a.Paths = append(a.Paths, p)
		}
	}
	for _, c := range cs {
		for _, k := range attentionOf(c) {
			add(k, c.Path)
		}
	}
	var out []Attention
	for _, k := range AttentionKinds() {
		if a := by[k]; a != nil {
			out = append(out, *a)
		}
	}
	return out
}

// attentionOf says which kinds of attention change c deserves.
func attentionOf(c Change) []AttentionKind {
	var out []AttentionKind
	mode, lower := ModeBits(c.Mode), uint64(0)
	if c.Lower != nil {
		lower = ModeBits(c.Lower.Mode)
	}
	file := c.Type == string(layerfs.TypeFile) && c.Kind != KindWhiteout
	wasFile := c.Lower != nil && c.Lower.Type == string(layerfs.TypeFile)
	if file && mode&0o6000 != 0 && (c.Lower == nil || mode&0o6000&^lower != 0) {
		out = append(out, AttentionSetID)
	}
	if c.Kind != KindWhiteout && contains(c.Changed, "capability") {
		out = append(out, AttentionCapability)
	}
	if file && mode&0o111 != 0 {
		switch {
		case c.Kind == KindAdded || c.Lower == nil:
			out = append(out, AttentionExecAdded)
		case wasFile && (lower&0o111 == 0 || contains(c.Changed, "content") || contains(c.Changed, "size") || contains(c.Changed, "type")):
			out = append(out, AttentionExecReplaced)
		}
	}
	if underSystemDir(c.Path) && !(c.Kind == KindCopiedUp && c.Type == string(layerfs.TypeDir)) {
		out = append(out, AttentionSystemPath)
	}
	if c.Phase == PhaseRunning || c.Phase == PhaseAfterStop {
		out = append(out, AttentionAfterStart)
	}
	return out
}

// ModeBits parses an octal mode ("4755"); 0 when it does not parse.
func ModeBits(m string) uint64 {
	v, err := strconv.ParseUint(m, 8, 32)
	if err != nil {
		return 0
	}
	return v
}

// underSystemDir reports whether p is one of SystemDirs or below one.
func underSystemDir(p string) bool {
	for _, d := range SystemDirs() {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}
