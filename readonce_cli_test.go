package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect/layerfs"
)

// countingFS is an Opener that counts the files read through it.
type countingFS struct {
	layerfs.Opener
	mu    sync.Mutex
	reads map[string]int
	links map[string]int
}

func (c *countingFS) ReadFile(path string, max int64) ([]byte, error) {
	c.mu.Lock()
	c.reads[path]++
	c.mu.Unlock()
	return c.Opener.ReadFile(path, max)
}

func (c *countingFS) ReadDir(path string) ([]fs.DirEntry, error) { return c.Opener.ReadDir(path) }

func (c *countingFS) Readlink(path string) (string, error) {
	c.mu.Lock()
	c.links[path]++
	c.mu.Unlock()
	return c.Opener.Readlink(path)
}

// metadataFile reports whether rel (below the data root) is one of the
// store's metadata files that a command must read at most once.
func metadataFile(rel string) bool {
	return strings.Contains(rel, "/layerdb/") || strings.Contains(rel, "/imagedb/") ||
		strings.HasSuffix(rel, "repositories.json") || strings.HasSuffix(rel, "config.v2.json")
}

// TestMetadataReadOnce runs every command on the demo store through a
// counting opener: each layerdb, imagedb, repositories.json and
// config.v2.json file is opened at most once per command — the store's
// metadata is read once, whatever features the command uses — and the
// metadata the command needs was read through the opener at all.
func TestMetadataReadOnce(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := b.Root
	web := b.Container("web")
	base := b.Image("demo/base:1").Layers[0]
	empty := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		// want are files (below the root) the command must have read.
		want []string
	}{
		{"ps", []string{"ps"}, []string{"containers/" + web.ID + "/config.v2.json"}},
		{"images", []string{"images"}, []string{"image/overlay2/repositories.json"}},
		{"layers", []string{"layers", "demo/app:2"}, []string{"image/overlay2/layerdb/sha256/" + base.ChainID.Encoded() + "/cache-id"}},
		{"explain", []string{"explain", "web"}, []string{"image/overlay2/layerdb/mounts/" + web.ID + "/mount-id"}},
		{"diff", []string{"diff", "web"}, []string{"containers/" + web.ID + "/config.v2.json"}},
		{"du", []string{"du"}, []string{"image/overlay2/layerdb/sha256/" + base.ChainID.Encoded() + "/size"}},
		{"verify", []string{"verify"}, []string{"image/overlay2/layerdb/sha256/" + base.ChainID.Encoded() + "/diff"}},
		{"verify quick", []string{"verify", "--quick"}, []string{"image/overlay2/layerdb/sha256/" + base.ChainID.Encoded() + "/diff"}},
		{"mounts", []string{"--mountinfo", empty, "mounts"}, []string{"image/overlay2/layerdb/mounts/" + web.ID + "/mount-id"}},
		{"report", []string{"--format", "table", "report", "--html", filepath.Join(t.TempDir(), "r.html"), "--verify", "quick", "--settle", "0"},
			[]string{"containers/" + web.ID + "/config.v2.json", "image/overlay2/layerdb/sha256/" + base.ChainID.Encoded() + "/size"}},
		{"export", []string{"--format", "table", "export", "web", "-o", filepath.Join(t.TempDir(), "web.tar")}, []string{"containers/" + web.ID + "/config.v2.json"}},
		{"layers contents", []string{"layers", "--contents", "web"}, []string{"image/overlay2/layerdb/mounts/" + web.ID + "/mount-id"}},
		{"whose", []string{"whose", "overlay2/" + base.CacheID + "/diff/etc/passwd"}, []string{"image/overlay2/layerdb/sha256/" + base.ChainID.Encoded() + "/cache-id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.HasPrefix(tc.name, "verify") {
				engine.NeedRoot(t, verifyNeedsRoot)
			}
			c := &countingFS{Opener: layerfs.OS{}, reads: map[string]int{}, links: map[string]int{}}
			var o, e bytes.Buffer
			args := append([]string{"dlayer", "--root", r, "--mountinfo", "none", "--daemon", "off", "--format", "json"}, tc.args...)
			// a later --mountinfo (mounts needs a table) wins
			if code := runWith(deps{backends: backends(), fs: c}, args, &o, &e); code > 1 {
				t.Fatalf("exit %d: %s", code, e.String())
			}
			for p, n := range c.reads {
				rel, err := filepath.Rel(r, p)
				if err != nil || strings.HasPrefix(rel, "..") {
					t.Errorf("read outside the root: %s", p)
					continue
				}
				if metadataFile(rel) && n > 1 {
					t.Errorf("%s read %d times", rel, n)
				}
			}
			for _, w := range tc.want {
				if c.reads[filepath.Join(r, w)] != 1 {
					t.Errorf("%s not read through the opener (%d reads)", w, c.reads[filepath.Join(r, w)])
				}
			}
		})
	}
}

// TestShortLinkReadOnce: a mount table can name one l/ link any number
// of times (a 200,000-entry lowerdir); each link is read once.
func TestShortLinkReadOnce(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := b.Root
	web := b.Container("web")
	lower, err := os.ReadFile(filepath.Join(r, "overlay2", web.MountID, "lower"))
	must(t, err)
	links := strings.Split(strings.TrimSpace(string(lower)), ":")
	var dirs []string
	for len(dirs) < 200000 {
		for _, l := range links {
			dirs = append(dirs, filepath.Join(r, "overlay2", l))
		}
	}
	home := filepath.Join(r, "overlay2", web.MountID)
	line := "49 42 0:39 / " + home + "/merged rw,relatime - overlay overlay rw,lowerdir=" + strings.Join(dirs, ":") +
		",upperdir=" + home + "/diff,workdir=" + home + "/work\n"
	mi := filepath.Join(t.TempDir(), "mountinfo")
	must(t, os.WriteFile(mi, []byte(line), 0o644))
	for _, cmd := range [][]string{{"mounts"}, {"explain", "web"}, {"whose", "overlay2/" + web.MountID}} {
		c := &countingFS{Opener: layerfs.OS{}, reads: map[string]int{}, links: map[string]int{}}
		var o, e bytes.Buffer
		args := append([]string{"dlayer", "--root", r, "--mountinfo", mi, "--daemon", "off", "--format", "json"}, cmd...)
		if code := runWith(deps{backends: backends(), fs: c}, args, &o, &e); code > 1 {
			t.Fatalf("%v: exit %d: %s", cmd, code, e.String())
		}
		if cmd[0] == "mounts" && !strings.Contains(o.String(), home+"/merged") {
			t.Fatalf("mounts does not show the mount:\n%.2000s", o.String())
		}
		total := 0
		for p, n := range c.links {
			total += n
			if n > 1 {
				t.Errorf("%v: %s read %d times", cmd, p, n)
			}
		}
		t.Logf("%v: %d readlinks for a %d-entry lowerdir", cmd, total, len(dirs))
	}
}
