package verify

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dlayer/dlayer/fixtures"
	"github.com/vbatts/tar-split/tar/storage"
)

// decodeBoth decodes data with tsDecoder and with encoding/json (what
// storage.NewJSONUnpacker uses) and fails when they differ.
func decodeBoth(t *testing.T, data []byte) int {
	t.Helper()
	fast := newTSDecoder(bytes.NewReader(data))
	slow := json.NewDecoder(bytes.NewReader(data))
	for n := 0; ; n++ {
		var a, b storage.Entry
		ea, eb := fast.Next(&a), slow.Decode(&b)
		if (ea == nil) != (eb == nil) || (errors.Is(ea, io.EOF) != errors.Is(eb, io.EOF)) {
			t.Fatalf("entry %d: fast %v, encoding/json %v\n%q", n, ea, eb, data)
		}
		if ea != nil {
			return n
		}
		if a.Payload == nil && b.Payload != nil && len(b.Payload) == 0 || b.Payload == nil && a.Payload != nil && len(a.Payload) == 0 {
			a.Payload, b.Payload = nil, nil
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("entry %d: fast %+v, encoding/json %+v", n, a, b)
		}
	}
}

var tsSeeds = []string{
	"{\"type\":2,\"payload\":\"AAAA\",\"position\":0}\n{\"type\":1,\"name\":\"bin/sh\",\"size\":5,\"payload\":\"AAAAAAAAAAA=\",\"position\":1}\n",
	"{\"type\":1,\"name\":\"a\\u0026b\",\"payload\":null,\"position\":1}\n",
	"{\"type\":1,\"name_raw\":\"/w==\",\"payload\":null,\"position\":1}\n",
	"{\"type\":1,\"name\":\"x\",\"payload\":null,\"position\":1,\"extra\":3}\n",
	"{\"position\":1,\"type\":1,\"name\":\"x\",\"payload\":null}\n",
	"{\"type\":1, \"name\":\"x\",\"payload\":null,\"position\":1}\n{\"type\":2,\"payload\":\"AA==\",\"position\":2}",
	"{\"type\":1,\"name\":\"x\",\"size\":01,\"payload\":null,\"position\":1}\n",
	"{\"type\":1,\"name\":\"x\",\"size\":1e3,\"payload\":null,\"position\":1}\n",
	"{\"type\":2,\"payload\":\"A\",\"position\":2}\n",
	"{\"type\":2,\"payload\":\"\",\"position\":2}\n",
	"{\"type\":2,\n\"payload\":\"AA==\",\"position\":2}\n",
	"{\"type\":2,\"payload\":\"AA==\",\"position\":2}{\"type\":2,\"payload\":\"AA==\",\"position\":3}\n",
	"\n\n{\"type\":2,\"payload\":\"AA==\",\"position\":2}\n\n",
	"{\"type\":1,\"name\":\"\xff\",\"payload\":null,\"position\":1}\n",
	"{\"type\":2,\"payload\":\"AA==\",\"position\":2",
	"",
}

func TestTSDecoderMatchesEncodingJSON(t *testing.T) {
	for _, s := range tsSeeds {
		decodeBoth(t, []byte(s))
	}
	b := fixtures.MustBuild(t, fixtures.Demo(), fixtures.Options{})
	files, _ := filepath.Glob(filepath.Join(b.Root, "image/overlay2/layerdb/sha256/*/tar-split.json.gz"))
	for _, f := range files {
		data := gunzipFile(t, f)
		if n := decodeBoth(t, data); n == 0 {
			t.Errorf("%s: no entries", f)
		}
		// every entry of a real file takes the fast path
		d := newTSDecoder(bytes.NewReader(data))
		var e storage.Entry
		for d.Next(&e) == nil {
		}
		if d.slow != nil {
			t.Errorf("%s: fell back to encoding/json", f)
		}
	}
}

// gunzipFile returns the JSON lines of a tar-split.json.gz.
func gunzipFile(t testing.TB, p string) []byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzTSDecoder(f *testing.F) {
	for _, s := range tsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { decodeBoth(t, data) })
}
