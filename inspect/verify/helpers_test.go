package verify

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
	"github.com/vbatts/tar-split/tar/storage"
)

// bigData is 2 MiB of pseudo-random bytes: larger than inlineMax, so the
// file is streamed by the hasher rather than read ahead.
var bigData = func() string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 2<<20)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}()

// richStore has every kind of entry the checks reconcile: a hardlink, a
// symlink, a setuid-free executable, a big file, a dir owned by 1000, a
// whiteout and an opaque dir in a middle layer, and a container.
func richStore() fixtures.Store {
	F := fixtures.File
	return fixtures.Store{
		Images: []fixtures.Image{{
			Tags: []string{"rich:1"},
			Layers: []fixtures.Layer{
				{CreatedBy: "/bin/sh -c #(nop) ADD file:rootfs in / ", Entries: []fixtures.Entry{
					{Path: "/bin/tool", Type: F, Data: "tool v1\n", Mode: 0o755},
					{Path: "/bin/tool2", Type: fixtures.Hardlink, Target: "/bin/tool"},
					{Path: "/bin/link", Type: fixtures.Symlink, Target: "tool"},
					{Path: "/etc/conf", Data: "a=1\n"},
					{Path: "/etc/gone", Data: "bye\n"},
					{Path: "/data", Type: fixtures.Dir},
					{Path: "/data/old", Data: "old\n"},
					{Path: "/big.bin", Data: bigData},
					{Path: "/home/u", Type: fixtures.Dir, UID: 1000, GID: 1000},
					{Path: "/empty", Data: ""},
				}},
				{CreatedBy: "/bin/sh -c rm /etc/gone && rm -rf /data && mkdir /data && echo new > /data/new", Entries: []fixtures.Entry{
					{Path: "/etc/gone", Type: fixtures.Whiteout},
					{Path: "/data", Type: fixtures.Dir, Opaque: true},
					{Path: "/data/new", Data: "new\n"},
					{Path: "/etc/conf2", Data: "b=2\n"},
				}},
				{CreatedBy: "/bin/sh -c echo top > /top", Entries: []fixtures.Entry{{Path: "/top", Data: "top\n"}}},
			},
		}},
		Containers: []fixtures.Container{{Name: "c1", Image: "rich:1", State: fixtures.StateExited, Cmd: []string{"/bin/tool"}}},
	}
}

// store is a built fixture store with paths the tampers need.
type store struct {
	*fixtures.Built
}

func build(t testing.TB, s fixtures.Store, form fixtures.WhiteoutForm) store {
	t.Helper()
	return store{fixtures.MustBuild(t, s, fixtures.Options{Form: form})}
}

// layer returns image 0's layer i (0 = base).
func (s store) layer(i int) fixtures.BuiltLayer { return s.Images[0].Layers[i] }

// diff returns the path of rel (no leading /) in layer i's diff dir.
func (s store) diff(i int, rel string) string {
	return filepath.Join(s.Root, "overlay2", s.layer(i).CacheID, "diff", rel)
}

// layerdb returns a file of layer i's layerdb dir.
func (s store) layerdb(i int, name string) string {
	return filepath.Join(s.Root, "image/overlay2/layerdb/sha256", s.layer(i).ChainID.Encoded(), name)
}

// run verifies the store and returns the findings that matter for this
// user: not root, the builder cannot chown nor set security.capability,
// and says so in its notes.
func (s store) run(t testing.TB, opt Options) *Report {
	t.Helper()
	st, err := inspect.Open(s.Root, fixtures.Backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		var keep []Finding
		for _, f := range r.Findings {
			if f.Kind == KindOwnerMismatch || (f.Kind == KindXattrMismatch && strings.Contains(f.Expected, "security.capability")) {
				continue
			}
			keep = append(keep, f)
		}
		r.Findings = keep
	}
	return r
}

// readTarSplit decodes every entry of a tar-split.json.gz.
func readTarSplit(t testing.TB, p string) []storage.Entry {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(gunzipFile(t, p)))
	var out []storage.Entry
	for {
		var e storage.Entry
		if err := dec.Decode(&e); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
}

// writeTarSplit writes entries as tar-split.json.gz, as they are (no
// duplicate check: tests forge what an attacker could).
func writeTarSplit(t testing.TB, p string, es []storage.Entry) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	enc := json.NewEncoder(gz)
	for _, e := range es {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// kinds lists the kinds of findings.
func kinds(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Kind)+" "+f.Path)
	}
	return out
}
