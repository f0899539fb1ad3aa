package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"
)

var updateSchemas = flag.Bool("update-schemas", false, "rewrite docs/schema/*.schema.json from the documents' Go types")

// schemaDir is docs/schema, from this package's directory.
const schemaDir = "../docs/schema"

// documentTypes is the Go type of each document kind.
func documentTypes() map[Schema]any {
	return map[Schema]any{
		SchemaPS: PSDocument{}, SchemaImages: ImagesDocument{}, SchemaLayers: LayersDocument{},
		SchemaExplain: ExplainDocument{}, SchemaDiff: DiffDocument{}, SchemaDU: DUDocument{},
		SchemaVerify: VerifyDocument{}, SchemaVerifyFindings: VerifyFindingsDocument{},
		SchemaMounts: MountsDocument{}, SchemaWhose: WhoseDocument{}, SchemaAnatomy: AnatomyDocument{}, SchemaCompare: CompareDocument{}, SchemaExport: ExportDocument{},
	}
}

// generateSchema is the JSON Schema of the document kind s, from its Go
// type: every field the JSON always has is required, no other key is
// allowed, a pointer without omitempty may be null, and each field's Go
// doc comment is its description. comments are the module's Go comments
// (jsonschema.Reflector.AddGoComments).
func generateSchema(s Schema, v any, comments map[string]string) ([]byte, error) {
	r := &jsonschema.Reflector{
		ExpandedStruct: true,
		CommentMap:     comments,
		// Qualified names: verify.Finding and inspect.Finding differ.
		Namer: func(t reflect.Type) string {
			if t.Name() == "" {
				return ""
			}
			return path.Base(t.PkgPath()) + "." + t.Name()
		},
	}
	sch := r.Reflect(v)
	sch.ID = jsonschema.ID("https://github.com/dlayer/dlayer/docs/schema/" + string(s) + ".schema.json")
	sch.Title = "dlayer " + string(s) + " document, version " + fmt.Sprint(s.Version())
	sch.Properties.Set("schema", &jsonschema.Schema{Type: "string", Const: string(s),
		Description: "The document's kind: its JSON Schema is docs/schema/" + string(s) + ".schema.json."})
	sch.Properties.Set("schema_version", &jsonschema.Schema{Type: "integer", Const: s.Version(),
		Description: "The version of that schema the document follows: it goes up whenever a field disappears, is renamed, or changes its type or meaning."})
	nullablePointers(reflect.TypeOf(v), sch, sch.Definitions, r.Namer)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	err := enc.Encode(sch)
	return b.Bytes(), err
}

// nullablePointers lets every pointer field without omitempty of the
// struct types reachable from t be null, as encoding/json writes a nil
// one: sch is t's schema, defs the definitions by name.
func nullablePointers(t reflect.Type, sch *jsonschema.Schema, defs jsonschema.Definitions, name func(reflect.Type) string) {
	seen := map[reflect.Type]bool{}
	var visit func(t reflect.Type, sch *jsonschema.Schema)
	var fields func(t reflect.Type, sch *jsonschema.Schema)
	fields = func(t reflect.Type, sch *jsonschema.Schema) {
		for f := range t.Fields() {
			tag := strings.Split(f.Tag.Get("json"), ",")
			if tag[0] == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			ft := f.Type
			if f.Anonymous && tag[0] == "" && (ft.Kind() == reflect.Struct || ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct) {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				fields(ft, sch)
				continue
			}
			key := f.Name
			if tag[0] != "" {
				key = tag[0]
			}
			if p, ok := sch.Properties.Get(key); ok && ft.Kind() == reflect.Pointer && !slices.Contains(tag[1:], "omitempty") {
				sch.Properties.Set(key, &jsonschema.Schema{OneOf: []*jsonschema.Schema{p, {Type: "null"}}, Description: p.Description})
			}
			visit(ft, nil)
		}
	}
	visit = func(t reflect.Type, sch *jsonschema.Schema) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		if sch == nil {
			sch = defs[name(t)]
		}
		if sch == nil || sch.Properties == nil {
			return
		}
		fields(t, sch)
	}
	visit(t, sch)
}

