package inspect

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseImageConfigSamples(t *testing.T) {
	for _, tc := range []struct {
		file    string
		id      string
		layers  int
		history []string // created_by (or comment) of each layer, base first
	}{
		{"image-config.json", "sha256:cb433cfcb630ce5fd5686a202ef75e84a4ee6bb9bc6bdbb7cfe4b6ccbdc95d32", 4,
			[]string{"", "/bin/sh -c mkdir -p /data/sub", "/bin/sh -c #(nop) COPY file:", "/bin/sh -c chmod 600 /data/k"}},
		{"image-config-imported.json", "sha256:8a2c3a0aa733dfd112b6c06a0a00443eee07713d31a4010f5554fccd79389694", 1, []string{""}},
	} {
		b := readSample(t, tc.file)
		if got := digest.FromBytes(b).String(); got != tc.id {
			t.Errorf("%s: sha256 %s, want the image ID %s", tc.file, got, tc.id)
		}
		c, err := ParseImageConfig(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if len(c.RootFS.DiffIDs) != tc.layers {
			t.Fatalf("%s: %d diff IDs, want %d", tc.file, len(c.RootFS.DiffIDs), tc.layers)
		}
		hist, ok := c.LayerHistory()
		if !ok {
			t.Errorf("%s: history does not match layers", tc.file)
		}
		for i, want := range tc.history {
			if !strings.HasPrefix(hist[i].CreatedBy, want) {
				t.Errorf("%s: layer %d created by %q, want prefix %q", tc.file, i+1, hist[i].CreatedBy, want)
			}
		}
	}
}

func TestLayerHistorySkipsEmptyLayers(t *testing.T) {
	c, err := ParseImageConfig(strings.NewReader(`{"rootfs":{"type":"layers","diff_ids":[
		"sha256:1111111111111111111111111111111111111111111111111111111111111111",
		"sha256:2222222222222222222222222222222222222222222222222222222222222222"]},
		"history":[{"created_by":"ADD a"},{"created_by":"ENV X=1","empty_layer":true},{"created_by":"RUN b"},{"created_by":"CMD c","empty_layer":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	h, ok := c.LayerHistory()
	if !ok || h[0].CreatedBy != "ADD a" || h[1].CreatedBy != "RUN b" {
		t.Errorf("got %+v ok=%v", h, ok)
	}
	c.History = c.History[:1]
	if _, ok := c.LayerHistory(); ok {
		t.Error("short history reported as matching")
	}
}

func TestParseMalformed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parse func(string) error
		in    string
	}{
		{"config not json", parseConfig, `{"rootfs":`},
		{"config bad diff id", parseConfig, `{"rootfs":{"diff_ids":["sha256:xyz"]}}`},
		{"config diff id without algorithm", parseConfig, `{"rootfs":{"diff_ids":["1111111111111111111111111111111111111111111111111111111111111111"]}}`},
		{"repositories not json", parseRepos, `{"Repositories":{"a":`},
		{"repositories bad id", parseRepos, `{"Repositories":{"a":{"a:1":"sha256:nothex"}}}`},
		{"container not json", parseContainer, `nope`},
		{"container short id", parseContainer, `{"ID":"abc"}`},
		{"container upper-case id", parseContainer, `{"ID":"` + strings.Repeat("A", 64) + `"}`},
		{"container bad image", parseContainer, `{"ID":"` + strings.Repeat("a", 64) + `","Image":"sha256:zz"}`},
		{"container bad time", parseContainer, `{"ID":"` + strings.Repeat("a", 64) + `","Created":"yesterday"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.parse(tc.in)
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("got %v, want ErrMalformed", err)
			}
		})
	}
}

func parseConfig(s string) error { _, err := ParseImageConfig(strings.NewReader(s)); return err }
func parseRepos(s string) error  { _, err := ParseRepositories(strings.NewReader(s)); return err }
func parseContainer(s string) error {
	_, err := ParseContainerConfig(strings.NewReader(s))
	return err
}

func TestParseRepositoriesSample(t *testing.T) {
	tags, err := ParseRepositories(strings.NewReader(string(readSample(t, "repositories.json"))))
	if err != nil {
		t.Fatal(err)
	}
	id := digest.Digest("sha256:cb433cfcb630ce5fd5686a202ef75e84a4ee6bb9bc6bdbb7cfe4b6ccbdc95d32")
	if len(tags) != 2 || len(tags[id]) != 1 || tags[id][0] != "img:1" {
		t.Errorf("got %v", tags)
	}
}

func TestParseContainerConfigSamples(t *testing.T) {
	for _, tc := range []struct {
		file, name, status string
		running            bool
		pid                int
	}{
		{"config.v2.exited.json", "c1", "exited", false, 0},
		{"config.v2.running.json", "c2", "running", true, 4057},
	} {
		c, err := ParseContainerConfig(strings.NewReader(string(readSample(t, tc.file))))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if c.Name != tc.name || c.State.Status != tc.status || c.State.Running != tc.running || c.State.Pid != tc.pid ||
			c.ImageRef != "img:1" || c.Driver != "overlay2" || c.ImageID.Encoded()[:12] != "cb433cfcb630" || c.Created.IsZero() {
			t.Errorf("%s: got %+v", tc.file, c)
		}
	}
}

func TestStatus(t *testing.T) {
	var zero, some = zeroTime(), nowTime()
	for _, tc := range []struct {
		running, paused, restarting, dead, removing bool
		started                                     bool
		want                                        string
	}{
		{want: "created"}, {started: true, want: "exited"}, {running: true, started: true, want: "running"},
		{running: true, paused: true, want: "paused"}, {running: true, restarting: true, want: "restarting"},
		{dead: true, started: true, want: "dead"}, {removing: true, want: "removing"},
	} {
		st := zero
		if tc.started {
			st = some
		}
		if got := status(tc.running, tc.paused, tc.restarting, tc.dead, tc.removing, st); got != tc.want {
			t.Errorf("%+v: got %s", tc, got)
		}
	}
}

func TestMatchContainer(t *testing.T) {
	all := []Container{
		{ID: "abc1" + strings.Repeat("0", 60), Name: "web"},
		{ID: "abc2" + strings.Repeat("0", 60), Name: "db"},
		{ID: "f00d" + strings.Repeat("0", 60), Name: "abc1"},
	}
	for _, tc := range []struct {
		ref, want string
		err       error
	}{
		{"web", "web", nil}, {"/web", "web", nil}, {all[1].ID, "db", nil}, {"abc2", "db", nil}, {"f", "abc1", nil},
		{"abc1", "abc1", nil}, // a name wins over an ID prefix
		{"abc", "", ErrAmbiguous}, {"zzz", "", ErrNotFound}, {"", "", ErrNotFound},
	} {
		c, err := matchContainer(all, tc.ref)
		if !errors.Is(err, tc.err) || (err == nil && c.Name != tc.want) {
			t.Errorf("%q: got %q, %v", tc.ref, c.Name, err)
		}
	}
	_, err := matchContainer(all, "abc")
	if err == nil || !strings.Contains(err.Error(), "abc100000000 (web)") || !strings.Contains(err.Error(), "abc200000000 (db)") {
		t.Errorf("ambiguous error does not list the candidates: %v", err)
	}
	_, err = matchContainer(all, "nope")
	if err == nil || !strings.Contains(err.Error(), "holds 3 containers") || !strings.Contains(err.Error(), "dlayer ps") {
		t.Errorf("unknown error does not say how many containers and how to list them: %v", err)
	}
}

func TestChainID(t *testing.T) {
	// From the real store: base layer and its child (layerdb names).
	base := digest.Digest("sha256:72cc342aeeecc882100e75221182f8ecb0b543e00686af0cb36d553212703852")
	diff := digest.Digest("sha256:f05fd9b0f34dce0dd02e8e32bfe3dff215a202d4528c88ac62da61da91dfe325")
	if got := ChainID("", base); got != base {
		t.Errorf("base: %s", got)
	}
	if got := ChainID(base, diff); got != "sha256:7a35fddf74c3e06619122459ed63e940aae2764ce56581e9653ffbf2725bbd48" {
		t.Errorf("child: %s", got)
	}
}

// configBombs are the shapes of hostile JSON: deep nesting, one long
// string, long white space, a huge number.
func configBombs() [][]byte {
	return [][]byte{
		[]byte(strings.Repeat("[", 2000) + strings.Repeat("]", 2000)),
		[]byte(`{"ID":"` + strings.Repeat("a", 4096) + `"}`),
		[]byte("{" + strings.Repeat(" ", 4096) + "}"),
		[]byte(`{"rootfs":{"diff_ids":[` + strings.Repeat(`"sha256:0",`, 500) + `"x"]}}`),
		[]byte(`{"State":{"Pid":1` + strings.Repeat("0", 400) + `}}`),
	}
}

func FuzzParseImageConfig(f *testing.F) {
	for _, b := range configBombs() {
		f.Add(b)
	}
	f.Add(readSample(f, "image-config.json"))
	f.Add(readSample(f, "image-config-imported.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseImageConfig(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		for _, d := range c.RootFS.DiffIDs {
			if d.Validate() != nil {
				t.Fatalf("accepted invalid diff ID %q", d)
			}
		}
		c.LayerHistory()
	})
}

func FuzzParseContainerConfig(f *testing.F) {
	for _, b := range configBombs() {
		f.Add(b)
	}
	f.Add(readSample(f, "config.v2.exited.json"))
	f.Add(readSample(f, "config.v2.running.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseContainerConfig(strings.NewReader(string(b)))
		if err == nil && !isHex64(c.ID) {
			t.Fatalf("accepted ID %q", c.ID)
		}
	})
}

func FuzzParseRepositories(f *testing.F) {
	for _, b := range configBombs() {
		f.Add(b)
	}
	f.Add(readSample(f, "repositories.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tags, _ := ParseRepositories(strings.NewReader(string(b)))
		for id := range tags {
			if id.Validate() != nil {
				t.Fatalf("invalid ID %q returned", id)
			}
		}
	})
}

func zeroTime() (t time.Time) { return }
func nowTime() time.Time      { return time.Unix(1_700_000_000, 0) }
