package sqlite

import (
	"crypto/sha256"
	"testing"
)

func storetestHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// failRecorder records a failure instead of failing the test.
type failRecorder struct {
	testing.TB
	failed bool
}

func (r *failRecorder) Helper()               {}
func (r *failRecorder) Errorf(string, ...any) { r.failed = true }
