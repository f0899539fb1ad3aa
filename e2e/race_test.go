//go:build race

package e2e

// raceBuild is true when the tests are built with -race (go test -race
// ./e2e, as make test runs them): TestMain then builds the dlayer binary
// under test with -race too, and a race it reports fails the run.
const raceBuild = true
