package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// TestCacheVersion: the version stays put across reads and across writes
// to anything but connections and API keys (audit records, events,
// idempotency records, tenants), and changes with every insert, update and
// delete of a connection or an API key, whether made through this store or
// through another one on the same file (as another deskconn process would).
func TestCacheVersion(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "deskconn.db")
	s := openAt(t, path)
	other := openAt(t, path)
	last, err := s.CacheVersion(ctx)
	if err != nil {
		t.Fatalf("CacheVersion = %v", err)
	}
	step := func(name string, wantChange bool, do func() error) {
		t.Helper()
		if err := do(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v, err := s.CacheVersion(ctx)
		if err != nil {
			t.Fatalf("CacheVersion after %s = %v", name, err)
		}
		if changed := v != last; changed != wantChange {
			t.Errorf("after %s the version went %d -> %d; want a change: %v", name, last, v, wantChange)
		}
		last = v
	}
	tn := &store.Tenant{Name: "here"}
	step("a tenant", false, func() error { return s.CreateTenant(ctx, tn) })
	step("a read", false, func() error { _, err := s.ListTenants(ctx); return err })
	c := &store.Connection{TenantID: tn.ID, Name: "desk", ClientID: "1000.CLIENT", Status: store.StatusPending}
	step("a new connection", true, func() error { return s.CreateConnection(ctx, c) })
	step("an audit record with a write mark", false, func() error {
		return s.AppendAudit(ctx, &store.AuditRecord{TenantID: tn.ID, ConnectionID: c.ID, Action: "create_ticket", Outcome: "ok",
			Writes: []store.WriteMark{{Key: "ticket/1"}}})
	})
	step("an idempotency record", false, func() error {
		_, _, err := s.BeginIdempotent(ctx, &store.IdemRecord{IdemKey: store.IdemKey{TenantID: tn.ID, ConnectionID: c.ID, Action: "create_ticket", Key: "k1"},
			InputHash: []byte("h"), Owner: "o", ExpiresAt: time.Now().Add(time.Hour)})
		return err
	})
	step("a connection update by another store", true, func() error {
		c.Status = store.StatusActive
		return other.UpdateConnection(ctx, c)
	})
	k := &store.APIKey{TenantID: tn.ID, Name: "k", Hash: []byte("0123456789abcdef0123456789abcdef"), Prefix: "dk_test"}
	step("a new API key", true, func() error { return s.CreateAPIKey(ctx, k) })
	step("the key's first use, recorded by its lookup", true, func() error { _, err := s.LookupAPIKey(ctx, k.Hash); return err })
	step("a revocation by another store", true, func() error { return other.RevokeAPIKey(ctx, tn.ID, k.ID) })
	step("a deleted connection", true, func() error { return s.DeleteConnection(ctx, tn.ID, c.ID) })
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
