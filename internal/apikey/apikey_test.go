package apikey_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/deskconn/deskconn/internal/store/storetest"
)

func newService(t *testing.T) (*apikey.Service, *sqlite.Store, *store.Tenant, *store.Tenant) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, b := &store.Tenant{Name: "a"}, &store.Tenant{Name: "b"}
	for _, tn := range []*store.Tenant{a, b} {
		if err := st.CreateTenant(t.Context(), tn); err != nil {
			t.Fatal(err)
		}
	}
	return apikey.New(st), st, a, b
}

func TestCreateAuthenticateRevoke(t *testing.T) {
	t.Parallel()
	svc, st, a, b := newService(t)
	key, k, err := svc.Create(t.Context(), a.ID, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if apikey.Check(key.Reveal()) != nil || !strings.HasPrefix(key.Reveal(), "dk_") || len(key.Reveal()) != 46 {
		t.Fatalf("key shape: %d chars", len(key.Reveal()))
	}
	if !strings.HasPrefix(key.Reveal(), k.Prefix) || len(k.Prefix) != 9 {
		t.Fatalf("prefix %q", k.Prefix)
	}
	tenant, id, err := svc.Authenticate(t.Context(), key.Reveal())
	if err != nil || tenant != a.ID || id != k.ID {
		t.Fatalf("authenticate = %q %q %v", tenant, id, err)
	}
	for _, bad := range []string{"", "dk_", key.Reveal() + "x", "xx" + key.Reveal()[2:], key.Reveal()[:45] + "!", strings.ToUpper(key.Reveal())} {
		if _, _, err := svc.Authenticate(t.Context(), bad); deskconn.ErrorCode(err) != deskconn.CodeUnauthenticated {
			t.Errorf("authenticate(%q...) = %v", bad[:min(len(bad), 6)], err)
		} else if strings.Contains(err.Error(), bad) && bad != "" && bad != "dk_" {
			t.Errorf("the error echoes the key")
		}
	}
	if err := svc.Revoke(t.Context(), b.ID, k.ID); deskconn.ErrorCode(err) != deskconn.CodeNotFound {
		t.Fatalf("revoke by another tenant: %v", err)
	}
	if err := svc.Revoke(t.Context(), a.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Authenticate(t.Context(), key.Reveal()); deskconn.ErrorCode(err) != deskconn.CodeUnauthenticated {
		t.Fatalf("revoked key: %v", err)
	}
	keys, err := svc.List(t.Context(), a.ID)
	if err != nil || len(keys) != 1 || keys[0].RevokedAt.IsZero() {
		t.Fatalf("list = %v, %v", keys, err)
	}
	dump, err := st.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	storetest.AssertNoPlaintext(t, dump, key.Reveal())
}

func TestImport(t *testing.T) {
	t.Parallel()
	svc, _, a, b := newService(t)
	key, _ := apikey.Generate()
	k1, err := svc.Import(t.Context(), a.ID, "demo", key)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := svc.Import(t.Context(), a.ID, "demo", key)
	if err != nil || k2.ID != k1.ID {
		t.Fatalf("re-import = %v, %v", k2, err)
	}
	if _, err := svc.Import(t.Context(), b.ID, "demo", key); deskconn.ErrorCode(err) != deskconn.CodeConflict {
		t.Fatalf("import into another tenant: %v", err)
	}
	if _, err := svc.Import(t.Context(), a.ID, "demo", "not-a-key"); deskconn.ErrorCode(err) != deskconn.CodeInvalid {
		t.Fatalf("bad import: %v", err)
	}
	if _, _, err := svc.Create(t.Context(), a.ID, " "); deskconn.ErrorCode(err) != deskconn.CodeInvalid {
		t.Fatalf("nameless key: %v", err)
	}
}

func TestGenerateIsRandom(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		k, err := apikey.Generate()
		if err != nil {
			t.Fatal(err)
		}
		if seen[k.Reveal()] {
			t.Fatal("duplicate key")
		}
		seen[k.Reveal()] = true
	}
}

// FuzzCheck: Check never panics and accepts exactly dk_ + 43 base62 chars.
func FuzzCheck(f *testing.F) {
	f.Add("dk_" + strings.Repeat("A", 43))
	f.Add("dk_" + strings.Repeat("z", 42) + "é")
	f.Add("")
	f.Add("Bearer dk_abc")
	f.Fuzz(func(t *testing.T, s string) {
		err := apikey.Check(s)
		body, ok := strings.CutPrefix(s, "dk_")
		valid := ok && len(body) == 43 && strings.Trim(body, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == ""
		if (err == nil) != valid {
			t.Fatalf("Check(%q) = %v, want valid=%v", s, err, valid)
		}
	})
}

// lookupCounting is a SQLite store that counts key lookups (and still
// reports its data version).
type lookupCounting struct {
	*sqlite.Store
	lookups atomic.Int64
}

func (l *lookupCounting) LookupAPIKey(ctx context.Context, hash []byte) (*store.APIKey, error) {
	l.lookups.Add(1)
	return l.Store.LookupAPIKey(ctx, hash)
}

// TestAuthenticateServesFromMemoryUntilAKeyChanges: a key authenticated
// once is not looked up again while no API key or connection changes
// (audit records, as every write appends, do not count), its last use is
// still recorded once per store.APIKeyUseResolution, and a revocation is
// seen by the very next request.
func TestAuthenticateServesFromMemoryUntilAKeyChanges(t *testing.T) {
	t.Parallel()
	_, st, a, _ := newService(t)
	counting := &lookupCounting{Store: st}
	now := time.Now()
	clock := func() time.Time { return now }
	svc := apikey.NewWithClock(counting, clock)
	key, k, err := svc.Create(t.Context(), a.ID, "cached")
	if err != nil {
		t.Fatal(err)
	}
	auth := func() error {
		_, _, err := svc.Authenticate(t.Context(), key.Reveal())
		return err
	}
	if err := auth(); err != nil { // looks up, records the use (a commit)
		t.Fatal(err)
	}
	if err := auth(); err != nil { // looks up again: the use was a commit
		t.Fatal(err)
	}
	before := counting.lookups.Load()
	for range 3 {
		if err := st.AppendAudit(t.Context(), &store.AuditRecord{TenantID: a.ID, APIKeyID: k.ID, ConnectionID: "conn_1",
			Action: "create_ticket", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
		if err := auth(); err != nil {
			t.Fatal(err)
		}
	}
	if n := counting.lookups.Load() - before; n != 0 {
		t.Errorf("3 more authentications, each after an audit append, looked the key up %d times, want 0", n)
	}

	now = now.Add(store.APIKeyUseResolution + time.Second)
	if err := auth(); err != nil {
		t.Fatal(err)
	}
	if n := counting.lookups.Load() - before; n != 1 {
		t.Errorf("an authentication a resolution later looked the key up %d times, want 1 (to record the use)", n)
	}

	// Revoked by another handle on the database, as the CLI would.
	if err := st.RevokeAPIKey(t.Context(), a.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if err := auth(); deskconn.ErrorCode(err) != deskconn.CodeUnauthenticated {
		t.Fatalf("authenticate right after the revocation = %v, want unauthenticated", err)
	}
}
