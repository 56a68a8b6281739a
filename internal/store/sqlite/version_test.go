package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

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

// TestWriteTransactionNeedsNoSecondConnection: a write transaction
// prepares its statements on its own connection. With every other pooled
// connection taken (as when they all wait for the write lock this
// transaction holds), an audit append with write marks, and a statement
// Open did not prepare, still complete.
func TestWriteTransactionNeedsNoSecondConnection(t *testing.T) {
	t.Parallel()
	s := openAt(t, filepath.Join(t.TempDir(), "deskconn.db"))
	s.stmts.Range(func(k, v any) bool { // as a process that has not yet run them
		if k.(string) != insertAuditQuery && k.(string) != upsertWriteMarkQuery {
			return true
		}
		v.(*sql.Stmt).Close()
		s.stmts.Delete(k)
		return true
	})
	if err := s.prepareTxQueries(t.Context()); err != nil { // what Open does
		t.Fatal(err)
	}
	var held []*sql.Conn
	for range 7 { // the pool has 8
		c, err := s.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	done := make(chan error, 2)
	go func() {
		done <- s.AppendAudit(t.Context(), &store.AuditRecord{TenantID: "ten_1", ConnectionID: "conn_1", Action: "create_ticket",
			Outcome: "ok", Writes: []store.WriteMark{{Key: "ticket/1"}}})
	}()
	go func() {
		tx, err := s.db.BeginTx(t.Context(), nil)
		if err != nil {
			done <- err
			return
		}
		defer tx.Rollback()
		st, err := s.txStmt(t.Context(), tx, `SELECT count(*) FROM audit_log WHERE action = ?`)
		if err == nil {
			var n int
			err = st.QueryRowContext(t.Context(), "none").Scan(&n)
		}
		done <- err
	}()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Minute): // a deadlock detector, not a timing check
			t.Fatal("a write transaction waited for a second pooled connection")
		}
	}
}
