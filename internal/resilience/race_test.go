//go:build race

package resilience

// raceEnabled: the deskconn binary the process tests start is built with
// -race too, so that a race in the server fails the test.
const raceEnabled = true
