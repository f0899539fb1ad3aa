package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures/engine"
)

// churnSeconds is how long TestChurnE2E keeps the engine busy;
// DLAYER_CHURN_SECONDS overrides it (a longer soak by hand).
func churnSeconds(t *testing.T) time.Duration {
	if v := os.Getenv("DLAYER_CHURN_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("DLAYER_CHURN_SECONDS=%q: want a positive number of seconds", v)
		}
		return time.Duration(n) * time.Second
	}
	return 60 * time.Second
}

// TestChurnE2E runs every command again and again against a private engine
// that creates, starts, kills and removes a container every ~0.3–1 s and
// builds and removes an image meanwhile (issue 12, "Under a busy engine").
// No run may panic or race; du, ps, images, explain, diff and whose must
// exit 0; verify --quick and mounts may exit 1 only with findings that a
// run on the quiet engine afterwards confirms. Objects caught mid-change
// are changed_during_scan entries, which are information (exit 0).
func TestChurnE2E(t *testing.T) {
	e := engine.ForTest(t, "")
	if _, err := e.ImportBusybox("churn-base:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build("churn:1", "FROM churn-base:1\nRUN echo a > /a\nCMD [\"sleep\", \"3600\"]\n", nil); err != nil {
		t.Fatal(err)
	}
	mustDocker(t, e, "run", "-d", "--network", "none", "--name", "steady", "churn:1")
	mustDocker(t, e, "run", "--network", "none", "--name", "parked", "churn:1", "sh", "-c", "echo p > /p")
	steady, err := e.InspectContainer("steady")
	if err != nil {
		t.Fatal(err)
	}
	root := e.Root()
	upper := steady.GraphDriver.Data["UpperDir"]
	t.Setenv("DOCKER_HOST", e.Host())

	// verify and mounts, which exit 1 on findings, twice a round
	verify, mounts := []string{"--format", "json", "verify", "--quick"}, []string{"--format", "json", "mounts"}
	commands := [][]string{
		{"du"}, verify, mounts,
		{"ps"}, {"images"}, verify, mounts,
		{"explain", "steady"}, {"diff", "steady"}, {"whose", upper},
	}

	ctx, stop := context.WithTimeout(context.Background(), churnSeconds(t))
	defer stop()
	var wg sync.WaitGroup
	churnErrs := make(chan error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); churnErrs <- churnContainers(ctx, e) }()
	go func() { defer wg.Done(); churnImages(ctx, e) }()

	type run struct {
		args         []string
		stdout, errs string
		code         int
	}
	var runs []run
	for ctx.Err() == nil {
		for _, c := range commands {
			out, errOut, code := runCLI(append([]string{"--root", root}, c...)...)
			runs = append(runs, run{c, out, errOut, code})
		}
	}
	wg.Wait()
	close(churnErrs)
	for err := range churnErrs {
		if err != nil {
			t.Errorf("churn: %v", err)
		}
	}

	// The engine quiet: every churned container gone, then a pause.
	if out, err := e.Docker("ps", "-aq", "--filter", "name=ch-"); err == nil && strings.TrimSpace(out) != "" {
		e.Docker(append([]string{"rm", "-f"}, strings.Fields(out)...)...)
	}
	time.Sleep(2 * time.Second)
	quietVerify := map[string]bool{}
	vr, code := verifyFindings(t, root)
	if code != 0 {
		t.Errorf("verify --quick on the quiet engine: exit %d: %v", code, slices.Sorted(maps.Keys(vr)))
	}
	maps.Copy(quietVerify, vr)
	quietMounts, code := mountFindings(t, root)
	if code != 0 {
		t.Errorf("mounts on the quiet engine: exit %d: %v", code, slices.Sorted(maps.Keys(quietMounts)))
	}

	// Tally: runs and exits per command, false findings by kind.
	type tally struct{ runs, nonzero, changed int }
	per := map[string]*tally{}
	falseKinds := map[string]int{}
	falseRuns := map[string]int{}
	var examples []string
	for _, r := range runs {
		name := cmdName(r.args)
		if per[name] == nil {
			per[name] = &tally{}
		}
		tl := per[name]
		tl.runs++
		if r.code != 0 {
			tl.nonzero++
		}
		if strings.Contains(r.errs, "panic:") || strings.Contains(r.errs, "fatal error:") || strings.Contains(r.errs, "DATA RACE") {
			t.Errorf("%s: crashed (exit %d):\n%s", strings.Join(r.args, " "), r.code, r.errs)
			continue
		}
		switch name {
		case "verify", "mounts":
			if r.code != 0 && r.code != 1 {
				t.Errorf("%s: exit %d: %s", strings.Join(r.args, " "), r.code, r.errs)
				continue
			}
			var finds map[string]string
			quiet := quietVerify
			var changed int
			if name == "verify" {
				finds, changed = parseFindings(t, r.stdout, verifyKey)
			} else {
				finds, changed = parseFindings(t, r.stdout, mountKey)
				quiet = quietMounts
			}
			tl.changed += changed
			falseHere := false
			for k, msg := range finds {
				if !quiet[k] {
					falseKinds[name+" "+strings.SplitN(k, "|", 2)[0]]++
					falseHere = true
					if len(examples) < 8 {
						examples = append(examples, name+": "+k+": "+msg)
					}
				}
			}
			if falseHere {
				falseRuns[name]++
			}
		default:
			if r.code != 0 {
				t.Errorf("%s: exit %d under churn:\n%s", strings.Join(r.args, " "), r.code, tailLines(r.errs, 8))
			}
		}
	}
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(per)) {
		tl := per[name]
		fmt.Fprintf(&b, "  %-8s %4d runs, %3d non-zero exits, %3d runs with false findings, %3d changed_during_scan entries\n",
			name, tl.runs, tl.nonzero, falseRuns[name], tl.changed)
	}
	for _, k := range slices.Sorted(maps.Keys(falseKinds)) {
		fmt.Fprintf(&b, "  false finding %-40s %d\n", k, falseKinds[k])
	}
	t.Logf("churn for %s:\n%s", churnSeconds(t), b.String())
	if len(falseKinds) > 0 {
		t.Errorf("findings of runs under churn that the quiet engine does not confirm:\n%s\nsome of them:\n  %s",
			b.String(), strings.Join(examples, "\n  "))
	}
}

