package e2e

import (
	"testing"
	"time"

	"github.com/dlayer/dlayer/fixtures/engine"
)

// BenchmarkContainerdVerifyVsSave times, on the same private Docker 29
// engine (containerd image store), `docker save` of an image (GET
// /images/get, the tar stream discarded: what `docker save > /dev/null`
// makes the engine do) and `dlayer verify` of the whole store (every
// content blob re-hashed, every layer blob decompressed and its tar
// reconciled with its snapshot). The image: a busybox base, a 128 MiB
// file of random bytes and 20,000 small files, in two classic RUN layers.
func BenchmarkContainerdVerifyVsSave(b *testing.B) {
	e := engine.ForTestWith(b, "", engine.Options{Kind: engine.Docker29})
	if _, err := e.ImportBusybox("cvb-base:1"); err != nil {
		b.Fatal(err)
	}
	if _, err := e.Build("cvb:1", "FROM cvb-base:1\n"+
		"RUN dd if=/dev/urandom of=/big bs=1048576 count=128 2>/dev/null\n"+
		"RUN mkdir /f && i=0; while [ $i -lt 20000 ]; do echo $i > /f/$i; i=$((i+1)); done\n", nil); err != nil {
		b.Fatal(err)
	}
	var save, ver time.Duration
	b.Run("docker-save", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if err := e.API("GET", "/images/get?names=cvb:1", nil, nil); err != nil {
				b.Fatal(err)
			}
		}
		save = time.Since(start) / time.Duration(b.N)
	})
	b.Run("dlayer-verify", func(b *testing.B) {
		var v verifyOut
		start := time.Now()
		for i := 0; i < b.N; i++ {
			var code int
			if v, code = c8vVerify(b, e.Root()); code != 0 || len(v.Findings) != 0 {
				b.Fatalf("exit %d, findings %+v", code, v.Findings)
			}
		}
		ver = time.Since(start) / time.Duration(b.N)
		b.ReportMetric(float64(v.Stats.Entries), "entries")
		b.ReportMetric(float64(v.Stats.BlobBytes)/1e6, "blobMB")
		b.ReportMetric(float64(v.Stats.BytesHashed)/1e6, "tarMB")
	})
	if save > 0 && ver > 0 {
		b.Logf("MEASURE docker save cvb:1 (GET /images/get, discarded): %v; dlayer verify (whole store): %v; verify takes %.0f%% of docker save's time",
			save.Round(time.Millisecond), ver.Round(time.Millisecond), 100*ver.Seconds()/save.Seconds())
	}
}
