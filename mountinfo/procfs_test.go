package mountinfo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/procfs"
)

// procfs is the reference parser this package replaces (see doc.go).
// On every sample both must agree, modulo what procfs does not do:
// decode escapes, keep order and repeated keys, keep unknown tags.
func TestAgreesWithProcfs(t *testing.T) {
	for _, path := range samples(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			if err := os.Mkdir(filepath.Join(root, "1"), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(root, "1", "mountinfo"), string(b))
			pfs, err := procfs.NewFS(root)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := pfs.GetProcMounts(1)
			if err != nil {
				t.Fatalf("procfs: %v", err)
			}
			ours := readSample(t, filepath.Base(path))
			if len(ref) != len(ours) {
				t.Fatalf("procfs: %d mounts, ours: %d", len(ref), len(ours))
			}
			for i, r := range ref {
				m := ours[i]
				same := r.MountID == m.MountID && r.ParentID == m.ParentID &&
					r.MajorMinorVer == m.MajorMinor && r.FSType == m.FSType &&
					r.Root == escapeOctal(m.Root, pathEscapes) &&
					r.MountPoint == escapeOctal(m.MountPoint, pathEscapes) &&
					r.Source == escapeOctal(m.Source, pathEscapes) &&
					len(r.Options) == len(m.Options)
				if !same {
					t.Errorf("line %d: procfs %+v\nours %+v", i+1, *r, m)
					continue
				}
				for k, v := range r.SuperOptions {
					if got, ok := m.SuperOption(mustUnescape(t, k)); !ok || got != mustUnescape(t, v) {
						t.Errorf("line %d: super option %q: procfs %q, ours %q", i+1, k, v, got)
					}
				}
				if m.Shared != 0 && r.OptionalFields["shared"] == "" ||
					m.Master != 0 && r.OptionalFields["master"] == "" {
					t.Errorf("line %d: optional fields: procfs %v, ours %v", i+1, r.OptionalFields, m.OptionalFields)
				}
			}
		})
	}
}

func mustUnescape(t *testing.T, s string) string {
	t.Helper()
	u, err := unescape(s, false)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
