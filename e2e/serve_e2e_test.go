package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/fixtures/clitest"
	"github.com/dlayer/dlayer/fixtures/engine"
	"github.com/dlayer/dlayer/inspect/du"
)

// serveRate is TestServeE2E's --read-rate, in bytes a second.
const serveRate = 1 << 20

// TestServeE2E runs `dlayer serve` (the binary) on a real engine's store
// and checks, on its live /metrics: that it parses (expfmt) and that
// `promtool check metrics` accepts it; that the du series equal what
// `dlayer du --format json` says of the same store, owner by owner, and
// the per-image series the images' sizes; that the verify series say the
// clean store has no findings after the full verify re-hashed every
// layer; that /api/v1/du and /api/v1/verify serve the scans' documents;
// and that SIGTERM stops it cleanly (exit 0). On the same store: a scrape
// while the full verify runs (held to --read-rate 1MiB, it takes
// seconds) answers with the results so far and says the verify is
// running; and the budget holds: the verify took at least the time its
// bytes need at that rate, less the limiter's first burst.
func TestServeE2E(t *testing.T) {
	promtool := engine.NeedTool(t, "promtool")
	e := engine.ForTest(t, "")
	if _, err := e.ImportBusybox("serve-base:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build("serve-app:1", "FROM serve-base:1\nRUN mkdir /data && dd if=/dev/zero of=/data/z bs=1k count=6144 2>/dev/null\n", nil); err != nil {
		t.Fatal(err)
	}
	mustDocker(t, e, "run", "--network", "none", "--name", "serve-stopped", "serve-app:1", "sh", "-c", "echo hi > /hi")
	root := e.Root()

	s := startServe(t, "--root", root, "--daemon", "off", "serve", "--interval", "1h", "--verify-interval", "1h", "--settle", "0s", "--read-rate", "1MiB")
	cmd, exited, stderr := s.cmd, s.exited, s.stderr
	base := "http://" + s.addr
	get := func(path string) (int, []byte) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	// the full verify is the last scan of the first round: scrape while it
	// runs, then wait for it
	deadline := time.Now().Add(2 * time.Minute)
	during := false
	for {
		if code, _ := get("/api/v1/verify"); code == 200 {
			break
		}
		if code, b := get("/metrics"); code == 200 && !during {
			f := clitest.ParsePromText(t, b)
			if clitest.GaugeValue(f, "dlayer_scan_running", map[string]string{"scan": "verify"}) == 1 {
				during = true
				if clitest.GaugeValue(f, "dlayer_du_total_disk_usage_bytes", nil) <= 0 || clitest.GaugeValue(f, "dlayer_verify_findings", map[string]string{"scan": "verify"}) != -1 {
					t.Errorf("a scrape during the full verify: want du's results and no verify result yet")
				}
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("dlayer serve exited: %v: %s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verify result after 2 minutes: %s", stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	code, body := get("/metrics")
	if code != 200 {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	fams := clitest.ParsePromText(t, body)
	if !during {
		t.Error("no scrape saw the full verify running: --read-rate did not make it last")
	}
	hashed := clitest.GaugeValue(fams, "dlayer_verify_hashed_bytes", map[string]string{"scan": "verify"})
	took := clitest.GaugeValue(fams, "dlayer_scan_duration_seconds", map[string]string{"scan": "verify"})
	// the limiter's first burst (1 MiB) is free; every byte after it waits
	if least := (hashed - (1 << 20)) / serveRate; hashed < 6<<20 || took < 0.9*least {
		t.Errorf("the full verify hashed %.0f bytes in %.2f s: at --read-rate 1MiB it needs at least %.2f s", hashed, took, least)
	}
	t.Logf("the full verify at --read-rate 1MiB: %.0f bytes in %.2f s (%.2f MiB/s)", hashed, took, hashed/took/(1<<20))
	lint := exec.Command(promtool, "check", "metrics")
	lint.Stdin = bytes.NewReader(body)
	if out, err := lint.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	want := duJSON(t, root) // the store has not changed since serve's du
	var served struct {
		Schema string `json:"schema"`
		du.Report
	}
	if code, b := get("/api/v1/du"); code != 200 || json.Unmarshal(b, &served) != nil || served.Schema != "du" {
		t.Fatalf("GET /api/v1/du: %d %.200s", code, b)
	}
	for _, g := range []struct {
		owner string
		want  du.Group
	}{{"images", want.Summary.Images}, {"containers", want.Summary.Containers}, {"orphans", want.Summary.Orphans},
		{"build_cache", want.Summary.BuildCache}, {"bookkeeping", want.Summary.Bookkeeping}, {"other", want.Summary.Other}} {
		lb := map[string]string{"driver": want.Driver, "owner": g.owner}
		for name, v := range map[string]int64{"dlayer_du_size_bytes": g.want.Size, "dlayer_du_disk_usage_bytes": g.want.DiskUsage,
			"dlayer_du_reclaimable_size_bytes": g.want.Reclaimable.Size, "dlayer_du_owners": int64(g.want.Count)} {
			if got := clitest.GaugeValue(fams, name, lb); got != float64(v) {
				t.Errorf("%s%v = %v; dlayer du --format json says %d", name, lb, got, v)
			}
		}
	}
	if got := clitest.GaugeValue(fams, "dlayer_du_total_disk_usage_bytes", map[string]string{"driver": want.Driver}); got != float64(want.Summary.Total.DiskUsage) {
		t.Errorf("dlayer_du_total_disk_usage_bytes %v, du says %d", got, want.Summary.Total.DiskUsage)
	}
	for _, im := range want.Images {
		if len(im.Tags) == 0 || im.Tags[0] != "serve-app:1" {
			continue
		}
		lb := map[string]string{"image": "serve-app:1", "share": "unique"}
		if got := clitest.GaugeValue(fams, "dlayer_du_image_size_bytes", lb); got != float64(im.UniqueSize) {
			t.Errorf("dlayer_du_image_size_bytes%v = %v, du says %d", lb, got, im.UniqueSize)
		}
	}
	for _, scan := range []string{"du", "verify_quick", "verify"} {
		if got := clitest.GaugeValue(fams, "dlayer_scan_success", map[string]string{"scan": scan}); got != 1 {
			t.Errorf("dlayer_scan_success{scan=%q} = %v: %s", scan, got, stderr.String())
		}
	}
	if got := clitest.GaugeValue(fams, "dlayer_verify_layers_hashed", map[string]string{"scan": "verify"}); got < 2 {
		t.Errorf("the full verify hashed %v layers", got)
	}
	if fams["dlayer_verify_findings"] == nil {
		t.Fatal("no dlayer_verify_findings in the scrape")
	}
	var findings float64
	for _, m := range fams["dlayer_verify_findings"].Samples {
		findings += m.Value
	}
	if findings != 0 {
		t.Errorf("a clean store: %v verify findings", findings)
	}
	if code, b := get("/healthz"); code != 200 || !strings.HasPrefix(string(b), "ok\n") {
		t.Errorf("GET /healthz: %d %q", code, b)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v (want exit 0): %s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("dlayer serve did not stop on SIGTERM: %s", stderr.String())
	}
}

// TestServeWebConfig: --web.config.file is the exporter toolkit's web
// config, as node_exporter's: with basic auth set, /metrics answers 401
// without the password and 200 with it; a config that does not parse
// stops serve at the start (exit 2, naming the file).
func TestServeWebConfig(t *testing.T) {
	root := fixtures.MustBuild(t, fixtures.Store{}, fixtures.Options{}).Root
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(cfg, []byte("basic_auth_users:\n  prom: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, "--root", root, "--daemon", "off", "--mountinfo", "none", "serve", "--web.config.file", cfg)
	addr, stderr := s.addr, s.stderr
	get := func(user, pass string) int {
		req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(30 * time.Second)
	for get("prom", "s3cret") != 200 {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer: %s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code := get("", ""); code != http.StatusUnauthorized {
		t.Errorf("without credentials: %d, want 401", code)
	}
	if code := get("prom", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("with a wrong password: %d, want 401", code)
	}

	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("tls_server_config: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(dlayerBin, "--root", root, "--daemon", "off", "--mountinfo", "none", "serve", "--listen", "127.0.0.1:0", "--web.config.file", bad).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "bad.yml") {
		t.Errorf("a web config that does not parse: %v\n%s", err, out)
	}
}

// served is a dlayer serve process a test started.
type served struct {
	addr   string
	cmd    *exec.Cmd
	exited chan error
	stderr *bytes.Buffer
}

// startServe starts the dlayer binary with args and --listen on a free
// port of 127.0.0.1; the test's end kills it if it still runs. exited
// gets Wait's error once.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &served{addr: l.Addr().String(), exited: make(chan error, 1), stderr: &bytes.Buffer{}}
	l.Close()
	s.cmd = exec.Command(dlayerBin, append(args, "--listen", s.addr)...)
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.exited <- s.cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			s.cmd.Process.Kill()
			<-done
		}
	})
	return s
}
