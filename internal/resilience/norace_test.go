//go:build !race

package resilience

// raceEnabled: see race_test.go.
const raceEnabled = false
