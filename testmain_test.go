package main

import (
	"os"
	"testing"
)

// TestMain runs the tests at the default text width whatever the shell
// exports: COLUMNS sets the width explain wraps to.
func TestMain(m *testing.M) {
	os.Unsetenv("COLUMNS")
	os.Exit(m.Run())
}
