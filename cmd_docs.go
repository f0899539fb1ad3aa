package main

import (
	"github.com/urfave/cli/v2"
)

// manCommand prints dlayer(1), generated from the app (make install
// installs it): hidden, as it documents the CLI rather than the store.
func manCommand() *cli.Command {
	return &cli.Command{
		Name:   "man",
		Usage:  "print the man page dlayer(1) in roff (man -l <(dlayer man))",
		Hidden: true,
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef(c, "man takes no arguments")
			}
			return writeMan(c.App.Writer, docOf(c.App, driverNames(c)), exitCodes())
		},
	}
}

// completionCommand prints a shell's completion script, generated from
// the app so that it lists exactly this binary's commands and flags.
func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "SHELL (bash, zsh or fish)",
		Hidden:    true,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef(c, "completion wants exactly one SHELL argument (bash, zsh or fish), got %d", c.NArg())
			}
			sh, err := parseShell(c.Args().First())
			if err != nil {
				return usagef(c, "%v", err)
			}
			return writeCompletion(c.App.Writer, sh, docOf(c.App, driverNames(c)))
		},
	}
}

// driverNames are the backends --driver names besides auto.
func driverNames(c *cli.Context) []string {
	var out []string
	if reg := depsOf(c).backends; reg != nil {
		for _, n := range reg.Names() {
			out = append(out, n.String())
		}
	}
	return out
}
