package mountinfo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// minFields is the number of fields of a line without optional fields:
// six before the separator, the separator, three after it.
const minFields = 10

// Parse reads a mountinfo table (proc_pid_mountinfo(5)) from r.
//
// A bad line does not stop the parse: Parse returns every mount it could
// read, in file order, and an error joining one [*LineError] per bad line
// (each wraps [ErrMalformed]). An I/O error from r ends the parse and is
// returned wrapped, with the mounts read so far. Lines may be of any
// length; the last one needs no newline.
func Parse(r io.Reader) ([]Mount, error) {
	return parse(r, "")
}

// ReadFile opens path read-only and parses it with [Parse]; errors name
// the path. For a live table pass "/proc/<pid>/mountinfo" (or
// "/proc/self/mountinfo"); a copied file works the same.
func ReadFile(path string) ([]Mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mountinfo: %w", err)
	}
	defer f.Close()
	return parse(f, path)
}

// parse is Parse with the file name to put in errors.
func parse(r io.Reader, name string) ([]Mount, error) {
	var (
		mounts []Mount
		errs   []error
	)
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			where := name
			if where == "" {
				where = "mountinfo"
			}
			errs = append(errs, fmt.Errorf("%s: reading line %d: %w", where, n, err))
			break
		}
		if line == "" && err != nil {
			break // EOF right after a newline, or empty input
		}
		text := strings.TrimSuffix(line, "\n")
		m, perr := ParseLine(text)
		if perr != nil {
			errs = append(errs, &LineError{File: name, Line: n, Text: text, Err: perr})
		} else {
			m.Line = n
			mounts = append(mounts, m)
		}
		if err != nil {
			break
		}
	}
	return mounts, errors.Join(errs...)
}

// ParseLine parses one mountinfo line, without its newline. Errors wrap
// [ErrMalformed] but do not carry a line number; [Parse] adds it.
// The returned Mount's Line is 0.
func ParseLine(s string) (Mount, error) {
	fields := strings.Split(s, " ")
	sep := -1
	for i := 6; i < len(fields); i++ {
		if fields[i] == "-" {
			sep = i
			break
		}
	}
	switch {
	case len(fields) < minFields:
		return Mount{}, malformed("too few fields (%d, want at least %d)", len(fields), minFields)
	case sep < 0:
		return Mount{}, malformed(`no "-" separator after the optional fields`)
	case len(fields) < sep+4:
		return Mount{}, malformed(`too few fields after the "-" separator (%d, want 3)`, len(fields)-sep-1)
	}

	var m Mount
	var err error
	if m.MountID, err = parseID("mount ID", fields[0]); err != nil {
		return Mount{}, err
	}
	if m.ParentID, err = parseID("parent ID", fields[1]); err != nil {
		return Mount{}, err
	}
	m.MajorMinor = fields[2]
	if m.Major, m.Minor, err = parseMajorMinor(fields[2]); err != nil {
		return Mount{}, err
	}
	if m.Root, err = parsePath("root", fields[3]); err != nil {
		return Mount{}, err
	}
	if m.MountPoint, err = parsePath("mount point", fields[4]); err != nil {
		return Mount{}, err
	}
	if fields[5] == "" {
		return Mount{}, malformed("empty mount options")
	}
	m.Options = strings.Split(fields[5], ",")
	if err := parseOptionalFields(&m, fields[6:sep]); err != nil {
		return Mount{}, err
	}

	m.FSType = fields[sep+1]
	if m.FSType == "" {
		return Mount{}, malformed("empty filesystem type")
	}
	// The source may be empty (mount(2) with ""), which shows as two
	// spaces; it is escaped like a path.
	if m.Source, err = unescape(fields[sep+2], true); err != nil {
		return Mount{}, fmt.Errorf("source: %w", err)
	}
	// Super options should not contain spaces (the kernel escapes them
	// where it escapes at all); keep any that do rather than lose text.
	m.SuperOptionsRaw = strings.Join(fields[sep+3:], " ")
	if m.SuperOptionsRaw == "" {
		return Mount{}, malformed("empty super options")
	}
	m.SuperOptions = splitSuperOptions(m.SuperOptionsRaw)
	return m, nil
}

// parseID parses a mount or parent ID: a decimal without sign.
func parseID(what, s string) (int, error) {
	v, err := strconv.ParseUint(s, 10, 31)
	if err != nil {
		return 0, malformed("%s %q is not a non-negative decimal number", what, s)
	}
	return int(v), nil
}

// parseMajorMinor parses "major:minor", both decimal.
func parseMajorMinor(s string) (uint32, uint32, error) {
	ma, mi, ok := strings.Cut(s, ":")
	if ok {
		a, err1 := strconv.ParseUint(ma, 10, 32)
		b, err2 := strconv.ParseUint(mi, 10, 32)
		if err1 == nil && err2 == nil {
			return uint32(a), uint32(b), nil
		}
	}
	return 0, 0, malformed("major:minor %q is not two decimal numbers", s)
}

// parsePath decodes a path field, which must not be empty.
func parsePath(what, s string) (string, error) {
	if s == "" {
		return "", malformed("empty %s", what)
	}
	p, err := unescape(s, true)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return p, nil
}

// parseOptionalFields fills the propagation fields of m from the tags
// between the mount options and the separator. Unknown tags are kept in
// OptionalFields only; a known tag with a bad value, or any tag given
// twice, is an error.
func parseOptionalFields(m *Mount, tags []string) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if t == "" {
			return malformed("empty optional field")
		}
		m.OptionalFields = append(m.OptionalFields, t)
		tag, val, hasVal := strings.Cut(t, ":")
		if seen[tag] {
			return malformed("optional field %q repeated", tag)
		}
		seen[tag] = true
		var dst *int
		switch tag {
		case "shared":
			dst = &m.Shared
		case "master":
			dst = &m.Master
		case "propagate_from":
			dst = &m.PropagateFrom
		case "unbindable":
			if hasVal {
				return malformed("optional field %q: unbindable takes no value", t)
			}
			m.Unbindable = true
			continue
		default:
			continue
		}
		v, err := strconv.ParseUint(val, 10, 31)
		if !hasVal || err != nil || v == 0 {
			return malformed("optional field %q: want %s:N with N a positive peer group ID", t, tag)
		}
		*dst = int(v)
	}
	return nil
}

// splitSuperOptions splits the raw super options at commas and each at
// its first '=', decoding keys and values leniently (see unescape).
func splitSuperOptions(raw string) []Option {
	var opts []Option
	for part := range strings.SplitSeq(raw, ",") {
		k, v, has := strings.Cut(part, "=")
		k, _ = unescape(k, false)
		v, _ = unescape(v, false)
		opts = append(opts, Option{Key: k, Value: v, HasValue: has})
	}
	return opts
}
