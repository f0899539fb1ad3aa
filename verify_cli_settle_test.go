package main

import (
	"flag"
	"slices"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// TestSettleDelays: --settle scales the re-read pauses of verify and
// mounts to the total it gives (0: none); without it the program's own
// stand.
func TestSettleDelays(t *testing.T) {
	own := []time.Duration{time.Second}
	for _, tc := range []struct {
		args []string
		want []time.Duration
	}{
		{nil, own},
		{[]string{"--settle", "0"}, []time.Duration{0, 0, 0}},
		{[]string{"--settle", "4s"}, []time.Duration{400 * time.Millisecond, 1200 * time.Millisecond, 2400 * time.Millisecond}},
		{[]string{"--settle", "2s"}, []time.Duration{200 * time.Millisecond, 600 * time.Millisecond, 1200 * time.Millisecond}},
	} {
		app := &cli.App{Metadata: map[string]any{metaDeps: deps{settle: own}}}
		set := flag.NewFlagSet("verify", flag.ContinueOnError)
		if err := settleFlag().Apply(set); err != nil {
			t.Fatal(err)
		}
		if err := set.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if got := settleDelays(cli.NewContext(app, set, nil)); !slices.Equal(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.args, got, tc.want)
		}
	}
}
