package mountinfo

// splitLowerdir splits the decoded value of lowerdir= the way the kernel
// does (fs/overlayfs/params.c, ovl_parse_param_split_lowerdirs and
// ovl_parse_param_lowerdir; Documentation/filesystems/overlayfs.rst):
//
//   - ':' separates layers, uppermost first; "::" separates a data-only
//     layer, and once one data layer is given every later layer must be
//     one too ("/l1:/l2::/d1::/d2");
//   - a backslash escapes the next character, so "\:" is a ':' and "\,"
//     a ',' inside a path; the escapes are undone after splitting;
//   - a leading ':', a trailing ':' and three or more ':' in a row are
//     rejected, as the kernel rejects them.
func splitLowerdir(s string) (lower, data []string, err error) {
	if s == "" {
		return nil, nil, malformed("empty lowerdir")
	}
	if s[0] == ':' {
		return nil, nil, malformed("lowerdir %q starts with ':'", s)
	}
	var (
		cur    []byte
		colons int
		isData bool // the layer being read follows "::"
	)
	emit := func() error {
		p := unescapeOverlay(string(cur))
		cur = cur[:0]
		if p == "" {
			return malformed("lowerdir %q has an empty layer", s)
		}
		if isData {
			data = append(data, p)
			return nil
		}
		if len(data) > 0 {
			return malformed("lowerdir %q: regular layer %q after a data layer", s, p)
		}
		lower = append(lower, p)
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ':' {
			colons++
			switch colons {
			case 1:
				if err := emit(); err != nil {
					return nil, nil, err
				}
				isData = false
			case 2:
				isData = true
			default:
				return nil, nil, malformed("lowerdir %q has more than two ':' in a row", s)
			}
			continue
		}
		colons = 0
		cur = append(cur, c)
		if c == '\\' && i+1 < len(s) {
			i++
			cur = append(cur, s[i])
		}
	}
	if colons > 0 {
		return nil, nil, malformed("lowerdir %q ends with ':'", s)
	}
	if err := emit(); err != nil {
		return nil, nil, err
	}
	return lower, data, nil
}

// unescapeOverlay undoes overlay's backslash escapes as the kernel does
// for lowerdir=, upperdir= and workdir= (ovl_unescape): a backslash is
// dropped and the next character kept; a trailing backslash is dropped,
// so the path is the one the kernel actually looked up.
func unescapeOverlay(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			if i == len(s) {
				break
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}
