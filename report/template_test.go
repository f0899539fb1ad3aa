package report

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func jsonOf(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// TestTemplate: once per element of an array, of a named list of an
// object, or once over an object; strings escaped, numbers as in the
// JSON, json and join, missing fields as the docker CLI prints them.
func TestTemplate(t *testing.T) {
	const list = `[{"name":"web","state":{"status":"running"},"size":1048576,"tags":["a:1","b:2"]},
		{"name":"evil\nname","state":{"status":"exited"},"size":0,"tags":[]}]`
	for _, tc := range []struct {
		name, tmpl, list, json, want string
	}{
		{"array", "{{.name}} {{.state.status}}", "", list, "web running\nevil\\nname exited\n"},
		{"numbers", "{{.size}}", "", list, "1048576\n0\n"},
		{"join", `{{join .tags ","}}|`, "", list, "a:1,b:2|\n|\n"},
		{"json", "{{json .state}}", "", list, "{\"status\":\"running\"}\n{\"status\":\"exited\"}\n"},
		{"missing", "{{.nmae}}{{if .nope}}x{{end}}", "", list, "<no value>\n<no value>\n"},
		{"named list", "{{.position}}", "layers", `{"image":{},"layers":[{"position":1},{"position":2}]}`, "1\n2\n"},
		{"empty list", "{{.position}}", "layers", `{"layers":[]}`, ""},
		{"object", "{{.kind}}: {{.verdict.safe}}", "", `{"kind":"driver_home","verdict":{"safe":"no"}}`, "driver_home: no\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm, err := ParseTemplate(tc.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := tm.Execute(&b, tc.list, jsonOf(tc.json)); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
	if _, err := ParseTemplate("{{.name"); err == nil || !strings.Contains(err.Error(), `--format "{{.name"`) {
		t.Errorf("a template that does not parse: %v", err)
	}
	tm, _ := ParseTemplate(`{{join .name ","}}`)
	var b bytes.Buffer
	if err := tm.Execute(&b, "", jsonOf(list)); err == nil || b.Len() != 0 {
		t.Errorf("a failing template: err %v, output %q (want an error and nothing printed)", err, b.String())
	}
	if err := tm.Execute(&b, "layers", jsonOf(`{"layers":3}`)); err == nil {
		t.Error("a list field that is not a list is not an error")
	}
}
