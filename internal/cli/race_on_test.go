//go:build race

package cli

// raceEnabled reports whether the test binary has the race detector. Its
// runtime makes a process start take over a second, which tests that start
// many processes scale down for.
const raceEnabled = true
