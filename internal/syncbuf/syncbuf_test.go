package syncbuf_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/deskconn/deskconn/internal/syncbuf"
)

// TestConcurrentWrites: writes from several goroutines all land, whole,
// while another goroutine reads.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	var b syncbuf.Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("line\n"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := strings.Count(b.String(), "line\n"); got != 800 {
		t.Errorf("%d lines written, want 800", got)
	}
}