// churnContainers creates, starts, kills and removes containers until ctx
// ends: one every ~0.3–1 s; every third runs to completion instead.
func churnContainers(ctx context.Context, e *engine.Engine) error {
	for i := 0; ctx.Err() == nil; i++ {
		name := fmt.Sprintf("ch-%d", i)
		var steps [][]string
		if i%3 == 2 {
			steps = [][]string{{"run", "--network", "none", "--name", name, "churn:1", "sh", "-c", "echo x > /x"}, {"rm", name}}
		} else {
			steps = [][]string{{"create", "--network", "none", "--name", name, "churn:1"}, {"start", name}, {"kill", name}, {"rm", "-f", name}}
		}
		for _, s := range steps {
			if out, err := e.Docker(s...); err != nil {
				return fmt.Errorf("docker %s: %v\n%s", strings.Join(s, " "), err, out)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(100+(i*137)%400) * time.Millisecond):
		}
	}
	return nil
}

// churnImages builds an image of two layers on churn:1 and removes it,
// until ctx ends (the classic builder makes and removes a container per
// RUN). A failed build (the engine busy) is tried again.
func churnImages(ctx context.Context, e *engine.Engine) {
	for i := 0; ctx.Err() == nil; i++ {
		tag := fmt.Sprintf("churn-b:%d", i)
		if _, err := e.Build(tag, fmt.Sprintf("FROM churn:1\nRUN echo %d > /n\nRUN echo y > /y\n", i), nil); err == nil {
			e.Docker("rmi", tag)
		}
	}
}

func cmdName(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") && a != "json" {
			return a
		}
	}
	return ""
}

// verifyKey and mountKey say what makes two findings the same one.
func verifyKey(f map[string]any) string {
	return fmt.Sprintf("%v|%v %v|%v", f["kind"], f["object_type"], f["object"], f["path"])
}

func mountKey(f map[string]any) string { return fmt.Sprintf("%v|%v", f["kind"], f["path"]) }

// parseFindings reads a verify or mounts JSON report: its findings, by
// key, with their messages, and how many changed_during_scan entries it
// has.
func parseFindings(t *testing.T, out string, key func(map[string]any) string) (map[string]string, int) {
	t.Helper()
	var r struct {
		Findings []map[string]any `json:"findings"`
		Changed  []map[string]any `json:"changed_during_scan"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Errorf("not JSON: %v\n%s", err, out)
		return nil, 0
	}
	m := map[string]string{}
	for _, f := range r.Findings {
		m[key(f)], _ = f["message"].(string)
	}
	return m, len(r.Changed)
}

func verifyFindings(t *testing.T, root string) (map[string]bool, int) {
	out, errOut, code := runCLI("--root", root, "--format", "json", "verify", "--quick")
	if code > 1 {
		t.Fatalf("verify: exit %d: %s", code, errOut)
	}
	m, _ := parseFindings(t, out, verifyKey)
	return keys(m), code
}

func mountFindings(t *testing.T, root string) (map[string]bool, int) {
	out, errOut, code := runCLI("--root", root, "--format", "json", "mounts")
	if code > 1 {
		t.Fatalf("mounts: exit %d: %s", code, errOut)
	}
	m, _ := parseFindings(t, out, mountKey)
	return keys(m), code
}

func keys(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func tailLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}
