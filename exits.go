package main

import "strings"

// exitCode is one exit status of dlayer and what it means.
type exitCode struct{ Code, Meaning string }

// exitCodes are dlayer's exit statuses, as --help and the man page list
// them (docs/exit-codes.md says more).
func exitCodes() []exitCode {
	return []exitCode{
		{"0", "success"},
		{"1", "verify: findings; mounts: problems (leaked, missing or mismatched mounts)"},
		{"2", "usage error (one line on stderr, ending with the --help to read), or the store cannot be read (the message names the path and the cause)"},
		{"130, 143", "stopped by SIGINT or SIGTERM (at once; stderr says what was interrupted)"},
	}
}

// exitCodesText is the EXIT CODES block of --help.
func exitCodesText() string {
	var b strings.Builder
	b.WriteString("EXIT CODES:")
	for _, e := range exitCodes() {
		b.WriteString("\n   " + e.Code + "  " + e.Meaning)
	}
	return b.String()
}
