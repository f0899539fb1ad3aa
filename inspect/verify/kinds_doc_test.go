package verify

import (
	"os"
	"strings"
	"testing"
)

// TestKindsDocumented: every finding kind is named in docs/verify.md,
// where users look them up.
func TestKindsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/verify.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, k := range Kinds() {
		if !strings.Contains(doc, "`"+string(k)+"`") {
			t.Errorf("kind %s is not in docs/verify.md", k)
		}
	}
}
