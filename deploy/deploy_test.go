package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/report"
)

// tool is the path of a command the tests need (engine.NeedTool): make
// deps installs them (promtool out of Debian's prometheus package,
// systemd-analyze with systemd).
func tool(t *testing.T, name string) string { t.Helper(); return engine.NeedTool(t, name) }

// run runs a command and fails the test with its output when it fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// strict decodes manifest b (of file) into v, refusing unknown and
// duplicate fields.
func strict(t *testing.T, file string, b []byte, v any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// manifests decodes every manifest of kubernetes/ by its kind into its
// API type; a kind it does not know fails.
type manifests struct {
	ds   appsv1.DaemonSet
	svc  corev1.Service
	pm   monitoringv1.PodMonitor
	rule monitoringv1.PrometheusRule
}

func readManifests(t *testing.T) *manifests {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in kubernetes/: %v", err)
	}
	m := &manifests{}
	seen := map[string]bool{}
	for _, f := range files {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, &head); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var into any
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 DaemonSet":
			into = &m.ds
		case "v1 Service":
			into = &m.svc
		case "monitoring.coreos.com/v1 PodMonitor":
			into = &m.pm
		case "monitoring.coreos.com/v1 PrometheusRule":
			into = &m.rule
		default:
			t.Fatalf("%s: a %s %s, which this test does not check", f, head.APIVersion, head.Kind)
		}
		if seen[head.Kind] {
			t.Fatalf("%s: a second %s", f, head.Kind)
		}
		seen[head.Kind] = true
		strict(t, f, b, into)
	}
	if len(seen) != 4 {
		t.Fatalf("kubernetes/ holds %v; want a DaemonSet, a Service, a PodMonitor and a PrometheusRule", seen)
	}
	return m
}

