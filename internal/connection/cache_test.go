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
// reports its data version).
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

// TestGetServesFromMemoryUntilAnyWrite: on SQLite, Get reads a connection
// once and then serves it from memory while nothing is committed; each
// caller gets its own copy; any commit (here a policy change written by
// another handle on the database) makes the next Get read it again and
// see the change.
func TestGetServesFromMemoryUntilAnyWrite(t *testing.T) {
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

	// Another writer: the raw store, not through the manager.
	changed, err := e.st.GetConnection(ctx, e.tenant.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	changed.Policies = map[string]string{"delete_ticket": "deny"}
	if err := e.st.UpdateConnection(ctx, changed); err != nil {
		t.Fatal(err)
	}
	before := counting.reads.Load()
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
