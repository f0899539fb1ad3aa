package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect/mounts"
	"github.com/dlayer/dlayer/inspect/verify"
)

func changedVerifySample() *verify.Report {
	cid := strings.Repeat("c", 64)
	return &verify.Report{Root: "/var/lib/docker", Drivers: []string{"overlay2"}, Quick: true,
		Stats:    verify.Stats{Images: 2, Layers: 3, Containers: 1},
		Findings: []verify.Finding{},
		Changed: []verify.Changed{{Kind: verify.KindChangedDuringScan, ObjectType: verify.ObjectContainer, Object: cid,
			Path: "/var/lib/docker/containers/" + cid, Seen: []verify.Kind{verify.KindContainerLayerMissing, verify.KindContainerMountMissing},
			Now: verify.SettledGone, Message: "removed while the store was read", Affects: verify.Affects{Images: []string{}, Containers: []string{"ch-1"}}}},
	}
}

// Objects that changed during the scan are shown apart from the findings,
// named as information; --quiet (cron) prints nothing for them.
func TestVerifyChangedText(t *testing.T) {
	r := changedVerifySample()
	var b bytes.Buffer
	if err := Verify(&b, r, VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Changed during the scan", "container cccccccccccc", "gone",
		"container_layer_missing, container_mount_missing", "container ch-1",
		"no findings; 1 object changed during the scan (not findings)"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := Verify(&b, r, VerifyOptions{Quiet: true}); err != nil || b.Len() != 0 {
		t.Errorf("--quiet printed %q (%v)", b.String(), err)
	}
}

func TestVerifyChangedJSON(t *testing.T) {
	var b bytes.Buffer
	if err := VerifyJSON(&b, Provenance{}, changedVerifySample(), false); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Summary struct{ Findings int } `json:"summary"`
		Changed []map[string]any       `json:"changed_during_scan"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Summary.Findings != 0 || len(got.Changed) != 1 {
		t.Fatalf("%s", b.String())
	}
	c := got.Changed[0]
	for _, k := range []string{"kind", "object_type", "object", "path", "seen", "now", "message", "affects"} {
		if _, ok := c[k]; !ok {
			t.Errorf("changed entry lacks %s: %v", k, c)
		}
	}
	if c["kind"] != "changed_during_scan" || c["now"] != "gone" {
		t.Errorf("%v", c)
	}
	// none changed: no key at all (the JSON of a quiet engine is as before)
	b.Reset()
	r := changedVerifySample()
	r.Changed = nil
	if err := VerifyJSON(&b, Provenance{}, r, false); err != nil || strings.Contains(b.String(), "changed_during_scan") {
		t.Errorf("%v %s", err, b.String())
	}
}

func TestMountsChanged(t *testing.T) {
	r := mountsSample()
	r.Findings, r.Mounts[0].Problems = nil, nil
	r.Changed = []mounts.Changed{{Kind: mounts.ChangedDuringScan, Path: r.Mounts[0].MountPoint, Seen: []mounts.Problem{mounts.Leaked},
		Now: mounts.SettledConsistent, Message: "the first read saw leaked_mount (mounted, and container we\tb is created); re-read once it settled: mounted, and container we\tb is running: not a problem"}}
	var b bytes.Buffer
	if err := Mounts(&b, r, MountsOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"no problems; 1 changed during the scan (not a problem)", "  changed_during_scan  /var/lib/docker/overlay2/",
		`container we\tb is running`} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := MountsJSON(&b, Provenance{}, r); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Findings []any            `json:"findings"`
		Changed  []map[string]any `json:"changed_during_scan"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil || len(got.Findings) != 0 || len(got.Changed) != 1 ||
		got.Changed[0]["now"] != "consistent" || got.Changed[0]["kind"] != "changed_during_scan" {
		t.Errorf("%v %s", err, b.String())
	}
}
