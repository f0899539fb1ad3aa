package mounts

import (
	"path/filepath"
	"strings"
)

// rootForms returns the data root as given (absolute, clean) and, when it
// differs, with its symlinks resolved: the kernel shows resolved paths.
func rootForms(root string) []string {
	abs, err := filepath.Abs(root)
	if err != nil {
		abs = filepath.Clean(root)
	}
	forms := []string{abs}
	if ev, err := filepath.EvalSymlinks(abs); err == nil && ev != abs {
		forms = append(forms, ev)
	}
	return forms
}

// underRoot returns the root form p lies under.
func underRoot(roots []string, p string) (string, bool) {
	if p == "" {
		return "", false
	}
	p = filepath.Clean(p)
	for _, r := range roots {
		if p == r || strings.HasPrefix(p, strings.TrimSuffix(r, "/")+"/") {
			return r, true
		}
	}
	return "", false
}

// relToRoot is p relative to the root form it lies under.
func relToRoot(roots []string, p string) (string, bool) {
	r, ok := underRoot(roots, p)
	if !ok {
		return "", false
	}
	rel, err := filepath.Rel(r, filepath.Clean(p))
	return rel, err == nil
}

// sameUnder reports whether a and b are the same path, possibly through
// different forms of the root.
func sameUnder(a, b string, root string, roots []string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	ra, ok1 := relToRoot(roots, a)
	rb, ok2 := relToRoot(append([]string{filepath.Clean(root)}, roots...), b)
	return ok1 && ok2 && ra == rb
}
