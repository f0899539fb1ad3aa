package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
)

// The committed plain-file aufs store: every command answers on it, with
// no privilege and no engine.
func TestCLIOnCommittedAUFSStore(t *testing.T) {
	r := filepath.Join(t.TempDir(), "root")
	if err := fixtures.ExtractAUFSDemo(r); err != nil {
		t.Fatal(err)
	}
	webDiff := "C /app\nC /app/bin\nC /app/bin/app\nA /app/cache\nA /app/cache/blob.img\nA /app/cache/sessions\nA /app/cache/sessions/s1.json\n" +
		"C /app/config.yml\nA /app/ctl.fifo\nA /app/current\nC /app/data\nD /app/data/1\nD /app/data/2\nD /app/data/3\nA /app/data/4\n" +
		"A /app/new.log\nC /bin\nD /bin/ls\nC /usr\nC /usr/share\nD /usr/share/doc\n"
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"ps", []string{"ps"}, 0, []string{"web", "aufs", "exited (1)"}},
		{"diff", []string{"--mountinfo", "none", "diff", "web"}, 0, []string{webDiff}},
		{"explain", []string{"--mountinfo", "none", "explain", "web"}, 0, []string{
			"driver     aufs", "aufs/diff/", "aufs/mnt/", "aufs/layers/<mount-id>", "marker: aufs .wh. file", "marker: aufs .wh..wh..opq file",
			"empty file named .wh.<name>", "holding the empty file .wh..wh..opq"}},
		{"--driver overlay2 refused", []string{"--driver", "overlay2", "ps"}, 2, nil},
		{"du", []string{"du"}, 0, []string{"(aufs)", "Driver bookkeeping (aufs/ dirs)", "aufs/ holds"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(append([]string{"--root", r, "--daemon", "off"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, out, errOut)
			}
			for _, want := range tc.out {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "overlay.opaque") || strings.Contains(out, "l/<short name>") {
				t.Errorf("aufs output speaks overlay2:\n%s", out)
			}
		})
	}
	// A live aufs mount of web, as mountinfo shows it with the module's
	// brs=0 (branches in the options): explain and mounts match it.
	x := explainJSON(t, r, "off", "web")
	var br []string
	br = append(br, x.RWLayer.UpperDir+"=rw")
	for _, d := range x.RWLayer.LowerDirs {
		br = append(br, d+"=ro+wh")
	}
	line := "36 25 0:44 / " + x.RWLayer.MergedDir + " rw,relatime - aufs none rw,si=9b4f0a7f2d8c1a23,dio,br:" + strings.Join(br, ":") + "\n"
	mi := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(mi, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI("--root", r, "--mountinfo", mi, "--daemon", "off", "--format", "json", "explain", "web")
	var xm struct {
		RWLayer struct {
			Mounted *bool `json:"mounted"`
		} `json:"rw_layer"`
		Findings []struct{ Kind string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &xm) != nil || xm.RWLayer.Mounted == nil || !*xm.RWLayer.Mounted || len(xm.Findings) != 0 {
		t.Errorf("explain with the aufs mount: exit %d %s\n%s", code, errOut, out)
	}
	if out, errOut, code := runCLI("--root", r, "--mountinfo", mi, "mounts"); code != 0 || !strings.Contains(out, "web (") || !strings.Contains(out, "running") {
		t.Errorf("mounts with the aufs mount: exit %d %s\n%s", code, errOut, out)
	}
	bad := strings.Replace(line, "=ro+wh:", "=ro+wh:"+x.RWLayer.LowerDirs[len(x.RWLayer.LowerDirs)-1]+"=ro+wh:", 1)
	if err := os.WriteFile(mi, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := runCLI("--root", r, "--mountinfo", mi, "--daemon", "off", "explain", "web"); !strings.Contains(out, "mount_mismatch") {
		t.Errorf("an aufs mount with an extra branch is not a mismatch:\n%s", out)
	}
	if out, _, code := runCLI("--root", r, "--mountinfo", mi, "mounts"); code != 1 || !strings.Contains(out, "mount_lower_mismatch") {
		t.Errorf("mounts: exit %d, want 1 with mount_lower_mismatch:\n%s", code, out)
	}

	out, errOut, code = runCLI("--root", r, "--format", "json", "verify")
	var v verifyJSON
	if json.Unmarshal([]byte(out), &v) != nil || v.Stats.LayersHashed != 4 || strings.Join(v.Drivers, ",") != "aufs" {
		t.Fatalf("verify: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, f := range v.Findings {
		// Without root the files belong to the caller, not to the tar's
		// owners; nothing else may differ.
		if os.Geteuid() == 0 || f.Kind != "owner_mismatch" {
			t.Errorf("verify finding on the committed store: %+v", f)
		}
	}
}
