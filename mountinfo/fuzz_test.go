package mountinfo

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, accounts for every line
// (a mount or a *LineError wrapping ErrMalformed), and that every mount
// it returns renders back to a line that parses to the same mount.
func FuzzParse(f *testing.F) {
	for _, path := range samples(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		for _, line := range sampleLines(f, path) {
			f.Add([]byte(line))
		}
	}
	f.Add([]byte(good + "\n36 35 98:0\n\n" + good))
	f.Fuzz(func(t *testing.T, data []byte) {
		mounts, err := Parse(bytes.NewReader(data))
		nlines := 0
		if len(data) > 0 {
			nlines = bytes.Count(data, []byte("\n"))
			if data[len(data)-1] != '\n' {
				nlines++
			}
		}
		var errs []error
		if err != nil {
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			} else {
				t.Fatalf("error is not a join: %v", err)
			}
		}
		if len(mounts)+len(errs) != nlines {
			t.Fatalf("%d lines, %d mounts, %d errors", nlines, len(mounts), len(errs))
		}
		for _, e := range errs {
			var le *LineError
			if !errors.As(e, &le) || !errors.Is(e, ErrMalformed) {
				t.Fatalf("error %v is not a *LineError wrapping ErrMalformed", e)
			}
		}
		for _, m := range mounts {
			back, err := ParseLine(formatLine(m))
			back.Line = m.Line
			if err != nil || !reflect.DeepEqual(back, m) {
				t.Fatalf("round trip of %+v gave %+v, %v", m, back, err)
			}
		}
	})
}

// FuzzParseOverlay checks that ParseOverlay never panics, fails only with
// ErrMalformed, and that a parsed overlay has a lower layer, no empty
// path, resolves to absolute paths, and renders back to options that
// parse to the same layers.
func FuzzParseOverlay(f *testing.F) {
	for _, path := range samples(f) {
		for _, m := range readSample(f, filepath.Base(path)) {
			if m.FSType == "overlay" {
				f.Add(m.SuperOptionsRaw)
			}
		}
	}
	for _, s := range []string{"lowerdir=/a::/d", `lowerdir=/a\134`, "lowerdir=/a:::/b",
		"lowerdir+=/a,datadir+=/d", `lowerdir=/a,upperdir=/u\075\054v,workdir=/w`, "lowerdir=:/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOverlay(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(o.LowerDirs) == 0 {
			t.Fatal("no lower layer")
		}
		for _, p := range append(append([]string{}, o.LowerDirs...), o.DataDirs...) {
			if p == "" {
				t.Fatalf("empty layer in %+v", o)
			}
		}
		r := o.Resolve("/base")
		if r.Relative() {
			t.Fatalf("relative after Resolve: %+v", r)
		}
		for _, p := range r.LowerDirs {
			if !strings.HasPrefix(p, "/") {
				t.Fatalf("not absolute: %q", p)
			}
		}
		back, err := ParseOverlay(formatOverlay(o))
		if err != nil || !sameLayers(o, back) {
			t.Fatalf("round trip of %+v gave %+v, %v", o, back, err)
		}
	})
}

// FuzzParseAufs checks that ParseAufs never panics, fails only with
// ErrMalformed, and that parsed branches are absolute, carry a valid
// permission, and render back ("br:" list) to the same branches.
func FuzzParseAufs(f *testing.F) {
	for _, path := range samples(f) {
		for _, m := range readSample(f, filepath.Base(path)) {
			if m.FSType == "aufs" {
				f.Add(m.SuperOptionsRaw)
			}
		}
	}
	for _, s := range []string{"si=1,br0=/a=rw,br1=/b=ro+wh", "br=/a=rw:/b=ro,dio", "br:/a,b=rw:/c:d=rr", `br:/a\040b=rw`, "si=zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAufs(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if a.SI == "" && len(a.Branches) == 0 {
			t.Fatalf("neither si nor branches: %+v", a)
		}
		var list []string
		for _, b := range a.Branches {
			if !strings.HasPrefix(b.Path, "/") || (b.Perm != "" && !validPerm(b.Perm)) {
				t.Fatalf("bad branch %+v from %q", b, s)
			}
			item := escapeOctal(b.Path, pathEscapes)
			if b.Perm != "" {
				item += "=" + b.Perm
			}
			list = append(list, item)
		}
		if len(list) == 0 || ambiguous(a.Branches) {
			return
		}
		back, err := ParseAufs("br:" + strings.Join(list, ":"))
		if err != nil || !reflect.DeepEqual(back.Branches, a.Branches) {
			t.Fatalf("round trip of %+v gave %+v, %v", a.Branches, back.Branches, err)
		}
	})
}

// ambiguous reports whether a branch path contains what the branch list
// syntax uses as separators (":/" or "="), so that a rendering of it
// cannot be split back the same way.
func ambiguous(bs []Branch) bool {
	for _, b := range bs {
		if strings.Contains(b.Path, ":/") || strings.Contains(b.Path, "=") || strings.HasSuffix(b.Path, ":") {
			return true
		}
	}
	return false
}
