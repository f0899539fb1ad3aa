package main

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchSetup.e != nil {
		if err := benchSetup.e.Stop(); err != nil && code == 0 {
			code = 1
		}
	}
	if benchSetup.dir != "" {
		os.RemoveAll(benchSetup.dir)
	}
	os.Exit(code)
}
