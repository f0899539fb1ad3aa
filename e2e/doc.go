// Package e2e holds dlayer's end-to-end tests and benchmarks: they build
// the dlayer binary once (TestMain) and run it, as a user would, against
// stores made by private real engines (fixtures/engine, switched on by
// DLAYER_E2E) and by the fixtures builders. The package has no non-test
// code; the CLI's in-process unit tests stay beside it in the root.
package e2e
