package mountinfo

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Prefixes of the paths in the captured samples (see testdata/README.md).
const (
	capT  = "/tmp/mi-exp.fnlo" // overlay-kernel618.mountinfo, ns-*.mountinfo
	eng   = "/tmp/eng/root"    // the Docker 20.10 engine in self-host.mountinfo
	dHome = "/var/lib/docker/overlay2"
	id1   = "6a8357616fb6398dd51780701330ad58c660303a3200f106361349751437212b"
	id2   = "3465af4cc7d116757ecdcd1c6ade502ceb079fc004eef3eb628fcaaaf117d6a1"
	engID = "eb84bc9d9e491233bca840d7ad9196ca04255536ca01761ede09b5067601fc27"
)

// samples lists every *.mountinfo file under testdata.
func samples(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.mountinfo"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no samples under testdata: %v", err)
	}
	return names
}

// readSample parses testdata/<name>, which must be well formed.
func readSample(t testing.TB, name string) []Mount {
	t.Helper()
	mounts, err := ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", name, err)
	}
	return mounts
}

// sampleLines returns the lines of a sample file.
func sampleLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// escapeOctal writes the bytes of set as \ooo, the way the kernel's
// seq_escape does.
func escapeOctal(s, set string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(set, c) >= 0 {
			b.WriteString("\\")
			o := strconv.FormatInt(int64(c), 8)
			b.WriteString(strings.Repeat("0", 3-len(o)) + o)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// pathEscapes is what the kernel escapes in the path fields (mangle);
// optEscapes what seq_show_option escapes in overlay option values.
const (
	pathEscapes = " \t\n\\"
	optEscapes  = ",= \t\n\\"
)

// formatLine renders m as the kernel would, for round-trip checks.
func formatLine(m Mount) string {
	f := []string{
		strconv.Itoa(m.MountID), strconv.Itoa(m.ParentID), m.MajorMinor,
		escapeOctal(m.Root, pathEscapes), escapeOctal(m.MountPoint, pathEscapes),
		strings.Join(m.Options, ","),
	}
	f = append(f, m.OptionalFields...)
	f = append(f, "-", m.FSType, escapeOctal(m.Source, pathEscapes), m.SuperOptionsRaw)
	return strings.Join(f, " ")
}

// backslashEscape escapes ':' ',' and '\' with a backslash, as a user
// writes a path into lowerdir=.
func backslashEscape(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `:`, `\:`, `,`, `\,`)
	return r.Replace(p)
}

// formatOverlay renders the layer options of o the way ovl_show_options
// does, for round-trip checks.
func formatOverlay(o Overlay) string {
	var opts []string
	if o.AddForm {
		for _, p := range o.LowerDirs {
			opts = append(opts, "lowerdir+="+escapeOctal(p, optEscapes))
		}
		for _, p := range o.DataDirs {
			opts = append(opts, "datadir+="+escapeOctal(p, optEscapes))
		}
	} else {
		var ls []string
		for _, p := range o.LowerDirs {
			ls = append(ls, backslashEscape(p))
		}
		v := strings.Join(ls, ":")
		for _, p := range o.DataDirs {
			v += "::" + backslashEscape(p)
		}
		opts = append(opts, "lowerdir="+escapeOctal(v, optEscapes))
	}
	if o.UpperDir != "" {
		opts = append(opts, "upperdir="+escapeOctal(backslashEscape(o.UpperDir), optEscapes))
	}
	if o.WorkDir != "" {
		opts = append(opts, "workdir="+escapeOctal(backslashEscape(o.WorkDir), optEscapes))
	}
	return strings.Join(opts, ",")
}

// writeFile writes a test file or fails the test.
func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
