package inspect

// GapKind names something a store holds that this process cannot see.
type GapKind string

// GapTrustedXattrs: the driver keeps its markers in trusted.* xattrs and
// this process cannot read them (layerfs.Privilege).
const GapTrustedXattrs GapKind = "trusted_xattrs_hidden"

// A Gap is something the store holds that this process cannot see, so
// that an answer built on it may be wrong without any error to show it.
type Gap struct {
	Kind GapKind `json:"kind"`
	// What is what goes unseen and what that does to the answers.
	What string `json:"what"`
	// Why is what the process lacks, and what to do about it.
	Why string `json:"why"`
}

// Gaps are what this process cannot see in the store; none when it sees
// everything.
func (s *Store) Gaps() []Gap {
	if s.graph.Terms().TrustedMarkers && !s.priv.TrustedXattrs {
		return []Gap{{
			Kind: GapTrustedXattrs,
			What: "overlay markers kept in trusted.overlay.* xattrs (opaque dirs, redirects, metacopy copy-ups, xattr whiteouts) read as absent: " +
				"the lower entries an opaque dir hides, and the deletions they are, go unseen",
			Why: s.priv.Why,
		}}
	}
	return nil
}
