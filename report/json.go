package report

import (
	"encoding/json"
	"io"
)

// JSON writes v as indented JSON with no HTML escaping (so `&&` in a
// Dockerfile instruction stays readable).
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
