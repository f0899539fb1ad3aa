package report

import (
	"io"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/export"
)

// ExportManifest is what dlayer export's manifest says: the container,
// the tar, and each entry.
type ExportManifest struct {
	Container inspect.Container
	// Tar is the layer tar's path.
	Tar    string
	Result *export.Result
}

// ExportDoc is the manifest's JSON.
type ExportDoc struct {
	Container ExportContainer `json:"container"`
	// Tar is the layer tar: its path as written, length and sha256.
	Tar ExportTar `json:"tar"`
	// Entries are the tar's entries, in its order: one per docker diff
	// line.
	Entries  []export.Entry    `json:"entries"`
	Findings []inspect.Finding `json:"findings"`
}

// ExportContainer names the container exported.
type ExportContainer struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Image   string `json:"image"`
	ImageID string `json:"image_id"`
}

// ExportTar is the tar the manifest describes.
type ExportTar struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// ExportJSON writes the manifest.
func ExportJSON(w io.Writer, p Provenance, m ExportManifest) error {
	d := ExportDoc{Container: ExportContainer{ID: m.Container.ID, Name: m.Container.Name, Image: m.Container.ImageRef, ImageID: string(m.Container.ImageID)},
		Tar: ExportTar{Path: m.Tar, Bytes: m.Result.Bytes, SHA256: m.Result.SHA256}, Entries: make([]export.Entry, len(m.Result.Entries)), Findings: m.Result.Findings}
	for i, e := range m.Result.Entries {
		e.Path, _ = jsonString(e.Path)
		e.Name, _ = jsonString(e.Name)
		e.Link, _ = jsonString(e.Link)
		d.Entries[i] = e
	}
	return JSON(w, ExportDocument{NewHeader(SchemaExport, p), d})
}
