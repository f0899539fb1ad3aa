package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect/whose"
)

func TestWhoseCLI(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := b.Root
	base := b.Image("demo/base:1").Layers[0]
	web := b.Container("web")
	orphan := strings.Repeat("0f", 32)
	writeSized(t, filepath.Join(r, "overlay2", orphan, "diff", "a"), 1234)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(r, "overlay2", orphan), old, old); err != nil {
		t.Fatal(err)
	}
	// a mountinfo whose only overlay mount uses the orphan as a lower dir
	mi := filepath.Join(t.TempDir(), "mountinfo")
	line := fmt.Sprintf("900 29 0:99 / /tmp/leak/merged rw,relatime - overlay overlay rw,lowerdir=%s/overlay2/%s/diff,upperdir=/tmp/leak/diff,workdir=/tmp/leak/work\n", r, orphan)
	if err := os.WriteFile(mi, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	entry := "overlay2/" + base.CacheID + "/diff/etc/passwd"
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  []string // in stdout, in order
		err  string   // in stderr
	}{
		{"layer entry", []string{"whose", entry}, 0, []string{"/etc/passwd in the content dir of image layer 1/3 of demo/base:1",
			"In this layer", "Owner: image layer", base.DiffID.String(), "demo/app:2", "1/4", "Who sees /etc/passwd",
			"container web (running)", "shadowed   the rw layer has its own file /etc/passwd", "Safe to delete? no:"}, ""},
		{"quiet", []string{"whose", "-q", entry}, 0, []string{"Who sees", "Safe to delete? no"}, ""},
		{"absolute", []string{"whose", filepath.Join(r, entry)}, 0, []string{"Who sees /etc/passwd"}, ""},
		{"rw layer", []string{"whose", web.MountID}, 0, []string{"the dir of the writable (rw) layer of container web", "instead: docker rm web"}, ""},
		{"short link", []string{"whose", base.Link}, 0, []string{"the short link of image layer 1/3", "l/" + base.Link + " -> ../" + base.CacheID + "/diff"}, ""},
		{"orphan", []string{"whose", "overlay2/" + orphan}, 0, []string{"a layer dir that nothing owns (an orphan)", "Safe to delete? yes: orphan:", "frees 1234 bytes"}, ""},
		{"orphan mounted", []string{"--mountinfo", mi, "whose", "overlay2/" + orphan}, 0, []string{"mounts  /tmp/leak/merged", "Safe to delete? caution:", "but a live mount"}, ""},
		{"container log", []string{"whose", "containers/" + web.ID + "/" + web.ID + "-json.log"}, 0, []string{"the json-file log", "Safe to delete? caution", "truncate -s 0"}, ""},
		{"outside root", []string{"whose", "/etc/passwd"}, 2, nil, "not under the data root"},
		{"dot dot", []string{"whose", "overlay2/../../etc"}, 2, nil, "not under the data root"},
		{"nothing", []string{"whose", "overlay2/nosuch"}, 2, nil, "no such file or directory"},
		{"bare nothing", []string{"whose", "nosuch"}, 2, nil, "nor a short link"},
		{"no argument", []string{"whose"}, 2, nil, "exactly one PATH"},
		{"two arguments", []string{"whose", "a", "b"}, 2, nil, "exactly one PATH"},
		{"bad root", []string{"--root", r + "/nope", "whose", "x"}, 2, nil, r + "/nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--root", r, "--mountinfo", "none"}, tc.args...)
			if tc.args[0] == "--mountinfo" || tc.args[0] == "--root" {
				args = append([]string{"--root", r}, tc.args...)
			}
			out, errOut, code := runCLI(args...)
			rest := out
			for _, s := range tc.out {
				i := strings.Index(rest, s)
				if i < 0 {
					t.Errorf("stdout lacks %q (in order)", s)
					break
				}
				rest = rest[i+len(s):]
			}
			if code != tc.code || !strings.Contains(errOut, tc.err) || t.Failed() {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if tc.name == "quiet" && strings.Contains(out, "= A layer's diff/") {
				t.Errorf("--quiet still explains:\n%s", out)
			}
		})
	}

	out, errOut, code := runCLI("--root", r, "--mountinfo", "none", "--format", "json", "whose", entry)
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("json: exit %d %s\n%s", code, errOut, out)
	}
	for _, k := range []string{"arg", "path", "rel", "exists", "type", "kind", "driver", "layer_dir", "in_layer", "owner", "entry", "views", "verdict", "findings"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("json has no %q", k)
		}
	}
	var a whose.Answer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	if a.Kind != whose.PathLayerEntry || a.Owner.Layer == nil || a.Owner.Layer.ChainID != base.ChainID || len(a.Views) != 5 || a.Verdict.Safe != "no" {
		t.Errorf("json answer: %+v", a)
	}
	for _, k := range []string{`"chain_id"`, `"diff_id"`, `"cache_id"`, `"images"`, `"position"`, `"created_by"`, `"containers"`, `"result"`, `"by"`, `"of"`, `"safe"`, `"reason"`} {
		if !strings.Contains(out, k) {
			t.Errorf("json has no %s", k)
		}
	}
}

// TestWhoseCLIHostileNames: a name with a newline and invalid UTF-8 in a
// layer cannot break the text or the JSON apart.
func TestWhoseCLIHostileNames(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	web := b.Container("web")
	name := "bad\nname\xff"
	writeSized(t, filepath.Join(b.Root, "overlay2", web.MountID, "diff", name), 3)
	arg := "overlay2/" + web.MountID + "/diff/" + name
	out, errOut, code := runCLI("--root", b.Root, "--mountinfo", "none", "whose", arg)
	if code != 0 || strings.Contains(out, "bad\nname") || !strings.Contains(out, `/bad\nname\xff in the content dir`) {
		t.Errorf("exit %d %s\n%s", code, errOut, out)
	}
	out, _, code = runCLI("--root", b.Root, "--mountinfo", "none", "--format", "json", "whose", arg)
	var a whose.Answer
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || a.InLayer != `/bad\nname\xff` || a.Views[0].Result != whose.ViewVisible {
		t.Errorf("json: %d %q %+v", code, a.InLayer, a.Views)
	}
}
