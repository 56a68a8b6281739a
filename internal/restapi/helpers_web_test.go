package restapi_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/deskconn/deskconn/internal/demo"
)

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func dumpStore(t *testing.T, d *demo.Demo) []byte {
	t.Helper()
	dumper, ok := d.Store.(interface {
		Dump(context.Context) ([]byte, error)
	})
	if !ok {
		t.Fatal("the demo store cannot dump itself")
	}
	b, err := dumper.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return b
}
