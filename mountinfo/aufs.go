package mountinfo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrNotAufs is returned by [Mount.Aufs] for a mount whose filesystem type
// is not "aufs".
var ErrNotAufs = errors.New("not an aufs mount")

// Aufs holds the super options of an aufs mount (Docker's aufs storage
// driver, Docker ≤ 23) with its branches split and decoded.
//
// aufs (fs/aufs/super.c, aufs_show_options) always prints "si=<hex>", the
// id of the superblock, and prints the branches as a last option
// "br:<path>=<perm>:<path>=<perm>…" only when the module's "brs"
// parameter is 0. With brs=1 (the default of most distribution builds)
// mountinfo shows si= alone and the branches are the files
// /sys/fs/aufs/si_<hex>/br0, br1, … ([Aufs.ResolveSysfs]).
type Aufs struct {
	// SI is the superblock id of si=, lower-case hex; "" when absent.
	SI string
	// Branches are the branches, top (writable) first; nil when the
	// options do not list them.
	Branches []Branch
	// BranchesFrom says where Branches come from: "options" or "sysfs";
	// "" when there are none.
	BranchesFrom string
	// Other holds every other option ("rw" excepted), decoded, in order.
	Other []Option
	// Raw is the string given to ParseAufs.
	Raw string
}

// Branch is one aufs branch, "<path>=<perm>".
type Branch struct {
	// Path is the branch root, decoded.
	Path string `json:"path"`
	// Perm is the permission as aufs prints it: "rw", "ro", "rr", with
	// attributes such as "+wh" or "+nolwh" ("ro+wh"); "" when not given.
	Perm string `json:"perm"`
}

// Writable reports whether the branch takes writes (perm "rw…").
func (b Branch) Writable() bool { return strings.HasPrefix(b.Perm, "rw") }

// Aufs parses the super options of an aufs mount. It returns ErrNotAufs
// when FSType is not "aufs".
func (m Mount) Aufs() (Aufs, error) {
	if m.FSType != "aufs" {
		return Aufs{}, ErrNotAufs
	}
	return ParseAufs(m.SuperOptionsRaw)
}

// ParseAufs parses aufs super options as mountinfo shows them. Branches
// may be given as
//
//   - "br:<b>:<b>…" (how aufs prints them; always the last option, so the
//     rest of the string is the list, commas included),
//   - "br=<b>:<b>…" or "dirs=<b>:<b>…" (the mount-time spelling, up to
//     the next comma),
//   - "br<N>=<b>" for one branch N (the names of the sysfs files), 0-based
//     and without gaps,
//
// where <b> is "<path>=<perm>", split at its last '='. Branch paths are
// absolute, so the list is split only at a ':' followed by '/'. Paths are
// octal-decoded like mountinfo paths.
//
// Errors wrap [ErrMalformed]: empty options, si= that is not hex, an empty
// or relative branch path, a bad permission, branches given twice, or
// neither si= nor any branch.
func ParseAufs(superOptions string) (Aufs, error) {
	a := Aufs{Raw: superOptions}
	if superOptions == "" {
		return Aufs{}, malformed("empty aufs options")
	}
	rest := superOptions
	numbered := map[int]Branch{}
	for rest != "" {
		part := rest
		if strings.HasPrefix(part, "br:") {
			rest = ""
		} else if i := strings.IndexByte(part, ','); i >= 0 {
			part, rest = part[:i], part[i+1:]
		} else {
			rest = ""
		}
		if list, ok := strings.CutPrefix(part, "br:"); ok {
			if err := a.setBranches(list, "br:"); err != nil {
				return Aufs{}, err
			}
			continue
		}
		key, val, hasVal := strings.Cut(part, "=")
		switch {
		case key == "si":
			if !isHex(val) {
				return Aufs{}, malformed("si=%q is not a hex id", val)
			}
			a.SI = strings.ToLower(val)
		case key == "br" || key == "dirs":
			if err := a.setBranches(val, key+"="); err != nil {
				return Aufs{}, err
			}
		case len(key) > 2 && strings.HasPrefix(key, "br") && isDigits(key[2:]):
			n, _ := strconv.Atoi(key[2:])
			b, err := parseBranch(val)
			if err != nil {
				return Aufs{}, fmt.Errorf("%s: %w", key, err)
			}
			if _, dup := numbered[n]; dup {
				return Aufs{}, malformed("%s= given twice", key)
			}
			numbered[n] = b
		case key == "rw" && !hasVal:
		default:
			k, _ := unescape(key, false)
			v, _ := unescape(val, false)
			a.Other = append(a.Other, Option{Key: k, Value: v, HasValue: hasVal})
		}
	}
	if len(numbered) > 0 {
		if a.Branches != nil {
			return Aufs{}, malformed("br<N>= mixed with a branch list")
		}
		for i := range len(numbered) {
			b, ok := numbered[i]
			if !ok {
				return Aufs{}, malformed("br%d= missing among %d numbered branches", i, len(numbered))
			}
			a.Branches = append(a.Branches, b)
		}
		a.BranchesFrom = "options"
	}
	if a.SI == "" && a.Branches == nil {
		return Aufs{}, malformed("neither si= nor branches")
	}
	return a, nil
}

