package report

import (
	"fmt"
	"github.com/dlayer/dlayer/inspect/backend"
	"strings"

	"github.com/docker/go-units"
	"github.com/opencontainers/go-digest"
)

// Explanations of each kind of change, for a reader who has never seen
// overlayfs. Printed once, under the first change of that kind.
func kindHelp(kind string) string {
	return map[string]string{
		"added": "Added: the container created this entry; no lower layer has this path. " +
			"It lives only in the writable (upper) layer and disappears with the container.",
		"modified": "Modified: a copy of a file from a read-only lower layer, changed afterwards. " +
			"overlayfs never edits lower layers: the first write (or chmod, chown, touch) copies the whole file " +
			"up into the writable layer (copy-on-write), and the copy now differs in what is listed.",
		"copied_up": "Copied up: a copy of a lower entry with nothing changed. It happens when a file is opened " +
			"for writing without being changed (even O_APPEND), hardlinked, or touched with its own time, and for " +
			"every parent dir of a copied-up entry. `docker diff` does not list these; they still cost their size.",
		"metadata_copy_up": "Metadata-only copy-up (overlay metacopy): only the inode (mode, owner, times) was copied " +
			"up; the data is still read from the lower layer, so the copy costs almost no space.",
		"whiteout": "Whiteout: a deletion. A lower layer cannot be changed, so deleting one of its entries puts a " +
			"marker in the writable layer (a character device 0/0, or an empty file with the overlay.whiteout xattr) " +
			"that hides it. The lower file still uses its space in the image.",
		"opaque": "Opaque dir: a dir marked with the overlay.opaque xattr hides everything below it in lower layers, " +
			"as happens when a dir is deleted and created again (rm -rf d; mkdir d). Only what the upper dir holds is visible.",
		"redirect": "Redirect: a dir renamed or moved inside the container (overlay redirect_dir). The upper dir " +
			"carries an overlay.redirect xattr naming the lower dir its content comes from.",
	}[kind]
}

// KindText is the explanation of a kind of change, in the driver's terms
// where they differ from overlayfs's.
func KindText(kind string, t backend.Terms) string {
	if s, ok := t.KindHelp[kind]; ok {
		return s
	}
	return kindHelp(kind)
}

// Instruction turns an image history created_by into the Dockerfile form:
// "/bin/sh -c #(nop) COPY …" → "COPY …", "/bin/sh -c echo" → "RUN echo".
func Instruction(createdBy string) string {
	s := strings.TrimSpace(createdBy)
	if i := strings.Index(s, "#(nop) "); i >= 0 {
		return strings.TrimSpace(s[i+len("#(nop) "):])
	}
	if i := strings.Index(s, "/bin/sh -c "); i >= 0 {
		return "RUN " + strings.TrimSpace(s[i+len("/bin/sh -c "):])
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// short is the 12-hex form Docker prints; it never panics on a digest
// read from a damaged store.
func short(d digest.Digest) string {
	s := string(d)
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	return shortID(s)
}

func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// HumanBytes formats a byte count as Docker does (decimal units).
func HumanBytes(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%dB", n)
	}
	return units.HumanSizeWithPrecision(float64(n), 3)
}

func fmtInt(n int64) string { return fmt.Sprintf("%d", n) }
