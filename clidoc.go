package main

import (
	"slices"
	"strings"

	"github.com/dlayer/dlayer/report"
	"github.com/urfave/cli/v2"
)

// The man page and the shell completions are generated from the app
// itself (dlayer man, dlayer completion SHELL), so that they list exactly
// the commands and flags the binary has. cliDoc is what they are made of.

// argKind is what a command's arguments are, for completion.
type argKind int

const (
	argNone      argKind = iota
	argContainer         // a container of the store (dlayer ps)
	argImage             // an image of the store (dlayer images)
	argPath              // a path under the data root
)

// String names the kind as the completion scripts' helpers do.
func (k argKind) String() string {
	switch k {
	case argContainer:
		return "container"
	case argImage:
		return "image"
	case argPath:
		return "path"
	}
	return "none"
}

// docFlag is one flag as the man page and the completions show it.
type docFlag struct {
	Long, Short string // names without dashes; Short may be ""
	Placeholder string // the value's name (DIR, WHEN), "" for a boolean
	Usage       string // the help text, placeholders unquoted
	Default     string // the default value, "" when none is worth saying
	Env         []string
	// Choices are the values the flag takes, when they are a fixed set;
	// Files or Dirs when its value is a file or a directory.
	Choices     []string
	Files, Dirs bool
}

// docCommand is one command.
type docCommand struct {
	Name        string
	Aliases     []string
	Usage       string
	ArgsUsage   string
	Description string
	Args        argKind
	Flags       []docFlag
}

// cliDoc is the whole CLI.
type cliDoc struct {
	Name, Usage, Description, Version string
	Global                            []docFlag
	Commands                          []docCommand
}

// docOf reads app's visible commands and flags. drivers are the backend
// names --driver takes.
func docOf(app *cli.App, drivers []string) cliDoc {
	d := cliDoc{Name: app.Name, Usage: app.Usage, Description: app.Description, Version: app.Version}
	for _, f := range app.VisibleFlags() {
		if n := f.Names()[0]; n == "help" || n == "version" {
			continue // every page and script adds these its own way
		}
		d.Global = append(d.Global, docFlagOf(f, drivers))
	}
	for _, c := range app.VisibleCommands() {
		if c.Name == "help" {
			continue
		}
		dc := docCommand{Name: c.Name, Aliases: c.Aliases, Usage: unquote(c.Usage), ArgsUsage: c.ArgsUsage,
			Description: c.Description, Args: argKindOf(c.ArgsUsage)}
		for _, f := range c.VisibleFlags() {
			if slices.Contains(f.Names(), "help") {
				continue
			}
			dc.Flags = append(dc.Flags, docFlagOf(f, drivers))
		}
		d.Commands = append(d.Commands, dc)
	}
	return d
}

// argKindOf reads what a command takes from its ArgsUsage's first word.
func argKindOf(argsUsage string) argKind {
	first, _, _ := strings.Cut(argsUsage, " ")
	switch first {
	case "CONTAINER":
		return argContainer
	case "IMAGE":
		return argImage
	case "PATH":
		return argPath
	}
	return argNone
}

func docFlagOf(f cli.Flag, drivers []string) docFlag {
	names := f.Names()
	df := docFlag{Long: names[0]}
	for _, n := range names[1:] {
		if len(n) == 1 {
			df.Short = n
		}
	}
	dg, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return df
	}
	df.Env = dg.GetEnvVars()
	placeholder, usage := placeholderOf(dg.GetUsage())
	df.Usage = usage
	if dg.TakesValue() {
		df.Placeholder = placeholder
		if df.Placeholder == "" {
			df.Placeholder = "VALUE"
			if _, isInt := f.(*cli.IntFlag); isInt {
				df.Placeholder = "N"
			}
		}
		if v := dg.GetValue(); v != "" && v != "0" {
			df.Default = v
		}
	}
	switch df.Long {
	case "root", "containerd-root":
		df.Dirs, df.Placeholder = true, "DIR"
	case "mountinfo":
		df.Choices, df.Files, df.Placeholder = []string{"auto", "none"}, true, "SOURCE"
	case "prom":
		df.Files = true
	case "format":
		df.Choices, df.Placeholder = []string{"table", "json"}, "FORMAT"
	case "daemon":
		df.Choices, df.Placeholder = []string{"auto", "off"}, "MODE"
	case "namespace":
		df.Placeholder = "NAMESPACE"
	case "driver":
		df.Choices, df.Placeholder = append([]string{"auto"}, drivers...), "DRIVER"
	case "sort":
		df.Choices, df.Placeholder = []string{"path", "time"}, "ORDER"
	case "since", "until":
		df.Choices = []string{"created", "started", "finished"}
	case "by":
		df.Choices, df.Placeholder = report.DUViews(), "VIEW"
	}
	return df
}

// placeholderOf splits urfave/cli's `NAME` placeholder out of a usage
// text: the name, and the text with its backquotes removed.
func placeholderOf(usage string) (name, text string) {
	i := strings.IndexByte(usage, '`')
	if i < 0 {
		return "", usage
	}
	j := strings.IndexByte(usage[i+1:], '`')
	if j < 0 {
		return "", usage
	}
	return usage[i+1 : i+1+j], usage[:i] + usage[i+1:i+1+j] + usage[i+2+j:]
}

// unquote is a text with its backquotes removed.
func unquote(s string) string { return strings.ReplaceAll(s, "`", "") }
