package main

import (
	"fmt"
	"io"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/dlayer/dlayer/inspect/anatomy"
	"github.com/dlayer/dlayer/report"
	"github.com/dlayer/dlayer/report/browse"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func browseCommand() *cli.Command {
	return &cli.Command{
		Name:      "browse",
		Usage:     "explore an image's or a container's layers and the merged tree as of each layer, entry by entry (interactive)",
		ArgsUsage: "IMAGE|CONTAINER",
		Description: "Shows the layer stack (writable, init and image layers: size, instruction, chain ID, waste) beside the merged tree " +
			"as of the selected layer, that layer's own entries marked: which layer provides each entry, what it shadows below, " +
			"whether a layer above deletes or rewrites it, and for a container's writable layer how it got there (added, modified, " +
			"copied up, metadata-only, whiteout, opaque) and from which layer. Filters, path search, a details pane and content " +
			"hashes on request; keys on screen, ? for help, q quits. Needs a terminal of at least 80x24; without one, " +
			"use `dlayer explain CONTAINER` or `dlayer layers --contents IMAGE|CONTAINER`.",
		Action: runBrowse,
	}
}

func runBrowse(c *cli.Context) error {
	o, err := readGlobal(c)
	if err != nil {
		return err
	}
	if c.NArg() != 1 {
		return usagef(c, "browse wants exactly one IMAGE or CONTAINER argument, got %d", c.NArg())
	}
	if o.Format != "table" {
		return usagef(c, "browse is interactive: for --format %s ask `dlayer layers --contents --format json IMAGE|CONTAINER`", o.Format)
	}
	out, ok := terminal(c.App.Writer)
	if !ok || !term.IsTerminal(int(os.Stdin.Fd())) {
		return cli.Exit("dlayer browse is interactive and needs a terminal (its input and output); without one, ask "+
			"`dlayer explain CONTAINER` (what a container's writable layer did) or `dlayer layers --contents IMAGE|CONTAINER` (each layer's entries and waste)", exitUsage)
	}
	ref := c.Args().First()
	s, err := openStore(o)
	if err != nil {
		return err
	}
	r, x, err := anatomyFor(o, s, ref, anatomy.Options{MaxPaths: -1, Tree: true})
	if err != nil {
		return err
	}
	st := s
	bo := browse.Options{Terms: s.Terms()}
	if x != nil {
		st = storeFor(o, s, ref)
		bo.Terms, bo.Image = st.Terms(), x.Container.ImageRef
		bo.Start, bo.StartWhat = x.Container.State.StartedAt, "the container's start"
		if bo.Start.IsZero() {
			bo.Start, bo.StartWhat = x.Container.Created, "the container's creation (never started)"
		}
	} else if stack := r.Tree.Stack; len(stack) > 0 {
		bo.Start, bo.StartWhat = stack[len(stack)-1].Created, "the base layer's creation"
	}
	bo.Hash = func(dir, p string) (string, error) {
		d, _, err := st.HashFile(dir, p)
		return string(d), err
	}
	if _, err := tea.NewProgram(browse.New(r, bo), tea.WithAltScreen(), tea.WithInput(os.Stdin), tea.WithOutput(out)).Run(); err != nil {
		return fmt.Errorf("browse: %w", err)
	}
	// after the screen is restored: what could not be read
	return report.Findings(c.App.ErrWriter, r.Findings)
}

// terminal is the terminal w writes to, when it writes to one.
func terminal(w io.Writer) (*os.File, bool) {
	for {
		switch x := w.(type) {
		case *os.File:
			return x, term.IsTerminal(int(x.Fd()))
		case interface{ Unwrap() io.Writer }:
			w = x.Unwrap()
		default:
			return nil, false
		}
	}
}
