package connection_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
)

// readCounting is a SQLite store that counts connection reads (and still
// reports its cache version).
type readCounting struct {
	*sqlite.Store
	reads atomic.Int64
}

func (r *readCounting) GetConnection(ctx context.Context, tenantID, id string) (*store.Connection, error) {
	r.reads.Add(1)
	return r.Store.GetConnection(ctx, tenantID, id)
}

func (r *readCounting) GetConnectionByName(ctx context.Context, tenantID, name string) (*store.Connection, error) {
	r.reads.Add(1)
	return r.Store.GetConnectionByName(ctx, tenantID, name)
}

// TestGetServesFromMemoryUntilAConnectionChanges: on SQLite, Get reads a
// connection once and then serves it from memory while no connection or
// API key changes (audit records, as every write appends, do not count);
// each caller gets its own copy; a change to the connection (here a policy
// change written by another handle on the database) makes the next Get
// read it again and see the change.
func TestGetServesFromMemoryUntilAConnectionChanges(t *testing.T) {
	t.Parallel()
	counting := &readCounting{}
	e := newEnv(t, envOpts{emu: emulator.Options{DefaultUser: emulator.SingleOrgUser}, mopts: func(o *connection.Options) {
		counting.Store = o.Store.(*sqlite.Store)
		o.Store = counting
	}})
	c := e.connect("cached")
	ctx := t.Context()
	for _, ref := range []string{c.ID, c.Name} {
		if _, err := e.m.Get(ctx, e.tenant.ID, ref); err != nil {
			t.Fatal(err)
		}
		before := counting.reads.Load()
		got, err := e.m.Get(ctx, e.tenant.ID, ref)
		if err != nil {
			t.Fatal(err)
		}
		if n := counting.reads.Load() - before; n != 0 {
			t.Errorf("Get(%s) again read the store %d times, want 0", ref, n)
		}
		if got.ID != c.ID || got.Status != store.StatusActive || string(got.SealedAccessToken) == "" {
			t.Errorf("Get(%s) from memory = %+v", ref, got)
		}
		// The copy is the caller's: changing it changes nothing else.
		got.Policies = map[string]string{"create_ticket": "deny"}
		got.SealedAccessToken[0] ^= 0xff
		again, err := e.m.Get(ctx, e.tenant.ID, ref)
		if err != nil {
			t.Fatal(err)
		}
		if again.Policies["create_ticket"] == "deny" || string(again.SealedAccessToken) != string(c.SealedAccessToken) {
			t.Errorf("a caller's change to its copy reached the next Get: %+v", again)
		}
	}

	// A write's audit record (and write mark) is no reason to read again.
	if err := e.st.AppendAudit(ctx, &store.AuditRecord{TenantID: e.tenant.ID, ConnectionID: c.ID, Action: "create_ticket",
		Outcome: "ok", Writes: []store.WriteMark{{Key: "ticket/1"}}}); err != nil {
		t.Fatal(err)
	}
	before := counting.reads.Load()
	if _, err := e.m.Get(ctx, e.tenant.ID, c.Name); err != nil {
		t.Fatal(err)
	}
	if n := counting.reads.Load() - before; n != 0 {
		t.Errorf("Get after an audit append read the store %d times, want 0", n)
	}

	// Another writer: the raw store, not through the manager.
	changed, err := e.st.GetConnection(ctx, e.tenant.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	changed.Policies = map[string]string{"delete_ticket": "deny"}
	if err := e.st.UpdateConnection(ctx, changed); err != nil {
		t.Fatal(err)
	}
	before = counting.reads.Load()
	got, err := e.m.Get(ctx, e.tenant.ID, c.Name)
	if err != nil {
		t.Fatal(err)
	}
	if n := counting.reads.Load() - before; n != 1 {
		t.Errorf("Get after a commit read the store %d times, want 1", n)
	}
	if got.Policies["delete_ticket"] != "deny" {
		t.Errorf("Get after a policy change = %v, want the new policy", got.Policies)
	}
}
