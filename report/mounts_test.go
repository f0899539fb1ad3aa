package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/mounts"
	"github.com/dlayer/dlayer/mountinfo"
)

func mountsSample() *mounts.Report {
	id := strings.Repeat("a", 64)
	cid := strings.Repeat("c", 64)
	return &mounts.Report{
		Root: "/var/lib/docker",
		Tables: []mounts.Table{
			{Path: "/proc/812/mountinfo", Namespace: "mnt:[4026531832]", Procs: []string{"self[812]", "dockerd[90]"}, Mounts: 31},
			{Path: "/proc/2000/mountinfo", Procs: []string{"dockerd[2000]"}, Error: "permission denied"},
		},
		Mounts: []mounts.Mount{{
			MountPoint: "/var/lib/docker/overlay2/" + id + "/merged", FSType: "overlay", Driver: "overlay2", LayerID: id,
			Merged: true, State: mounts.StateStopped,
			Container: &mounts.Container{ID: cid, Name: "we\tb", Status: "exited", Layer: "rw"},
			UpperDir:  "/var/lib/docker/overlay2/" + id + "/diff", LowerDirs: []string{"/var/lib/docker/overlay2/l/ABC", "/x\xffy"},
			LowerLayers: []string{id + "-init", ""}, StoreLowerLayers: []string{id + "-init"}, Relative: true, ResolvedIn: "/var/lib/docker/overlay2",
			Branches:    []mountinfo.Branch{{Path: "/b", Perm: "ro+wh"}},
			Propagation: "shared:2", Options: "rw,lowerdir=l/ABC",
			Seen:     []mounts.Seen{{Table: "/proc/812/mountinfo", Line: 22, Namespace: "mnt:[4026531832]", MountID: 49, Propagation: "shared:2"}},
			Problems: []mounts.Problem{mounts.Leaked},
		}},
		Findings: []inspect.Finding{{Kind: inspect.FindingKind(mounts.Leaked), Path: "/var/lib/docker/overlay2/" + id + "/merged", Message: "container we\tb is stopped"}},
	}
}

func TestMountsTable(t *testing.T) {
	var b bytes.Buffer
	if err := Mounts(&b, mountsSample(), MountsOptions{Long: true}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"  /proc/812/mountinfo   mnt:[4026531832]   31 mounts   self[812], dockerd[90]\n",
		"  /proc/2000/mountinfo   -   0 mounts   dockerd[2000]   (not read: see stderr)\n",
		"MOUNT POINT                    CONTAINER              STATE     LOWERS         PROPAGATION   NAMESPACE          PROBLEMS\n",
		"overlay2/aaaaaaaaaaaa/merged   we\\tb (cccccccccccc)   stopped   2 (relative)   shared:2      mnt:[4026531832]   leaked_mount\n",
		"dlayer mounts /var/lib/docker: 1 mount (1 stopped) in 1 mount table: 1 problem\n",
		"  leaked_mount  /var/lib/docker/overlay2/" + strings.Repeat("a", 64) + "/merged\n    container we\\tb is stopped\n",
		"  lower 1      /var/lib/docker/overlay2/l/ABC -> layer aaaaaaaaaaaa-init\n",
		"  lower 2      /x\\xffy\n",
		"  branch 0     /b=ro+wh\n",
		"  store lower  aaaaaaaaaaaa-init\n",
		"  relative     the kernel shows paths relative to the driver home (long layer chain); resolved against /var/lib/docker/overlay2\n",
		"  seen         /proc/812/mountinfo:22 mnt:[4026531832] mount 49 shared:2\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	empty := &mounts.Report{Root: "/r", Tables: []mounts.Table{{Path: "f", Mounts: 3}}}
	if err := Mounts(&b, empty, MountsOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "No overlay or aufs mount of /r in these tables.\n") ||
		!strings.Contains(b.String(), "dlayer mounts /r: 0 mounts in 1 mount table: no problems\n") {
		t.Errorf("empty report:\n%s", b.String())
	}
}

func TestMountsJSON(t *testing.T) {
	var b bytes.Buffer
	if err := MountsJSON(&b, Provenance{}, mountsSample()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Root   string `json:"root"`
		Mounts []struct {
			MountPoint string   `json:"mount_point"`
			LowerDirs  []string `json:"lower_dirs"`
			State      string   `json:"state"`
			Container  struct {
				Name string `json:"name"`
			} `json:"container"`
			Seen []struct {
				Namespace string `json:"namespace"`
			} `json:"seen"`
		} `json:"mounts"`
		Findings []inspect.Finding `json:"findings"`
		Warnings []inspect.Finding `json:"warnings"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	m := got.Mounts[0]
	if m.State != "stopped" || m.Container.Name != "we\tb" || m.LowerDirs[1] != `/x\xffy` || m.Seen[0].Namespace != "mnt:[4026531832]" ||
		len(got.Findings) != 1 || got.Warnings == nil {
		t.Errorf("got %+v", got)
	}
	b.Reset()
	_ = MountsJSON(&b, Provenance{}, &mounts.Report{Root: "/r"})
	if !strings.Contains(b.String(), `"mounts": []`) || !strings.Contains(b.String(), `"findings": []`) {
		t.Errorf("empty arrays: %s", b.String())
	}
}
