package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect"
)

// TestExplainAttentionE2E: a container on a real engine that gives a
// binary of its image the setuid bit, drops a new executable in
// /usr/bin, replaces an executable's content and edits /etc: explain's
// summary opens with each of them, by path, in its first lines, and its
// JSON lists them (summary.attention) kind by kind.
func TestExplainAttentionE2E(t *testing.T) {
	e := engine.ForTest(t, "")
	if _, err := e.ImportBusybox("att-base:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build("att:1", "FROM att-base:1\nRUN mkdir -p /opt/app && cp /bin/busybox /opt/app/tool && echo data > /opt/app/data\n", nil); err != nil {
		t.Fatal(err)
	}
	script := "chmod u+s /bin/busybox && cp /bin/busybox /usr/bin/dropper && chmod 755 /usr/bin/dropper && " +
		"printf '#!/bin/sh\\necho pwned\\n' > /opt/app/tool && echo evil >> /etc/passwd && echo note > /tmp/note"
	if out, err := e.Docker("run", "--network", "none", "--name", "att", "att:1", "sh", "-c", script); err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	x := explainJSON(t, e.Root(), "off", "att")
	got := map[inspect.AttentionKind][]string{}
	for _, a := range x.Summary.Attention {
		got[a.Kind] = a.Paths
		if a.Count < len(a.Paths) {
			t.Errorf("%s: count %d < %d paths", a.Kind, a.Count, len(a.Paths))
		}
	}
	for k, want := range map[inspect.AttentionKind][]string{
		inspect.AttentionSetID:        {"/bin/busybox"},
		inspect.AttentionExecAdded:    {"/usr/bin/dropper"},
		inspect.AttentionExecReplaced: {"/opt/app/tool"},
	} {
		if !slices.Equal(got[k], want) {
			t.Errorf("attention %s: %v, want %v", k, got[k], want)
		}
	}
	for _, p := range []string{"/bin/busybox", "/etc/passwd", "/usr/bin/dropper"} {
		if !slices.Contains(got[inspect.AttentionSystemPath], p) {
			t.Errorf("attention system_path %v lacks %s", got[inspect.AttentionSystemPath], p)
		}
	}
	if slices.Contains(got[inspect.AttentionSystemPath], "/tmp/note") || slices.Contains(got[inspect.AttentionSystemPath], "/usr/bin") {
		t.Errorf("system_path names what is no system change: %v", got[inspect.AttentionSystemPath])
	}
	out, errOut, code := runCLI("--root", e.Root(), "--daemon", "off", "--mountinfo", "none", "explain", "att")
	if code != 0 {
		t.Fatalf("explain: exit %d: %s", code, errOut)
	}
	head := strings.Join(strings.SplitN(out, "\n", 16)[:15], "\n")
	for _, want := range []string{"setuid/setgid gained      /bin/busybox", "executables added         /usr/bin/dropper",
		"executables replaced      /opt/app/tool", "system dirs changed", "/etc/passwd"} {
		if !strings.Contains(head, want) {
			t.Errorf("the first 15 lines of explain lack %q:\n%s", want, head)
		}
	}
}
