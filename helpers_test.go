package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dlayer/dlayer/inspect"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Helpers of the in-process CLI tests. The end-to-end tests in e2e/ have
// their own copies of the ones they share, running the binary instead.

// runCLI runs dlayer in-process.
func runCLI(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(append([]string{"dlayer"}, args...), &o, &e)
	return o.String(), e.String(), code
}

func explainJSON(t *testing.T, root, daemon, name string) *inspect.Explanation {
	t.Helper()
	args := []string{"--root", root, "--daemon", daemon, "--format", "json", "explain", name}
	if daemon == "auto" {
		args = append([]string{"--mountinfo", "/proc/self/mountinfo"}, args...)
	}
	out, errOut, code := runCLI(args...)
	if code != 0 {
		t.Fatalf("explain %s: exit %d: %s", name, code, errOut)
	}
	var x inspect.Explanation
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatalf("explain %s: %v", name, err)
	}
	return &x
}

// verifyJSON is the part of `dlayer verify --format json` the tests read.
type verifyJSON struct {
	Drivers []string `json:"drivers"`
	Stats   struct {
		Layers       int `json:"layers"`
		LayersHashed int `json:"layers_hashed"`
		Containers   int `json:"containers"`
	} `json:"stats"`
	Findings []struct {
		Kind, Object, Path, Expected, Actual, Message string
		Affects                                       struct{ Images, Containers []string }
	} `json:"findings"`
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// writeSized writes n bytes to path, making its parents.
func writeSized(t *testing.T, path string, n int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), n), 0o644); err != nil {
		t.Fatal(err)
	}
}

func parseProm(t *testing.T, file string) map[string]*promFamily {
	f, err := os.Open(file)
	must(t, err)
	defer f.Close()
	// Legacy (pre-UTF-8) name validation: what node_exporter's textfile
	// collector has accepted all along.
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		b, _ := os.ReadFile(file)
		t.Fatalf("not Prometheus text format: %v\n%s", err, b)
	}
	out := map[string]*promFamily{}
	for name, mf := range fams {
		pf := &promFamily{}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			pf.samples = append(pf.samples, promSample{labels, m.GetGauge().GetValue()})
		}
		out[name] = pf
	}
	return out
}

type promFamily struct{ samples []promSample }

type promSample struct {
	labels map[string]string
	value  float64
}

// gaugeValue returns the value of the sample of name whose labels include
// want; -1 when there is none.
func gaugeValue(fams map[string]*promFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, s := range f.samples {
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		return s.value
	}
	return -1
}
