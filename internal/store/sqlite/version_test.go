package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/deskconn/deskconn/internal/store"
)

// TestDataVersion: the version stays put across reads and changes with
// every commit, whether made through this store or through another one on
// the same file (as another deskconn process would).
func TestDataVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "deskconn.db")
	s := openAt(t, path)
	version := func() int64 {
		t.Helper()
		v, err := s.DataVersion(t.Context())
		if err != nil {
			t.Fatalf("DataVersion = %v", err)
		}
		return v
	}
	v := version()
	if _, err := s.ListTenants(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := version(); got != v {
		t.Fatalf("version after a read = %d, want %d", got, v)
	}
	if err := s.CreateTenant(t.Context(), &store.Tenant{Name: "here"}); err != nil {
		t.Fatal(err)
	}
	after := version()
	if after == v {
		t.Fatalf("version after this store's commit = %d, unchanged", after)
	}
	other := openAt(t, path)
	if err := other.CreateTenant(t.Context(), &store.Tenant{Name: "there"}); err != nil {
		t.Fatal(err)
	}
	if got := version(); got == after {
		t.Fatalf("version after another store's commit = %d, unchanged", got)
	}
}
