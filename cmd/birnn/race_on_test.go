//go:build race

package main

// raceEnabled builds the served binary with -race when the tests run so.
const raceEnabled = true
