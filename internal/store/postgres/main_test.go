package postgres

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine (a lease renewer, a session
// watcher, a pool) outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
