package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// orderArgs puts flags where urfave/cli reads them, so that a flag may go
// anywhere on the line, as with Docker's CLI: the global flags before the
// command, the command's flags after it, then the arguments. urfave/cli
// stops reading flags at the first argument, so without this
// `dlayer ps extra --root /evidence` would silently read the live
// /var/lib/docker. A token after "--" is always an argument; a flag no
// flag set knows stays among the command's flags, where it is refused.
// unknown is the command name when it names no command (or the topic of
// `dlayer help TOPIC` when that names none).
func orderArgs(app *cli.App, args []string) (ordered []string, unknown string) {
	if len(args) < 2 {
		return args, ""
	}
	app.Setup() // adds the help command and flag, as Run would
	global := flagTable(app.Flags)
	var globals, rest []string
	i := 1
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" || !isFlag(a) {
			break
		}
		globals = append(globals, a)
		if takesValue(global, a) && i+1 < len(args) {
			i++
			globals = append(globals, args[i])
		}
	}
	if i == len(args) || args[i] == "--" {
		return args, ""
	}
	name := args[i]
	cmd := app.Command(name)
	if cmd == nil {
		return args, name
	}
	local := flagTable(cmd.Flags)
	var flags, positional []string
	for i++; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !isFlag(a) {
			positional = append(positional, a)
			continue
		}
		table, dst := local, &flags
		if _, ok := local[flagName(a)]; !ok {
			if _, ok := global[flagName(a)]; ok {
				table, dst = global, &globals
			}
		}
		*dst = append(*dst, a)
		if takesValue(table, a) && i+1 < len(args) {
			i++
			*dst = append(*dst, args[i])
		}
	}
	if cmd.Name == "help" && len(positional) > 0 && app.Command(positional[0]) == nil {
		return args, positional[0] // dlayer help frobnicate
	}
	out := append([]string{args[0]}, globals...)
	out = append(out, name)
	out = append(out, flags...)
	rest = positional
	if len(rest) > 0 {
		out = append(out, "--")
	}
	return append(out, rest...), ""
}

// flagTable maps every name and alias of flags to whether it takes a value.
func flagTable(flags []cli.Flag) map[string]bool {
	t := map[string]bool{"help": false, "h": false}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			t[n] = !isBool
		}
	}
	return t
}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

func flagName(a string) string {
	n := strings.TrimLeft(a, "-")
	if k := strings.IndexByte(n, '='); k >= 0 {
		n = n[:k]
	}
	return n
}

// takesValue reports whether flag token a is followed by its value.
func takesValue(t map[string]bool, a string) bool {
	return t[flagName(a)] && !strings.Contains(a, "=")
}
