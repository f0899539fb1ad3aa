package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/template"
)

// Template is a --format Go template over a command's JSON, as the docker
// CLI's --format is: it runs once per item of the listing, each item being
// that item's JSON object decoded into maps (so the fields are the JSON
// names: {{.name}} {{.state.status}}), and each run ends a line.
//
// Every string the template sees is escaped as the tables escape names
// ([Escape]): a file name with a newline in it is still one line. Numbers
// keep their JSON spelling (1048576, not 1.048576e+06). A field the item
// lacks (an optional one, or a misspelt name) prints <no value>, as with
// the docker CLI, and is false in {{if}} and {{with}}. The functions are
// text/template's, plus json (the value as compact JSON) and join (a list
// joined by a separator: {{join .tags ","}}).
type Template struct {
	src string
	t   *template.Template
}

// ParseTemplate parses a --format template. The error quotes it.
func ParseTemplate(src string) (*Template, error) {
	t, err := template.New("--format").Funcs(template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"join": func(v any, sep string) (string, error) {
			list, ok := v.([]any)
			if !ok && v != nil {
				return "", fmt.Errorf("join: %T is not a list", v)
			}
			parts := make([]string, len(list))
			for i, e := range list {
				parts[i] = fmt.Sprint(e)
			}
			return strings.Join(parts, sep), nil
		},
	}).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("--format %q: %w", src, err)
	}
	return &Template{src: src, t: t}, nil
}

// String is the template's text.
func (t *Template) String() string { return t.src }

// Execute runs the template over what writeJSON writes: once per element
// when that is a JSON array; once per element of its field list when it
// is an object and list is not ""; once over the whole object otherwise.
func (t *Template) Execute(w io.Writer, list string, writeJSON func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := writeJSON(&buf); err != nil {
		return err
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("--format: decoding the JSON: %w", err)
	}
	items := []any{v}
	switch x := v.(type) {
	case []any:
		items = x
	case map[string]any:
		if list != "" {
			l, ok := x[list].([]any)
			if !ok && x[list] != nil {
				return fmt.Errorf("--format: the JSON's %q is not a list", list)
			}
			items = l
		}
	}
	var out bytes.Buffer
	for _, it := range items {
		if err := t.t.Execute(&out, escapeStrings(it)); err != nil {
			return fmt.Errorf("--format %q: %w", t.src, err)
		}
		out.WriteByte('\n')
	}
	_, err := w.Write(out.Bytes())
	return err
}

// escapeStrings is v with every string in it (not the keys, which are the
// JSON's own field names) passed through Escape.
func escapeStrings(v any) any {
	switch x := v.(type) {
	case string:
		return Escape(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = escapeStrings(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = escapeStrings(e)
		}
		return out
	}
	return v
}
