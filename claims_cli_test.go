package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect/whose"
)

// TestLayerDirClaimedTwice: two containers' records naming one mount-id is
// not Docker's doing. verify reports it for both, and no command picks one
// claimant silently: du keeps the running owner's rw layer, mounts does
// not call the running container's mount leaked, whose advises nothing.
func TestLayerDirClaimedTwice(t *testing.T) {
	engine.NeedRoot(t, verifyNeedsRoot)
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	r := b.Root
	web, batch := b.Container("web"), b.Container("batch") // running, exited
	// batch's record now names web's rw layer
	must(t, os.WriteFile(filepath.Join(r, "image", "overlay2", "layerdb", "mounts", batch.ID, "mount-id"), []byte(web.MountID), 0o644))
	base := []string{"--root", r, "--daemon", "off", "--format", "json"}

	out, errOut, code := runCLI(append(base, "--mountinfo", "none", "verify", "--quick")...)
	var v verifyJSON
	if code != 1 || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("verify: exit %d %s", code, errOut)
	}
	claimants := map[string]bool{}
	for _, f := range v.Findings {
		if f.Kind == "layer_dir_claimed_twice" {
			claimants[f.Object] = strings.Contains(f.Message, web.ID[:12]) && strings.Contains(f.Message, batch.ID[:12])
		}
	}
	if !claimants[web.ID] || !claimants[batch.ID] {
		t.Errorf("verify does not name both claimants: %v\n%s", claimants, out)
	}

	out, _, code = runCLI(append(base, "--mountinfo", "none", "du")...)
	var du struct {
		Containers []struct {
			Name   string `json:"name"`
			SizeRw int64  `json:"size_rw"`
		} `json:"containers"`
		Findings []struct{ Kind, Message string } `json:"findings"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &du) != nil {
		t.Fatalf("du: exit %d", code)
	}
	for _, c := range du.Containers {
		if c.Name == "web" && c.SizeRw != web.SizeRw {
			t.Errorf("du: web's size_rw %d, want %d (its rw layer stays with the running claimant)", c.SizeRw, web.SizeRw)
		}
	}
	if !strings.Contains(out, "layer_dir_claimed_twice") {
		t.Errorf("du does not report the double claim:\n%s", out)
	}

	out, errOut, code = runCLI(append(base, "--mountinfo", demoMountinfo(t, b, false), "mounts")...)
	if code > 1 || strings.Contains(out, "leaked_mount") || !strings.Contains(out, "layer_dir_claimed_twice") {
		t.Errorf("mounts: exit %d: the running container's mount must not be called leaked, and the double claim named\n%s\n%s", code, out, errOut)
	}

	out, _, code = runCLI(append(base, "--mountinfo", "none", "whose", "overlay2/"+web.MountID+"/diff")...)
	var a whose.Answer
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil {
		t.Fatalf("whose: exit %d", code)
	}
	if a.Verdict.Instead != "" || !strings.Contains(a.Verdict.Reason, web.ID[:12]) || !strings.Contains(a.Verdict.Reason, batch.ID[:12]) {
		t.Errorf("whose: %+v", a.Verdict)
	}
}

// TestCacheIDClaimedTwice: two layers' records naming one driver dir is a
// verify finding for each, naming both.
func TestCacheIDClaimedTwice(t *testing.T) {
	engine.NeedRoot(t, verifyNeedsRoot)
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	ls := b.Image("demo/app:2").Layers
	must(t, os.WriteFile(filepath.Join(b.Root, "image", "overlay2", "layerdb", "sha256", ls[2].ChainID.Encoded(), "cache-id"), []byte(ls[1].CacheID), 0o644))
	out, errOut, code := runCLI("--root", b.Root, "--mountinfo", "none", "--daemon", "off", "--format", "json", "verify", "--quick")
	var v verifyJSON
	if code != 1 || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("verify: exit %d %s", code, errOut)
	}
	n := 0
	for _, f := range v.Findings {
		if f.Kind == "layer_dir_claimed_twice" && strings.Contains(f.Message, ls[1].ChainID.String()) && strings.Contains(f.Message, ls[2].ChainID.String()) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d findings naming both layers, want 2:\n%s", n, out)
	}
}
