package e2e

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc64"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/verify"
)

// The verify floor's store: issue 16's image shape at a tenth of its file
// count, so that it builds in seconds without an engine: layers of small
// files in dirs of 1,000 and an 8 MiB random blob each.
const (
	vfloorLayers = 20
	vfloorFiles  = 5_000
	vfloorBlob   = 8 << 20
)

// vfloorStore builds the store (in the benchmark's temp dir) and lists
// every regular file of its layer dirs with the bytes they hold.
func vfloorStore(b *testing.B) (root string, files []string, bytes int64) {
	b.Helper()
	r := rand.New(rand.NewPCG(16, 3))
	var ls []fixtures.Layer
	for l := range vfloorLayers {
		es := make([]fixtures.Entry, 0, vfloorFiles+1)
		for f := range vfloorFiles {
			es = append(es, fixtures.Entry{Path: fmt.Sprintf("/l%d/d%d/f%d", l, f/1000, f), Data: fmt.Sprintf("%d %d\n", l, f)})
		}
		blob := make([]byte, vfloorBlob)
		for i := range blob {
			blob[i] = byte(r.Uint32())
		}
		es = append(es, fixtures.Entry{Path: fmt.Sprintf("/l%d/blob", l), Data: string(blob)})
		ls = append(ls, fixtures.Layer{CreatedBy: fmt.Sprintf("/bin/sh -c make %d", l), Entries: es})
	}
	built := fixtures.MustBuild(b, fixtures.Store{Images: []fixtures.Image{{Tags: []string{"vfloor:1"}, Layers: ls}}}, fixtures.Options{})
	var dirs []string
	for _, l := range built.Images[0].Layers {
		dirs = append(dirs, filepath.Join(built.Root, "overlay2", l.CacheID, "diff"))
	}
	files, bytes, err := regularFiles(dirs)
	if err != nil {
		b.Fatal(err)
	}
	return built.Root, files, bytes
}

// regularFiles lists the regular files under dirs, in walk order, and the
// bytes they hold: the list a read floor is given.
func regularFiles(dirs []string) (files []string, bytes int64, err error) {
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			files, bytes = append(files, p), bytes+fi.Size()
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	return files, bytes, nil
}

// timedFloor is a tool's run of readFloor over files, checked to read
// all of their bytes.
func timedFloor(files []string, bytes int64, readers int, sum bool) func() (time.Duration, error) {
	return func() (time.Duration, error) {
		start := time.Now()
		n, err := readFloor(files, readers, sum)
		w := time.Since(start)
		if err == nil && n != bytes {
			err = fmt.Errorf("the floor read %d bytes of %d", n, bytes)
		}
		return w, err
	}
}

// readFloor is the floor of a content verify: a plain parallel
// open+read+close of every regular file of the layers, with as many
// readers as verify's default pool and the list of files given (verify
// takes it from tar-split, without a walk). It returns the bytes read.
// With sum set, each reader also passes the bytes it reads through
// SHA-256 and tar-split's CRC-64, the two sums verify cannot do without
// (the DiffID is a SHA-256 of the stream; Docker's reassembly checks each
// file's CRC-64): the floor of the work, not only of the reads.
func readFloor(files []string, readers int, sum bool) (int64, error) {
	var next, total atomic.Int64
	var sink atomic.Uint64 // the sums, kept so that no compiler drops them
	var wg sync.WaitGroup
	errs := make([]error, readers)
	for w := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			h := sha256.New()
			var crc uint64
			defer func() { sink.Add(crc ^ uint64(h.Sum(nil)[0])) }()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(files)) {
					return
				}
				fd, err := unix.Open(files[i], unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				if err != nil {
					errs[w] = fmt.Errorf("%s: %w", files[i], err)
					return
				}
				for {
					n, err := unix.Read(fd, buf)
					if err == unix.EINTR {
						continue
					}
					if err != nil {
						errs[w] = fmt.Errorf("%s: %w", files[i], err)
						break
					}
					if n == 0 {
						break
					}
					total.Add(int64(n))
					if sum {
						h.Write(buf[:n])
						crc = crc64.Update(crc, floorCRC, buf[:n])
					}
				}
				unix.Close(fd)
				if errs[w] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return total.Load(), errors.Join(errs...)
}