// TestManifests: the manifests decode strictly into the Kubernetes and
// Prometheus operator API types, and say what docs/serve.md promises:
// the data root and the containerd root mounted read-only, a read-only
// root filesystem, every capability dropped but the three dlayer needs, a
// bounded emptyDir for --tmpdir, resource limits; the Service and the
// PodMonitor select the DaemonSet's pods and its metrics port.
func TestManifests(t *testing.T) {
	m := readManifests(t)
	spec := m.ds.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	if !slices.Contains(c.Args, "serve") || !slices.Contains(c.Args, "--tmpdir=/tmp") {
		t.Errorf("args %v: want serve with --tmpdir=/tmp", c.Args)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Privileged == nil || *sc.Privileged {
		t.Errorf("security context %+v: want a read-only root filesystem, no privilege escalation, not privileged", sc)
	}
	if sc != nil && sc.Capabilities != nil {
		if !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
			!slices.Equal(sc.Capabilities.Add, []corev1.Capability{"DAC_READ_SEARCH", "SYS_ADMIN", "SYS_PTRACE"}) {
			t.Errorf("capabilities %+v: want ALL dropped, DAC_READ_SEARCH, SYS_ADMIN and SYS_PTRACE added", sc.Capabilities)
		}
	} else {
		t.Error("no capabilities dropped")
	}
	if c.Resources.Limits.Memory().IsZero() || c.Resources.Limits.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Errorf("resources %+v: want memory and CPU limits and a memory request", c.Resources)
	}
	vols := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		vols[v.Name] = v
	}
	mounted := map[string]corev1.VolumeMount{}
	for _, vm := range c.VolumeMounts {
		mounted[vm.MountPath] = vm
	}
	for _, path := range []string{"/var/lib/docker", "/var/lib/containerd"} {
		vm, ok := mounted[path]
		v := vols[vm.Name]
		if !ok || !vm.ReadOnly || v.HostPath == nil || v.HostPath.Path != path {
			t.Errorf("%s: want the host's %s mounted read-only (mount %+v, volume %+v)", path, path, vm, v)
		}
	}
	if v := vols[mounted["/tmp"].Name]; v.EmptyDir == nil || v.EmptyDir.SizeLimit == nil || v.EmptyDir.SizeLimit.IsZero() {
		t.Errorf("/tmp: want an emptyDir with a sizeLimit, have %+v", v)
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil && !mounted[v.HostPath.Path].ReadOnly {
			t.Errorf("host path %s is not mounted read-only", v.HostPath.Path)
		}
	}
	labels := m.ds.Spec.Template.Labels
	matches := func(sel map[string]string) bool {
		for k, v := range sel {
			if labels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	if !matches(m.ds.Spec.Selector.MatchLabels) || !matches(m.svc.Spec.Selector) || !matches(m.pm.Spec.Selector.MatchLabels) {
		t.Errorf("selectors do not all select the pods %v", labels)
	}
	port := ""
	for _, p := range c.Ports {
		port = p.Name
	}
	if port == "" || m.svc.Spec.Ports[0].TargetPort.StrVal != port || len(m.pm.Spec.PodMetricsEndpoints) != 1 ||
		m.pm.Spec.PodMetricsEndpoints[0].Port == nil || *m.pm.Spec.PodMetricsEndpoints[0].Port != port {
		t.Errorf("the Service and the PodMonitor do not name the container's port %q", port)
	}
}

// exported is every metric name the exporter exports.
func exported() map[string]bool {
	names := map[string]bool{}
	for _, n := range report.MetricNames() {
		names[n] = true
	}
	return names
}

// namesIn are the dlayer_ metric names an expression uses.
var metricName = regexp.MustCompile(`\bdlayer_[a-z0-9_]+`)

// TestAlertRules: the PrometheusRule's rules pass promtool check rules and
// promtool test rules (prometheus/rules_test.yaml), in which every alert
// both fires and stays silent; they name only metrics dlayer exports.
func TestAlertRules(t *testing.T) {
	promtool := tool(t, "promtool")
	m := readManifests(t)
	dir := t.TempDir()
	rules, err := yaml.Marshal(m.rule.Spec)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "dlayer-rules.yaml"), rules)
	tests, err := os.ReadFile("prometheus/rules_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "rules_test.yaml"), tests)
	run(t, dir, nil, promtool, "check", "rules", "dlayer-rules.yaml")
	out := run(t, dir, nil, promtool, "test", "rules", "rules_test.yaml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules: %s", out)
	}

	var ut struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string           `json:"alertname"`
				ExpAlerts []map[string]any `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal(tests, &ut); err != nil {
		t.Fatal(err)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range ut.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	names := exported()
	alerts := 0
	for _, g := range m.rule.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			if !fires[r.Alert] {
				t.Errorf("%s: no test in which it fires", r.Alert)
			}
			if !silent[r.Alert] {
				t.Errorf("%s: no test in which it stays silent", r.Alert)
			}
			checkNames(t, r.Alert, r.Expr.String(), names)
		}
	}
	if alerts < 6 {
		t.Errorf("%d alerts", alerts)
	}
}

// checkNames fails for a dlayer_ metric name that the exporter does not
// export, and for an expression that names none.
func checkNames(t *testing.T, where, expr string, names map[string]bool) {
	t.Helper()
	used := metricName.FindAllString(expr, -1)
	if len(used) == 0 {
		t.Errorf("%s: %q names no dlayer metric", where, expr)
	}
	for _, n := range used {
		if !names[n] {
			t.Errorf("%s: %q names %s, which dlayer does not export", where, expr, n)
		}
	}
}

// TestDashboard: every query of the Grafana dashboard parses (promtool
// check rules on a file holding each as a recording rule) and names only
// metrics dlayer exports.
func TestDashboard(t *testing.T) {
	promtool := tool(t, "promtool")
	b, err := os.ReadFile("grafana/dlayer.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil || d.UID == "" {
		t.Fatalf("grafana/dlayer.json: %v (uid %q)", err, d.UID)
	}
	names := exported()
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			n++
			// Grafana's variables, as Grafana substitutes them
			expr := strings.ReplaceAll(tg.Expr, "$instance", ".*")
			checkNames(t, p.Title, expr, names)
			q, _ := json.Marshal(expr)
			fmt.Fprintf(&rules, "      - record: dlayer:dashboard:q%d\n        expr: %s\n", n, q)
		}
	}
	if n < 8 {
		t.Fatalf("the dashboard has %d queries", n)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "dashboard-rules.yaml"), []byte(rules.String()))
	run(t, dir, nil, promtool, "check", "rules", "dashboard-rules.yaml")
}

// TestSystemdUnits: systemd-analyze verify accepts the units (with the
// man page they name installed in a temporary MANPATH), and each
// service's command line runs: on a fixture store, its paths moved into
// a temporary dir, it exits 0 and writes a textfile that promtool check
// metrics accepts.
func TestSystemdUnits(t *testing.T) {
	analyze := tool(t, "systemd-analyze")
	promtool := tool(t, "promtool")
	dir := t.TempDir()
	bin := filepath.Join(dir, "dlayer")
	run(t, "..", []string{"CGO_ENABLED=0"}, "go", "build", "-o", bin, ".")
	man := filepath.Join(dir, "man", "man1")
	if err := os.MkdirAll(man, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(man, "dlayer.1"), []byte(run(t, dir, nil, bin, "man")))
	units, err := filepath.Glob("systemd/*")
	if err != nil || len(units) != 4 {
		t.Fatalf("systemd/ holds %v: want two services and their timers", units)
	}
	var args []string
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, filepath.Base(u)), bytes.ReplaceAll(b, []byte("/usr/local/bin/dlayer"), []byte(bin)))
		args = append(args, "./"+filepath.Base(u))
	}
	run(t, dir, []string{"MANPATH=" + filepath.Join(dir, "man")}, analyze, append([]string{"verify"}, args...)...)

	root := fixtures.MustBuild(t, fixtures.Store{Images: []fixtures.Image{{Tags: []string{"unit:1"}, Layers: []fixtures.Layer{{
		CreatedBy: "/bin/sh -c echo hi > /hi", Entries: []fixtures.Entry{{Path: "/hi", Data: "hi\n"}},
	}}}}}, fixtures.Options{}).Root
	textfiles := filepath.Join(dir, "textfile")
	state := filepath.Join(dir, "state")
	for _, d := range []string{textfiles, state} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, svc := range []string{"dlayer-du.service", "dlayer-verify.service"} {
		b, err := os.ReadFile(filepath.Join("systemd", svc))
		if err != nil {
			t.Fatal(err)
		}
		var line string
		for l := range strings.Lines(string(b)) {
			if s, ok := strings.CutPrefix(l, "ExecStart="); ok {
				line = strings.TrimSpace(s)
			}
		}
		repl := strings.NewReplacer("/usr/local/bin/dlayer", bin, "/var/lib/docker", root,
			"/var/lib/node_exporter/textfile_collector", textfiles, "/var/lib/dlayer", state)
		fields := strings.Fields(repl.Replace(line))
		cmd := exec.Command(fields[0], fields[1:]...)
		out, err := cmd.CombinedOutput()
		code := cmd.ProcessState.ExitCode()
		// as non-root verify cannot see trusted.* xattrs: not a pass, exit 2
		if code != 0 && !(os.Geteuid() != 0 && svc == "dlayer-verify.service" && code == 2) {
			t.Errorf("%s: %s: %v\n%s", svc, line, err, out)
		}
	}
	proms, _ := filepath.Glob(filepath.Join(textfiles, "*.prom"))
	if len(proms) != 2 {
		t.Fatalf("the services wrote %v: want dlayer-du.prom and dlayer-verify.prom", proms)
	}
	for _, p := range proms {
		run(t, dir, nil, "sh", "-c", promtool+" check metrics < "+p)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