// setBranches splits a branch list into a.Branches.
func (a *Aufs) setBranches(list, what string) error {
	if a.Branches != nil {
		return malformed("branches given twice (%s)", what)
	}
	if list == "" {
		return malformed("empty branch list %s", what)
	}
	var start int
	for i := 0; i <= len(list); i++ {
		if i < len(list) && (list[i] != ':' || i+1 == len(list) || list[i+1] != '/') {
			continue
		}
		b, err := parseBranch(list[start:i])
		if err != nil {
			return fmt.Errorf("%s branch %d: %w", what, len(a.Branches), err)
		}
		a.Branches = append(a.Branches, b)
		start = i + 1
	}
	a.BranchesFrom = "options"
	return nil
}

// parseBranch parses "<path>=<perm>" (or "<path>").
func parseBranch(s string) (Branch, error) {
	path, perm := s, ""
	if i := strings.LastIndexByte(s, '='); i >= 0 {
		path, perm = s[:i], s[i+1:]
		if !validPerm(perm) {
			return Branch{}, malformed("branch %q: permission %q is not rw, ro or rr (with +attributes)", s, perm)
		}
	}
	p, _ := unescape(path, false)
	if p == "" || !filepath.IsAbs(p) {
		return Branch{}, malformed("branch %q: path is not absolute", s)
	}
	return Branch{Path: p, Perm: perm}, nil
}

// validPerm accepts aufs branch permissions: rw, ro or rr, then any
// number of "+attr" (fs/aufs/opts.c, au_optstr_br_perm).
func validPerm(p string) bool {
	base, attrs, _ := strings.Cut(p, "+")
	if base != "rw" && base != "ro" && base != "rr" {
		return false
	}
	if attrs == "" {
		return !strings.Contains(p, "+")
	}
	for a := range strings.SplitSeq(attrs, "+") {
		if a == "" || strings.Trim(a, "abcdefghijklmnopqrstuvwxyz_0123456789") != "" {
			return false
		}
	}
	return true
}

// ResolveSysfs returns a copy of a with Branches read from sysfs when the
// options did not list them: the files <sysRoot>/fs/aufs/si_<SI>/br0,
// br1, …, each "<path>=<perm>" and a newline (fs/aufs/sysfs.c). sysRoot
// is where sysfs is mounted, "/sys" on a live host; tests pass a fake
// tree. When Branches are already known, a is returned as is.
//
// The si_<SI> dir exists only while the mount does, on the host that has
// it: errors (wrapping fs.ErrNotExist, or ErrMalformed for a bad file or a
// gap in the numbering) name the path.
func (a Aufs) ResolveSysfs(sysRoot string) (Aufs, error) {
	if a.Branches != nil {
		return a, nil
	}
	if a.SI == "" {
		return a, malformed("no si= to look up in sysfs")
	}
	dir := filepath.Join(sysRoot, "fs", "aufs", "si_"+a.SI)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return a, fmt.Errorf("aufs branches: %w", err)
	}
	var nums []int
	for _, e := range ents {
		if n, ok := strings.CutPrefix(e.Name(), "br"); ok && isDigits(n) {
			i, err := strconv.Atoi(n)
			if err != nil {
				return a, fmt.Errorf("%s: %w", filepath.Join(dir, e.Name()), malformed("bad branch file name"))
			}
			nums = append(nums, i)
		}
	}
	if len(nums) == 0 {
		return a, fmt.Errorf("%s: %w", dir, malformed("no br<N> files"))
	}
	slices.Sort(nums)
	var brs []Branch
	for i, n := range nums {
		p := filepath.Join(dir, "br"+strconv.Itoa(n))
		if n != i {
			return a, fmt.Errorf("%s: %w", p, malformed("branch files are not numbered 0..%d without gaps", len(nums)-1))
		}
		b, err := readBranchFile(p)
		if err != nil {
			return a, err
		}
		brs = append(brs, b)
	}
	r := a
	r.Branches, r.BranchesFrom = brs, "sysfs"
	r.Other = slices.Clone(a.Other)
	return r, nil
}

// readBranchFile reads one sysfs br<N> file (a few hundred bytes at most;
// a path is at most PATH_MAX).
func readBranchFile(p string) (Branch, error) {
	f, err := os.Open(p)
	if err != nil {
		return Branch{}, err
	}
	defer f.Close()
	const limit = 8192
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return Branch{}, fmt.Errorf("%s: %w", p, err)
	}
	if len(b) > limit {
		return Branch{}, fmt.Errorf("%s: %w", p, malformed("longer than %d bytes", limit))
	}
	s := strings.TrimSuffix(string(b), "\n")
	if strings.ContainsRune(s, '\n') {
		return Branch{}, fmt.Errorf("%s: %w", p, malformed("more than one line"))
	}
	br, err := parseBranch(s)
	if err != nil {
		return Branch{}, fmt.Errorf("%s: %w", p, err)
	}
	return br, nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