// floorCRC is tar-split's CRC-64 table (ISO polynomial).
var floorCRC = crc64.MakeTable(crc64.ISO)

// BenchmarkVerifyVsFloor times, interleaved in one run, a full content
// verify of a generated store (20 layers of 5,000 small files and an
// 8 MiB blob; in-process, its default jobs and readers) and the floor
// beside it: the bare parallel read of the same files (readFloor), and
// that read with the SHA-256 and CRC-64 of every byte, the sums a verify
// cannot skip: when they alone cost more than the target allows, the
// target is out of reach whatever verify does. Warm:
// $DLAYER_BENCH_RUNS rounds (default 10) after a warm-up; cold (root
// only): half as many, the page cache, dentries and inodes dropped before
// each command. Medians; the target is verify ≤ 1.3× the floor warm.
// Correctness in the same runs: verify finds nothing and reconciles every
// entry, the floor reads every byte.
func BenchmarkVerifyVsFloor(b *testing.B) {
	root, files, bytes := vfloorStore(b)
	readers := verify.DefaultReaders()
	s, err := inspect.Open(root, fixtures.Backends(), "")
	if err != nil {
		b.Fatal(err)
	}
	var entries int64
	ts := []tool{
		{"floor (parallel read)", timedFloor(files, bytes, readers, false)},
		{"floor + sums (parallel read, SHA-256 and CRC-64)", timedFloor(files, bytes, readers, true)},
		{"dlayer verify", func() (time.Duration, error) {
			start := time.Now()
			r, err := verify.Run(context.Background(), s, verify.Options{})
			w := time.Since(start)
			if err == nil && len(r.Findings) != 0 {
				err = fmt.Errorf("a clean store has findings: %+v", r.Findings[0])
			}
			if err == nil && r.Stats.LayersHashed != vfloorLayers {
				err = fmt.Errorf("verify hashed %d layers of %d", r.Stats.LayersHashed, vfloorLayers)
			}
			if err == nil {
				entries = r.Stats.Entries
			}
			return w, err
		}},
	}
	for _, tl := range ts { // warm-up, and the correctness check once before timing
		if _, err := tl.run(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("store: %d layers, %d regular files, %d bytes; verify reconciles %d entries; %d readers", vfloorLayers, len(files), bytes, entries, readers)
	rounds := benchRuns(b)
	b.ResetTimer()
	report := func(what string, times map[string][]time.Duration, target float64) {
		floor, sums, ver := median(times[ts[0].name]), median(times[ts[1].name]), median(times[ts[2].name])
		ratio := ver.Seconds() / floor.Seconds()
		b.ReportMetric(floor.Seconds(), what+"-floor-sec")
		b.ReportMetric(sums.Seconds(), what+"-sums-sec")
		b.ReportMetric(ver.Seconds(), what+"-verify-sec")
		b.ReportMetric(ratio, what+"-verify/floor")
		b.ReportMetric(sums.Seconds()/floor.Seconds(), what+"-sums/floor")
		b.ReportMetric(ver.Seconds()/sums.Seconds(), what+"-verify/sums")
		goal := "no target of its own"
		if target > 0 {
			goal = fmt.Sprintf("target <= %.1f", target)
			if sums.Seconds()/floor.Seconds() > target {
				goal += fmt.Sprintf("; ruled out by the sums alone, %.2fx the floor", sums.Seconds()/floor.Seconds())
			}
		}
		b.Logf("%s, median of %d: floor %v (%.0f MB/s), floor + sums %v, dlayer verify %v: %.2fx the floor (%s), %.2fx the floor + sums",
			what, len(times[ts[0].name]), floor.Round(time.Millisecond), float64(bytes)/floor.Seconds()/1e6, sums.Round(time.Millisecond),
			ver.Round(time.Millisecond), ratio, goal, ver.Seconds()/sums.Seconds())
	}
	report("warm", interleave(b, ts, rounds, false), 1.3)
	if os.Geteuid() == 0 {
		report("cold", interleave(b, ts, max(5, rounds/2), true), 0)
	} else {
		b.Log("cold: left out, dropping the page cache needs root")
	}
}
