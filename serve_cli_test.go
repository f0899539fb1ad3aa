package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/clitest"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/du"
	"github.com/dlayer/dlayer/inspect/verify"
)

// TestServeReadRate: serve's --read-rate holds a full verify's content
// reads to the rate. A layer of 8 MiB of random bytes is verified with a
// budget of 4 MiB/s and without: with it, the bytes hashed over the run's
// time stay within 20 % of the budget (its first burst, 1 MiB, is free:
// at least 1.75 s for 8 MiB); without it the same run reads far faster.
// An upper bound on a rate, which a slower machine only lowers.
func TestServeReadRate(t *testing.T) {
	const size, budget = 8 << 20, 4 << 20
	r := rand.New(rand.NewPCG(17, 1))
	blob := make([]byte, size)
	for i := range blob {
		blob[i] = byte(r.Uint32())
	}
	st := fixtures.Store{Images: []fixtures.Image{{Tags: []string{"rate:1"}, Layers: []fixtures.Layer{{
		CreatedBy: "/bin/sh -c make blob", Entries: []fixtures.Entry{{Path: "/blob", Data: string(blob)}},
	}}}}}
	root := fixtures.MustBuild(t, st, fixtures.Options{}).Root
	s, err := inspect.Open(root, backends(), "")
	if err != nil {
		t.Fatal(err)
	}
	rate := func(pace verify.Pace) float64 {
		start := time.Now()
		rep, err := verify.Run(context.Background(), s, verify.Options{Pace: pace})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Findings) != 0 || rep.Stats.LayersHashed != 1 || rep.Stats.BytesHashed < size {
			t.Fatalf("verify: %d findings, %d layers hashed, %d bytes", len(rep.Findings), rep.Stats.LayersHashed, rep.Stats.BytesHashed)
		}
		return float64(rep.Stats.BytesHashed) / time.Since(start).Seconds()
	}
	free := rate(nil)
	limited := rate(readPace(t.Context(), budget))
	t.Logf("read rate: %.1f MiB/s without a budget, %.2f MiB/s with --read-rate 4MiB", free/(1<<20), limited/(1<<20))
	if limited > 1.2*budget {
		t.Errorf("with a budget of 4 MiB/s verify read %.2f MiB/s", limited/(1<<20))
	}
	if free < 2*budget {
		t.Errorf("without a budget verify read only %.2f MiB/s: the budget's test shows nothing", free/(1<<20))
	}
}

// TestServeUsageErrors: serve's flags are checked before it listens, and
// --tmpdir under the root is refused.
func TestServeUsageErrors(t *testing.T) {
	root := fixtures.MustBuild(t, fixtures.Store{}, fixtures.Options{}).Root
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--interval", "0s"}, "--interval 0s: want a duration > 0"},
		{[]string{"--cpus", "0"}, "--cpus 0: want at least 1"},
		{[]string{"--read-rate", "fast"}, `--read-rate "fast"`},
		{[]string{"--tmpdir", root + "/image"}, "refusing to write under the data root"},
		{[]string{"--tmpdir", root + "/nothing-here"}, "--tmpdir " + root + "/nothing-here"},
		{[]string{"extra"}, "takes no arguments"},
	} {
		_, errOut, code := runCLI(append([]string{"--root", root, "--daemon", "off", "serve"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("serve %v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestDUProm: du --prom writes serve's du families for the audit it
// prints: the metrics equal the JSON, owner by owner; a file under the
// root is refused; a run that cannot complete keeps the last success.
func TestDUProm(t *testing.T) {
	root := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{}).Root
	file := filepath.Join(t.TempDir(), "du.prom")
	out, errOut, code := runCLI("--root", root, "--format", "json", "du", "--prom", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r du.Report
	must(t, json.Unmarshal([]byte(out), &r))
	fams := clitest.ParseProm(t, file)
	for owner, g := range map[string]du.Group{"images": r.Summary.Images, "containers": r.Summary.Containers, "orphans": r.Summary.Orphans, "other": r.Summary.Other} {
		lb := map[string]string{"owner": owner, "driver": r.Driver}
		if got := clitest.GaugeValue(fams, "dlayer_du_disk_usage_bytes", lb); got != float64(g.DiskUsage) {
			t.Errorf("disk usage of %s: %v, JSON %d", owner, got, g.DiskUsage)
		}
		if got := clitest.GaugeValue(fams, "dlayer_du_size_bytes", lb); got != float64(g.Size) {
			t.Errorf("size of %s: %v, JSON %d", owner, got, g.Size)
		}
	}
	if got := clitest.GaugeValue(fams, "dlayer_store_info", map[string]string{"root": root, "driver": r.Driver}); got != 1 {
		t.Errorf("dlayer_store_info %v", got)
	}
	last := clitest.GaugeValue(fams, "dlayer_scan_last_success_timestamp_seconds", map[string]string{"scan": "du"})
	if last <= 0 || clitest.GaugeValue(fams, "dlayer_scan_success", map[string]string{"scan": "du"}) != 1 {
		t.Fatalf("last success %v", last)
	}
	if _, _, code := runCLI("--root", root+"/gone", "du", "--prom", file); code != exitUsage {
		t.Fatalf("du of a missing root: exit %d", code)
	}
	fams = clitest.ParseProm(t, file)
	if clitest.GaugeValue(fams, "dlayer_scan_success", map[string]string{"scan": "du"}) != 0 ||
		clitest.GaugeValue(fams, "dlayer_scan_last_success_timestamp_seconds", map[string]string{"scan": "du"}) != last || fams["dlayer_du_size_bytes"] != nil {
		t.Error("a du that could not run: want success 0, the last success kept, no results")
	}
	if _, errOut, code := runCLI("--root", root, "du", "--prom", root+"/image/x.prom"); code != exitUsage || !strings.Contains(errOut, "refusing to write under the data root") {
		t.Errorf("--prom under the root: exit %d %s", code, errOut)
	}
}
