package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/report"
)

func TestDUCLI(t *testing.T) {
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := b.Root
	if err := os.MkdirAll(filepath.Join(r, "overlay2", "leaked", "diff"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{"summary", []string{"--root", r, "du"}, 0, "Biggest items (by disk usage)", ""},
		{"summary rows", []string{"--root", r, "du"}, 0, "Orphans                   1", ""},
		{"by layer", []string{"--root", r, "du", "--by", "layer"}, 0, "demo/app:2, demo/base:1", ""},
		{"by image", []string{"--root", r, "du", "--by", "image"}, 0, "SHARED SIZE", ""},
		{"by container", []string{"--root", r, "du", "--by", "container", "--top", "1"}, 0, "SIZE ROOT FS", ""},
		{"by orphan", []string{"--root", r, "du", "--by", "orphan"}, 0, "leaked", ""},
		{"bad view", []string{"--root", r, "du", "--by", "volume"}, 2, "", "want one of layer, image, container, orphan"},
		{"bad top", []string{"--root", r, "du", "--top", "-1"}, 2, "", "--top"},
		{"argument", []string{"--root", r, "du", "extra"}, 2, "", "no arguments"},
		{"missing root", []string{"--root", r + "/nope", "du"}, 2, "", r + "/nope"},
		{"bad format", []string{"--root", r, "--format", "yaml", "du"}, 2, "", "--format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
		})
	}
	out, _, code := runCLI("--root", r, "--format", "json", "du")
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("json: exit %d\n%s", code, out)
	}
	for _, k := range []string{"root", "driver", "driver_dir", "summary", "images", "layers", "containers", "build_cache", "orphans", "bookkeeping", "other", "mounts", "findings"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("json has no %q", k)
		}
	}
	for _, k := range []string{"size_rw", "size_root_fs", "log_usage", "dir_usage", "mount_id"} {
		if !strings.Contains(out, `"`+k+`"`) {
			t.Errorf("json has no %q", k)
		}
	}
	if update, _ := progress(&bytes.Buffer{}, report.DUProgress); update != nil {
		t.Error("progress on a writer that is not a terminal")
	}
}