// schemaShape is a schema reduced to its fields: one line per key path
// with its JSON type and whether it is required ("layers[].size integer
// required"), references resolved.
func schemaShape(doc []byte) ([]string, error) {
	var root map[string]any
	if err := json.Unmarshal(doc, &root); err != nil {
		return nil, err
	}
	defs, _ := root["$defs"].(map[string]any)
	var lines []string
	var walk func(p string, s map[string]any, stack []string, required bool)
	walk = func(p string, s map[string]any, stack []string, required bool) {
		if ref, ok := s["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/$defs/")
			if slices.Contains(stack, name) {
				lines = append(lines, p+" recursive "+name)
				return
			}
			d, _ := defs[name].(map[string]any)
			walk(p, d, append(stack, name), required)
			return
		}
		if alts, ok := s["oneOf"].([]any); ok {
			for _, a := range alts {
				if m, ok := a.(map[string]any); ok {
					walk(p, m, stack, required)
				}
			}
			return
		}
		typ, _ := s["type"].(string)
		if typ == "" {
			typ = "any"
		}
		req := ""
		if required {
			req = " required"
		}
		lines = append(lines, strings.TrimSpace(p+" "+typ+req))
		switch typ {
		case "object":
			need, _ := s["required"].([]any)
			props, _ := s["properties"].(map[string]any)
			for k, v := range props {
				m, _ := v.(map[string]any)
				walk(strings.TrimPrefix(p+"."+k, "."), m, stack, slices.Contains(need, any(k)))
			}
			if extra, ok := s["additionalProperties"].(map[string]any); ok {
				walk(p+".{}", extra, stack, false)
			}
		case "array":
			if items, ok := s["items"].(map[string]any); ok {
				walk(p+"[]", items, stack, false)
			}
		}
	}
	walk("", root, nil, true)
	slices.Sort(lines)
	return slices.Compact(lines), nil
}

// docs/schema/<kind>.schema.json is what the document types generate. A
// field may be added at any time (regenerate with go test -run
// TestSchemas -update-schemas ./report); a field that disappears, stops
// being required or changes type needs the schema's Version bumped first,
// and this test refuses to rewrite the file without it.
func TestSchemas(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir("..") // AddGoComments names packages by their path from the module root
	comments := &jsonschema.Reflector{}
	if err := comments.AddGoComments("github.com/dlayer/dlayer", "./"); err != nil {
		t.Fatal(err)
	}
	t.Chdir(wd)
	for k, c := range comments.CommentMap {
		comments.CommentMap[k] = strings.Join(strings.Fields(c), " ")
	}
	types := documentTypes()
	if len(types) != len(Schemas()) {
		t.Fatalf("documentTypes has %d kinds, Schemas() %d", len(types), len(Schemas()))
	}
	for _, s := range Schemas() {
		t.Run(string(s), func(t *testing.T) {
			v, ok := types[s]
			if !ok {
				t.Fatalf("no Go type for %s in documentTypes", s)
			}
			got, err := generateSchema(s, v, comments.CommentMap)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(schemaDir, string(s)+".schema.json")
			old, err := os.ReadFile(file)
			if err != nil && !(os.IsNotExist(err) && *updateSchemas) {
				t.Fatalf("%v (go test -run TestSchemas -update-schemas ./report makes it)", err)
			}
			if bytes.Equal(got, old) {
				return
			}
			if old != nil {
				if lost := lostFields(t, old, got); len(lost) > 0 {
					t.Fatalf("%s: fields gone, no longer required or retyped at version %d (bump Schema.Version for %s, and say why in docs/schema/README.md):\n%s",
						file, s.Version(), s, strings.Join(lost, "\n"))
				}
			}
			if !*updateSchemas {
				t.Fatalf("%s is not what the Go types generate: go test -run TestSchemas -update-schemas ./report", file)
			}
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// lostFields are the lines of old's shape that new lacks, when both are
// of one version; none when new's version is another.
func lostFields(t *testing.T, old, new []byte) []string {
	t.Helper()
	version := func(doc []byte) any {
		var v struct {
			Properties struct {
				SchemaVersion struct {
					Const any `json:"const"`
				} `json:"schema_version"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(doc, &v); err != nil {
			t.Fatal(err)
		}
		return v.Properties.SchemaVersion.Const
	}
	if fmt.Sprint(version(old)) != fmt.Sprint(version(new)) {
		return nil
	}
	was, err1 := schemaShape(old)
	now, err2 := schemaShape(new)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	var lost []string
	for _, l := range was {
		if !slices.Contains(now, l) && !slices.Contains(now, strings.TrimSuffix(l, " required")+" required") {
			lost = append(lost, "  "+l)
		}
	}
	return lost
}

func TestSchemaShape(t *testing.T) {
	doc := `{"$defs":{"a.T":{"type":"object","properties":{"n":{"type":"integer"},"self":{"$ref":"#/$defs/a.T"}},"required":["n"]}},
	  "type":"object","properties":{"t":{"$ref":"#/$defs/a.T"},"l":{"type":"array","items":{"type":"string"}},
	  "p":{"oneOf":[{"$ref":"#/$defs/a.T"},{"type":"null"}]}},"required":["t"]}`
	got, err := schemaShape([]byte(doc))
	want := []string{"l array", "l[] string", "object required", "p null", "p object", "p.n integer required",
		"p.self recursive a.T", "t object required", "t.n integer required", "t.self recursive a.T"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("schemaShape = %q, %v\nwant %q", got, err, want)
	}
}
