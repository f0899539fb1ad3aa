package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
)

// usageError is a usage error: exit 2, and one line on stderr that ends
// with where the command's help is: `dlayer: ps takes no arguments: it
// lists every container (see dlayer ps --help)`.
type usageError struct {
	cmd string // the command whose help says more; "" for dlayer's own
	msg string
}

func (e usageError) Error() string { return e.msg + " (see " + helpLine(e.cmd) + ")" }

// ExitCode makes usageError a cli.ExitCoder.
func (e usageError) ExitCode() int { return exitUsage }

// helpLine is the command line that shows cmd's help.
func helpLine(cmd string) string {
	if cmd == "" {
		return "dlayer --help"
	}
	return "dlayer " + cmd + " --help"
}

// usagef is a usage error of the command c runs.
func usagef(c *cli.Context, format string, a ...any) error {
	return usageError{cmd: commandName(c), msg: fmt.Sprintf(format, a...)}
}

// commandName is the name of the command c runs, "" at the top level.
func commandName(c *cli.Context) string {
	if c == nil || c.Command == nil {
		return ""
	}
	return c.Command.Name
}

// onUsageError turns a flag parsing error of command cmd ("" for the
// global flags) into a usageError, so that urfave/cli prints no help text:
// one line on stderr, exit 2.
func onUsageError(cmd string) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		return usageError{cmd: cmd, msg: flagMessage(err.Error())}
	}
}

// The messages of Go's flag package, which spell every flag with one dash.
var (
	flagUndefined = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)
	flagNoValue   = regexp.MustCompile(`^flag needs an argument: -+(.+)$`)
	flagBadValue  = regexp.MustCompile(`^invalid value "(.*)" for flag -+([^:]+): (.+)$`)
)

// flagMessage rewords a flag parsing error with the flags spelt as
// dlayer's help spells them (--root, -q).
func flagMessage(msg string) string {
	if m := flagUndefined.FindStringSubmatch(msg); m != nil {
		return "unknown flag " + dashed(m[1])
	}
	if m := flagNoValue.FindStringSubmatch(msg); m != nil {
		return "flag " + dashed(m[1]) + " needs a value"
	}
	if m := flagBadValue.FindStringSubmatch(msg); m != nil {
		why := m[3]
		if why == "parse error" {
			why = "not a number"
		}
		return fmt.Sprintf("%s %q: %s", dashed(m[2]), m[1], why)
	}
	return msg
}

// dashed is a flag name as typed: -q, --root.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + strings.TrimLeft(name, "-")
}
