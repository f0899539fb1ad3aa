package inspect

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestMatchImage(t *testing.T) {
	id := func(prefix string) digest.Digest {
		return digest.NewDigestFromEncoded(digest.SHA256, prefix+strings.Repeat("0", 64-len(prefix)))
	}
	app, app2, beef, lib := id("abc1"), id("abc2"), id("beef"), id("cafe")
	ids := []digest.Digest{app, app2, beef, lib}
	tags := map[digest.Digest][]string{
		app:  {"app:1", "app@sha256:" + strings.Repeat("d", 64)},
		app2: {"registry.local:5000/team/app:2"},
		beef: {"abc1:latest"}, // a name that is also a prefix of app's ID
		lib:  {"busybox:latest"},
	}
	for _, tc := range []struct {
		ref  string
		want digest.Digest
		err  error
	}{
		{app.String(), app, nil},
		{app.Encoded(), app, nil},
		{"app:1", app, nil},
		{"app@sha256:" + strings.Repeat("d", 64), app, nil},
		{"docker.io/app:1", app, nil},
		{"registry.local:5000/team/app:2", app2, nil},
		{"busybox", lib, nil}, // :latest implied
		{"library/busybox", lib, nil},
		{"docker.io/library/busybox:latest", lib, nil},
		{"abc2", app2, nil},
		{"sha256:abc2", app2, nil},
		{"abc1", beef, nil}, // a reference wins over an ID prefix, as in the engine
		{"be", beef, nil},
		{"abc", "", ErrAmbiguous},
		{"app:2", "", ErrNotFound},
		{"registry.local:5000/team/app", "", ErrNotFound}, // means :latest; the port is not a tag
		{id("dead").Encoded(), "", ErrNotFound},
		{"", "", ErrNotFound},
		{"ABC1", "", ErrNotFound}, // IDs are lower-case hex
	} {
		got, err := matchImage(ids, tags, tc.ref)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("%q: got %s, %v; want %s, %v", tc.ref, got, err, tc.want, tc.err)
		}
	}
	_, err := matchImage(ids, tags, "abc")
	if err == nil || !strings.Contains(err.Error(), "abc100000000 (app:1, app@sha256:") || !strings.Contains(err.Error(), "abc200000000 (registry.local:5000/team/app:2)") {
		t.Errorf("ambiguous error does not list the candidates: %v", err)
	}
	_, err = matchImage(ids, tags, "nope:1")
	if err == nil || !strings.Contains(err.Error(), "holds 4 images") || !strings.Contains(err.Error(), "dlayer images") {
		t.Errorf("unknown error does not say how many images and how to list them: %v", err)
	}
}

func TestFindImageDemo(t *testing.T) {
	s, b := demoStore(t)
	base, app := b.Image("demo/base:1"), b.Image("demo/app:2")
	for ref, want := range map[string]digest.Digest{
		"demo/base":                   base.ID, // demo/base:latest
		"demo/base:1":                 base.ID,
		"demo/app:2":                  app.ID,
		app.ID.Encoded()[:5]:          app.ID,
		"sha256:" + base.ID.Encoded(): base.ID,
	} {
		img, err := s.FindImage(ref)
		if err != nil || img.ID != want {
			t.Errorf("%q: %v, %v", ref, img, err)
			continue
		}
		if img.Path == "" || len(img.Config.RootFS.DiffIDs) == 0 || len(img.Tags) == 0 {
			t.Errorf("%q: image not read: %+v", ref, img)
		}
	}
	if _, err := s.FindImage("demo/app"); !errors.Is(err, ErrNotFound) {
		t.Errorf("demo/app (no :latest tag): %v", err)
	}
}
