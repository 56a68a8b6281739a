// Package storetest is the acceptance suite every store.Store backend must
// pass, plus a canary helper proving that no secret is stored in the clear.
//
// A backend's test calls Run with a function that opens a new handle on one
// database shared by the whole run:
//
//	func TestStore(t *testing.T) {
//		path := filepath.Join(t.TempDir(), "deskconn.db")
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := sqlite.Open(t.Context(), path)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Every open call must reach the same database: the suite opens two handles
// to check that refresh locks exclude other processes. Subtests run in
// parallel and namespace their data with unique names.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/google/go-cmp/cmp"
)

// Dumper is implemented by backends that can return their raw stored
// content (SQLite: the file and WAL bytes; Postgres: every table as text),
// for AssertNoPlaintext.
type Dumper interface {
	Dump(ctx context.Context) ([]byte, error)
}

// AssertNoPlaintext fails t if dump contains any of secrets in the clear:
// raw, hex-encoded (how Postgres prints bytea) or base64 (standard or URL
// alphabet). The failure names the secret's position in the list, never
// the secret.
func AssertNoPlaintext(t testing.TB, dump []byte, secrets ...string) {
	t.Helper()
	if len(dump) == 0 {
		t.Errorf("AssertNoPlaintext: empty dump proves nothing")
		return
	}
	lower := bytes.ToLower(dump)
	for i, s := range secrets {
		if len(s) < 8 {
			t.Errorf("AssertNoPlaintext: secret %d is shorter than 8 bytes; use a distinctive canary", i)
			continue
		}
		forms := map[string][]byte{
			"raw":       []byte(s),
			"hex":       []byte(hex.EncodeToString([]byte(s))),
			"base64":    []byte(base64.RawStdEncoding.EncodeToString([]byte(s))[:len(s)*4/3-1]),
			"base64url": []byte(base64.RawURLEncoding.EncodeToString([]byte(s))[:len(s)*4/3-1]),
		}
		for form, b := range forms {
			hay := dump
			if form == "hex" {
				hay = lower
			}
			if bytes.Contains(hay, b) {
				t.Errorf("AssertNoPlaintext: secret %d found in the dump (%s)", i, form)
			}
		}
	}
}

// Run runs the acceptance suite. open returns a new handle on the shared
// database; it registers the handle's Close with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"Tenants", testTenants},
		{"APIKeys", testAPIKeys},
		{"APIKeyScope", testAPIKeyScope},
		{"Connections", testConnections},
		{"ConnectionIsolation", testConnectionIsolation},
		{"OAuthStates", testOAuthStates},
		{"OAuthStateSingleUseConcurrent", testOAuthStateConcurrent},
		{"LoginLinks", testLoginLinks},
		{"LoginLinkSingleUseConcurrent", testLoginLinkConcurrent},
		{"Sessions", testSessions},
		{"Idempotency", testIdempotency},
		{"IdempotencyExpiry", testIdempotencyExpiry},
		{"IdempotencyConcurrentBegin", testIdempotencyConcurrent},
		{"IdempotencyLease", testIdempotencyLease},
		{"IdempotencySettle", testIdempotencySettle},
		{"IdempotencyConcurrentClaim", testIdempotencyConcurrentClaim},
		{"Audit", testAudit},
		{"AuditConcurrent", testAuditConcurrent},
		{"Settings", testSettings},
		{"CallCounts", testCallCounts},
		{"RefreshLockExclusion", testRefreshLockExclusion},
		{"RefreshLockPerConnection", testRefreshLockPerConnection},
		{"RefreshLockContext", testRefreshLockContext},
		{"Ping", func(t *testing.T, open func(t *testing.T) store.Store) {
			if err := open(t).Ping(t.Context()); err != nil {
				t.Fatalf("Ping = %v", err)
			}
		}},
	}
	// The group returns when every parallel subtest has finished.
	t.Run("group", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				tt.fn(t, open)
			})
		}
	})
	// PurgeExpired deletes every tenant's expired rows at a future instant,
	// so it runs alone.
	t.Run("PurgeExpired", func(t *testing.T) { testPurgeExpired(t, open) })
	// PurgeAudit deletes every tenant's old audit records: alone too.
	t.Run("PurgeAudit", func(t *testing.T) { testPurgeAudit(t, open) })
}

func uniq(prefix string) string { return store.NewID(prefix) }

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func newTenant(t *testing.T, s store.Store) *store.Tenant {
	t.Helper()
	tn := &store.Tenant{Name: uniq("tenant")}
	if err := s.CreateTenant(t.Context(), tn); err != nil {
		t.Fatalf("CreateTenant = %v", err)
	}
	return tn
}

func newConnection(t *testing.T, s store.Store, tenantID string) *store.Connection {
	t.Helper()
	c := &store.Connection{TenantID: tenantID, Name: uniq("conn"), ClientID: "1000.CLIENT", Status: store.StatusPending}
	if err := s.CreateConnection(t.Context(), c); err != nil {
		t.Fatalf("CreateConnection = %v", err)
	}
	return c
}

func wantErr(t *testing.T, call string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s = %v, want %v", call, err, want)
	}
}

func testTenants(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	start := time.Now().Add(-time.Second)
	tn := newTenant(t, s)
	if tn.ID == "" || tn.CreatedAt.Before(start) || tn.CreatedAt.Location() != time.UTC {
		t.Errorf("CreateTenant set ID %q, CreatedAt %v; want an ID and a recent UTC time", tn.ID, tn.CreatedAt)
	}
	got, err := s.GetTenant(ctx, tn.ID)
	if err != nil {
		t.Fatalf("GetTenant = %v", err)
	}
	if diff := cmp.Diff(tn, got); diff != "" {
		t.Errorf("GetTenant mismatch (-want +got):\n%s", diff)
	}
	got, err = s.GetTenantByName(ctx, tn.Name)
	if err != nil {
		t.Fatalf("GetTenantByName = %v", err)
	}
	if diff := cmp.Diff(tn, got); diff != "" {
		t.Errorf("GetTenantByName mismatch (-want +got):\n%s", diff)
	}
	wantErr(t, "CreateTenant(duplicate name)", s.CreateTenant(ctx, &store.Tenant{Name: tn.Name}), store.ErrConflict)
	_, err = s.GetTenant(ctx, uniq("ten"))
	wantErr(t, "GetTenant(unknown)", err, store.ErrNotFound)
	_, err = s.GetTenantByName(ctx, uniq("tenant"))
	wantErr(t, "GetTenantByName(unknown)", err, store.ErrNotFound)

	other := newTenant(t, s)
	all, err := s.ListTenants(ctx)
	if err != nil {
		t.Fatalf("ListTenants = %v", err)
	}
	var found int
	for _, x := range all {
		if x.ID == tn.ID || x.ID == other.ID {
			found++
		}
	}
	if found != 2 {
		t.Errorf("ListTenants found %d of the 2 created tenants", found)
	}
}

func testAPIKeys(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn, other := newTenant(t, s), newTenant(t, s)
	k := &store.APIKey{TenantID: tn.ID, Name: "ci", Hash: hash(uniq("dk")), Prefix: "dk_abc"}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatalf("CreateAPIKey = %v", err)
	}
	if k.ID == "" || k.CreatedAt.IsZero() {
		t.Errorf("CreateAPIKey set ID %q, CreatedAt %v", k.ID, k.CreatedAt)
	}
	k2 := &store.APIKey{TenantID: tn.ID, Name: "other", Hash: hash(uniq("dk")), Prefix: "dk_def"}
	if err := s.CreateAPIKey(ctx, k2); err != nil {
		t.Fatalf("CreateAPIKey = %v", err)
	}
	wantErr(t, "CreateAPIKey(duplicate hash)",
		s.CreateAPIKey(ctx, &store.APIKey{TenantID: other.ID, Name: "x", Hash: k.Hash, Prefix: "dk"}), store.ErrConflict)
	wantErr(t, "CreateAPIKey(unknown tenant)",
		s.CreateAPIKey(ctx, &store.APIKey{TenantID: uniq("ten"), Name: "x", Hash: hash(uniq("dk")), Prefix: "dk"}), store.ErrNotFound)

	before := time.Now().Add(-time.Second)
	got, err := s.LookupAPIKey(ctx, k.Hash)
	if err != nil {
		t.Fatalf("LookupAPIKey = %v", err)
	}
	if got.LastUsed.Before(before) {
		t.Errorf("LookupAPIKey LastUsed = %v, want now", got.LastUsed)
	}
	want := *k
	want.LastUsed = got.LastUsed
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("LookupAPIKey mismatch (-want +got):\n%s", diff)
	}
	// A use within APIKeyUseResolution of the recorded one is not written
	// again: a lookup stays a read.
	if again, err := s.LookupAPIKey(ctx, k.Hash); err != nil || !again.LastUsed.Equal(got.LastUsed) {
		t.Errorf("second LookupAPIKey = %v, %v; want LastUsed still %v", again, err, got.LastUsed)
	}
	_, err = s.LookupAPIKey(ctx, hash("no such key"))
	wantErr(t, "LookupAPIKey(unknown)", err, store.ErrNotFound)

	list, err := s.ListAPIKeys(ctx, tn.ID)
	if err != nil {
		t.Fatalf("ListAPIKeys = %v", err)
	}
	if len(list) != 2 || list[0].ID != k.ID || list[1].ID != k2.ID {
		t.Errorf("ListAPIKeys = %d keys, want [%s %s] in creation order", len(list), k.ID, k2.ID)
	}
	if list, _ := s.ListAPIKeys(ctx, other.ID); len(list) != 0 {
		t.Errorf("ListAPIKeys(other tenant) = %d keys, want 0", len(list))
	}

	wantErr(t, "RevokeAPIKey(other tenant)", s.RevokeAPIKey(ctx, other.ID, k.ID), store.ErrNotFound)
	if _, err := s.LookupAPIKey(ctx, k.Hash); err != nil {
		t.Fatalf("LookupAPIKey after a foreign revoke = %v, want the key still valid", err)
	}
	if err := s.RevokeAPIKey(ctx, tn.ID, k.ID); err != nil {
		t.Fatalf("RevokeAPIKey = %v", err)
	}
	_, err = s.LookupAPIKey(ctx, k.Hash)
	wantErr(t, "LookupAPIKey(revoked)", err, store.ErrNotFound)
	if _, err := s.LookupAPIKey(ctx, k2.Hash); err != nil {
		t.Errorf("LookupAPIKey(unrevoked sibling) = %v", err)
	}
	list, _ = s.ListAPIKeys(ctx, tn.ID)
	if len(list) != 2 || list[0].RevokedAt.IsZero() || !list[1].RevokedAt.IsZero() {
		t.Errorf("ListAPIKeys after revoke: want the first revoked, the second not")
	}
	first := list[0].RevokedAt
	if err := s.RevokeAPIKey(ctx, tn.ID, k.ID); err != nil {
		t.Errorf("RevokeAPIKey twice = %v, want nil", err)
	}
	list, _ = s.ListAPIKeys(ctx, tn.ID)
	if !list[0].RevokedAt.Equal(first) {
		t.Errorf("second RevokeAPIKey moved RevokedAt from %v to %v", first, list[0].RevokedAt)
	}
	wantErr(t, "RevokeAPIKey(unknown)", s.RevokeAPIKey(ctx, tn.ID, uniq("key")), store.ErrNotFound)
}

// fullConnection has every field set to a distinct non-zero value.
func fullConnection(tenantID string) *store.Connection {
	exp := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	return &store.Connection{
		TenantID:           tenantID,
		Name:               uniq("support"),
		ClientID:           "1000.ABCDEF",
		SealedClientSecret: []byte{1, 2, 0, 3},
		Scopes:             []string{"Desk.tickets.ALL", "Desk.basic.READ"},
		Status:             store.StatusActive,
		Location:           "eu",
		AccountsServer:     "https://accounts.zoho.eu",
		DeskBaseURL:        "https://desk.zoho.eu",
		OrgID:              "20001",
		OrgName:            "Acme",
		OrgChoices:         []byte(`[{"id":"20001","name":"Acme"}]`),
		SealedRefreshToken: []byte{9, 8, 7},
		SealedAccessToken:  []byte{6, 5, 0},
		AccessExpiry:       exp,
		TokenRequests:      []time.Time{exp.Add(-time.Minute), exp.Add(-time.Second)},
		UserID:             "u1",
		UserEmail:          "agent@example.com",
		UserName:           "Agent",
		Policies:           map[string]string{"tickets.create": "confirm", "tickets.delete": "deny"},
		LastError:          "none",
	}
}

func testConnections(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)

	// A zero-ish connection round-trips with nil slices and maps.
	bare := &store.Connection{TenantID: tn.ID, Name: uniq("bare"), Status: store.StatusPending}
	if err := s.CreateConnection(ctx, bare); err != nil {
		t.Fatalf("CreateConnection(bare) = %v", err)
	}
	got, err := s.GetConnection(ctx, tn.ID, bare.ID)
	if err != nil {
		t.Fatalf("GetConnection = %v", err)
	}
	if diff := cmp.Diff(bare, got); diff != "" {
		t.Errorf("GetConnection(bare) mismatch (-want +got):\n%s", diff)
	}

	c := fullConnection(tn.ID)
	c.ID = store.NewID("conn") // caller-chosen, as when sealing before insert
	id := c.ID
	if err := s.CreateConnection(ctx, c); err != nil {
		t.Fatalf("CreateConnection = %v", err)
	}
	if c.ID != id || c.CreatedAt.IsZero() || !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Errorf("CreateConnection: ID %q (want %q), CreatedAt %v, UpdatedAt %v", c.ID, id, c.CreatedAt, c.UpdatedAt)
	}
	got, err = s.GetConnection(ctx, tn.ID, c.ID)
	if err != nil {
		t.Fatalf("GetConnection = %v", err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("GetConnection mismatch (-want +got):\n%s", diff)
	}
	got, err = s.GetConnectionByName(ctx, tn.ID, c.Name)
	if err != nil {
		t.Fatalf("GetConnectionByName = %v", err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("GetConnectionByName mismatch (-want +got):\n%s", diff)
	}
	_, err = s.GetConnectionByName(ctx, tn.ID, uniq("nope"))
	wantErr(t, "GetConnectionByName(unknown)", err, store.ErrNotFound)

	dup := fullConnection(tn.ID)
	dup.Name = c.Name
	wantErr(t, "CreateConnection(duplicate name)", s.CreateConnection(ctx, dup), store.ErrConflict)
	dupID := fullConnection(tn.ID)
	dupID.ID = c.ID
	wantErr(t, "CreateConnection(duplicate ID)", s.CreateConnection(ctx, dupID), store.ErrConflict)
	wantErr(t, "CreateConnection(unknown tenant)", s.CreateConnection(ctx, fullConnection(uniq("ten"))), store.ErrNotFound)

	// Update every field.
	u := *got
	u.Name = uniq("renamed")
	u.ClientID = "1000.NEW"
	u.SealedClientSecret = []byte{4, 4}
	u.Scopes = []string{"Desk.search.READ"}
	u.Status = store.StatusNeedsReauth
	u.Location, u.AccountsServer, u.DeskBaseURL = "in", "https://accounts.zoho.in", "https://desk.zoho.in"
	u.OrgID, u.OrgName, u.OrgChoices = "30003", "Beta", nil
	u.SealedRefreshToken, u.SealedAccessToken = []byte{1}, nil
	u.AccessExpiry = time.Time{}
	u.TokenRequests = nil
	u.UserID, u.UserEmail, u.UserName = "u2", "b@example.com", "B"
	u.Policies = map[string]string{"x": "allow"}
	u.LastError = "refresh token refused"
	time.Sleep(2 * time.Millisecond) // so UpdatedAt moves
	if err := s.UpdateConnection(ctx, &u); err != nil {
		t.Fatalf("UpdateConnection = %v", err)
	}
	if !u.UpdatedAt.After(c.UpdatedAt) {
		t.Errorf("UpdateConnection UpdatedAt = %v, want after %v", u.UpdatedAt, c.UpdatedAt)
	}
	got, err = s.GetConnection(ctx, tn.ID, c.ID)
	if err != nil {
		t.Fatalf("GetConnection after update = %v", err)
	}
	if diff := cmp.Diff(&u, got); diff != "" {
		t.Errorf("GetConnection after update mismatch (-want +got):\n%s", diff)
	}
	clash := u
	clash.Name = bare.Name
	wantErr(t, "UpdateConnection(name clash)", s.UpdateConnection(ctx, &clash), store.ErrConflict)
	missing := u
	missing.ID = uniq("conn")
	wantErr(t, "UpdateConnection(unknown)", s.UpdateConnection(ctx, &missing), store.ErrNotFound)

	list, err := s.ListConnections(ctx, tn.ID)
	if err != nil {
		t.Fatalf("ListConnections = %v", err)
	}
	var ids []string
	for _, x := range list {
		ids = append(ids, x.ID)
	}
	slices.Sort(ids)
	want := []string{bare.ID, c.ID}
	slices.Sort(want)
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("ListConnections ids mismatch (-want +got):\n%s", diff)
	}

	if err := s.DeleteConnection(ctx, tn.ID, c.ID); err != nil {
		t.Fatalf("DeleteConnection = %v", err)
	}
	_, err = s.GetConnection(ctx, tn.ID, c.ID)
	wantErr(t, "GetConnection(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteConnection(deleted)", s.DeleteConnection(ctx, tn.ID, c.ID), store.ErrNotFound)
	// The name is free again.
	again := fullConnection(tn.ID)
	again.Name = u.Name
	if err := s.CreateConnection(ctx, again); err != nil {
		t.Errorf("CreateConnection(reused name after delete) = %v", err)
	}
}

func testConnectionIsolation(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	a, b := newTenant(t, s), newTenant(t, s)
	ca := fullConnection(a.ID)
	if err := s.CreateConnection(ctx, ca); err != nil {
		t.Fatal(err)
	}
	// The same name in another tenant is fine.
	cb := fullConnection(b.ID)
	cb.Name = ca.Name
	if err := s.CreateConnection(ctx, cb); err != nil {
		t.Fatalf("CreateConnection(same name, other tenant) = %v", err)
	}

	_, err := s.GetConnection(ctx, b.ID, ca.ID)
	wantErr(t, "GetConnection(other tenant)", err, store.ErrNotFound)
	got, err := s.GetConnectionByName(ctx, b.ID, ca.Name)
	if err != nil || got.ID != cb.ID {
		t.Errorf("GetConnectionByName(b, shared name) = %v, %v; want b's own connection", got, err)
	}
	steal := *ca
	steal.TenantID = b.ID
	steal.OrgID = "stolen"
	wantErr(t, "UpdateConnection(other tenant)", s.UpdateConnection(ctx, &steal), store.ErrNotFound)
	wantErr(t, "DeleteConnection(other tenant)", s.DeleteConnection(ctx, b.ID, ca.ID), store.ErrNotFound)
	got, err = s.GetConnection(ctx, a.ID, ca.ID)
	if err != nil || got.OrgID != ca.OrgID {
		t.Errorf("a's connection after b's attempts = %v, %v; want unchanged", got, err)
	}

	lb, err := s.ListConnections(ctx, b.ID)
	if err != nil || len(lb) != 1 || lb[0].ID != cb.ID {
		t.Errorf("ListConnections(b) = %d, %v; want only b's connection", len(lb), err)
	}
	all, err := s.ListConnections(ctx, "")
	if err != nil {
		t.Fatalf("ListConnections(all) = %v", err)
	}
	var seen int
	for _, c := range all {
		if c.ID == ca.ID || c.ID == cb.ID {
			seen++
		}
	}
	if seen != 2 {
		t.Errorf("ListConnections(\"\") saw %d of both tenants' 2 connections", seen)
	}
}

func testOAuthStates(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn, other := newTenant(t, s), newTenant(t, s)
	c := newConnection(t, s, tn.ID)
	st := &store.OAuthState{
		Hash: hash(uniq("state")), TenantID: tn.ID, ConnectionID: c.ID, RedirectTo: "/connections/x",
		ExpiresAt: time.Now().Add(10 * time.Minute).UTC().Truncate(time.Microsecond),
	}
	if err := s.CreateOAuthState(ctx, st); err != nil {
		t.Fatalf("CreateOAuthState = %v", err)
	}
	if st.CreatedAt.IsZero() {
		t.Error("CreateOAuthState left CreatedAt zero")
	}
	wantErr(t, "CreateOAuthState(duplicate hash)", s.CreateOAuthState(ctx, st), store.ErrConflict)
	foreign := *st
	foreign.Hash, foreign.TenantID = hash(uniq("state")), other.ID
	wantErr(t, "CreateOAuthState(connection of another tenant)", s.CreateOAuthState(ctx, &foreign), store.ErrNotFound)
	ghost := *st
	ghost.Hash, ghost.ConnectionID = hash(uniq("state")), uniq("conn")
	wantErr(t, "CreateOAuthState(unknown connection)", s.CreateOAuthState(ctx, &ghost), store.ErrNotFound)

	got, err := s.ConsumeOAuthState(ctx, st.Hash)
	if err != nil {
		t.Fatalf("ConsumeOAuthState = %v", err)
	}
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("ConsumeOAuthState mismatch (-want +got):\n%s", diff)
	}
	_, err = s.ConsumeOAuthState(ctx, st.Hash)
	wantErr(t, "ConsumeOAuthState(replayed)", err, store.ErrNotFound)

	// Deleting the connection takes its pending states with it.
	st2 := &store.OAuthState{Hash: hash(uniq("state")), TenantID: tn.ID, ConnectionID: c.ID, ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.CreateOAuthState(ctx, st2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConnection(ctx, tn.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.ConsumeOAuthState(ctx, st2.Hash)
	wantErr(t, "ConsumeOAuthState(state of a deleted connection)", err, store.ErrNotFound)
}

func testOAuthStateConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	tn := newTenant(t, s1)
	c := newConnection(t, s1, tn.ID)
	for round := range 5 {
		st := &store.OAuthState{Hash: hash(uniq("state")), TenantID: tn.ID, ConnectionID: c.ID, ExpiresAt: time.Now().Add(time.Minute)}
		if err := s1.CreateOAuthState(t.Context(), st); err != nil {
			t.Fatal(err)
		}
		var wins, misses atomic.Int32
		var wg sync.WaitGroup
		for i := range 16 {
			s := s1
			if i%2 == 1 {
				s = s2
			}
			wg.Go(func() {
				_, err := s.ConsumeOAuthState(t.Context(), st.Hash)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, store.ErrNotFound):
					misses.Add(1)
				default:
					t.Errorf("ConsumeOAuthState = %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || misses.Load() != 15 {
			t.Fatalf("round %d: %d consumers won and %d got ErrNotFound, want 1 and 15", round, wins.Load(), misses.Load())
		}
	}
}

// assertHashOnly fails t when s can dump itself and the dump holds any of
// secrets in the clear.
func assertHashOnly(t *testing.T, s store.Store, secrets ...string) {
	t.Helper()
	d, ok := s.(Dumper)
	if !ok {
		return
	}
	dump, err := d.Dump(t.Context())
	if err != nil {
		t.Fatalf("Dump = %v", err)
	}
	AssertNoPlaintext(t, dump, secrets...)
}

func testLoginLinks(t *testing.T, open func(t *testing.T) store.Store) {
	s, other := open(t), open(t) // a second handle plays another replica
	ctx := t.Context()
	tn := newTenant(t, s)
	now := time.Now().UTC().Truncate(time.Microsecond)
	token := uniq("login-token-canary")
	l := &store.LoginLink{Hash: hash(token), TenantID: tn.ID, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateLoginLink(ctx, l); err != nil {
		t.Fatalf("CreateLoginLink = %v", err)
	}
	if l.CreatedAt.IsZero() {
		t.Error("CreateLoginLink left CreatedAt zero")
	}
	assertHashOnly(t, s, token)
	wantErr(t, "CreateLoginLink(duplicate hash)", s.CreateLoginLink(ctx, l), store.ErrConflict)
	ghost := &store.LoginLink{Hash: hash(uniq("login")), TenantID: uniq("tenant"), ExpiresAt: now.Add(time.Hour)}
	wantErr(t, "CreateLoginLink(unknown tenant)", s.CreateLoginLink(ctx, ghost), store.ErrNotFound)

	_, err := other.ConsumeLoginLink(ctx, hash(uniq("login")), now)
	wantErr(t, "ConsumeLoginLink(unknown)", err, store.ErrNotFound)
	got, err := other.ConsumeLoginLink(ctx, l.Hash, now)
	if err != nil {
		t.Fatalf("ConsumeLoginLink = %v", err)
	}
	if diff := cmp.Diff(l, got); diff != "" {
		t.Errorf("ConsumeLoginLink mismatch (-want +got):\n%s", diff)
	}
	_, err = s.ConsumeLoginLink(ctx, l.Hash, now)
	wantErr(t, "ConsumeLoginLink(replayed)", err, store.ErrNotFound)

	// An expired link is refused, and gone afterwards.
	old := &store.LoginLink{Hash: hash(uniq("login")), TenantID: tn.ID, ExpiresAt: now.Add(time.Minute)}
	if err := s.CreateLoginLink(ctx, old); err != nil {
		t.Fatal(err)
	}
	_, err = s.ConsumeLoginLink(ctx, old.Hash, old.ExpiresAt)
	wantErr(t, "ConsumeLoginLink(at expiry)", err, store.ErrNotFound)
	_, err = s.ConsumeLoginLink(ctx, old.Hash, now)
	wantErr(t, "ConsumeLoginLink(after an expired attempt)", err, store.ErrNotFound)
}

func testLoginLinkConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	tn := newTenant(t, s1)
	for round := range 5 {
		l := &store.LoginLink{Hash: hash(uniq("login")), TenantID: tn.ID, ExpiresAt: time.Now().Add(time.Minute)}
		if err := s1.CreateLoginLink(t.Context(), l); err != nil {
			t.Fatal(err)
		}
		var wins, misses atomic.Int32
		var wg sync.WaitGroup
		for i := range 16 {
			s := s1
			if i%2 == 1 {
				s = s2
			}
			wg.Go(func() {
				got, err := s.ConsumeLoginLink(t.Context(), l.Hash, time.Now())
				switch {
				case err == nil && got.TenantID == tn.ID:
					wins.Add(1)
				case errors.Is(err, store.ErrNotFound):
					misses.Add(1)
				default:
					t.Errorf("ConsumeLoginLink = %v, %v", got, err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || misses.Load() != 15 {
			t.Fatalf("round %d: %d consumers won and %d got ErrNotFound, want 1 and 15", round, wins.Load(), misses.Load())
		}
	}
}

func testSessions(t *testing.T, open func(t *testing.T) store.Store) {
	s, other := open(t), open(t) // a second handle plays another replica
	ctx := t.Context()
	tn := newTenant(t, s)
	now := time.Now().UTC().Truncate(time.Microsecond)
	id := uniq("session-id-canary")
	sess := &store.Session{Hash: hash(id), TenantID: tn.ID, CSRF: uniq("csrf"), ExpiresAt: now.Add(12 * time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatalf("CreateSession = %v", err)
	}
	if sess.CreatedAt.IsZero() {
		t.Error("CreateSession left CreatedAt zero")
	}
	assertHashOnly(t, s, id)
	wantErr(t, "CreateSession(duplicate hash)", s.CreateSession(ctx, sess), store.ErrConflict)
	ghost := &store.Session{Hash: hash(uniq("session")), TenantID: uniq("tenant"), CSRF: "x", ExpiresAt: now.Add(time.Hour)}
	wantErr(t, "CreateSession(unknown tenant)", s.CreateSession(ctx, ghost), store.ErrNotFound)

	// Every handle sees the session, as often as asked, until it expires.
	for range 2 {
		got, err := other.GetSession(ctx, sess.Hash, now)
		if err != nil {
			t.Fatalf("GetSession = %v", err)
		}
		if diff := cmp.Diff(sess, got); diff != "" {
			t.Errorf("GetSession mismatch (-want +got):\n%s", diff)
		}
	}
	if _, err := other.GetSession(ctx, sess.Hash, sess.ExpiresAt.Add(-time.Microsecond)); err != nil {
		t.Errorf("GetSession(just before expiry) = %v", err)
	}
	_, err := other.GetSession(ctx, sess.Hash, sess.ExpiresAt)
	wantErr(t, "GetSession(at expiry)", err, store.ErrNotFound)
	_, err = other.GetSession(ctx, hash(uniq("session")), now)
	wantErr(t, "GetSession(unknown)", err, store.ErrNotFound)

	// The tenant's live sessions are listed, newest first; expired ones
	// and other tenants' are not.
	older := &store.Session{Hash: hash(uniq("session")), TenantID: tn.ID, CSRF: "c2", ExpiresAt: now.Add(time.Hour), CreatedAt: now.Add(-time.Hour)}
	expired := &store.Session{Hash: hash(uniq("session")), TenantID: tn.ID, CSRF: "c3", ExpiresAt: now.Add(-time.Second), CreatedAt: now.Add(-2 * time.Hour)}
	otherTenant := &store.Session{Hash: hash(uniq("session")), TenantID: newTenant(t, s).ID, CSRF: "c4", ExpiresAt: now.Add(time.Hour)}
	for _, x := range []*store.Session{older, expired, otherTenant} {
		if err := s.CreateSession(ctx, x); err != nil {
			t.Fatalf("CreateSession = %v", err)
		}
	}
	list, err := other.ListSessions(ctx, tn.ID, now)
	if err != nil {
		t.Fatalf("ListSessions = %v", err)
	}
	if len(list) != 2 || !bytes.Equal(list[0].Hash, sess.Hash) || !bytes.Equal(list[1].Hash, older.Hash) || list[1].CSRF != "c2" {
		t.Errorf("ListSessions = %d sessions, want the live two of the tenant, newest first", len(list))
	}

	// Signing out on one handle ends the session on every handle.
	if err := other.DeleteSession(ctx, sess.Hash); err != nil {
		t.Fatalf("DeleteSession = %v", err)
	}
	_, err = s.GetSession(ctx, sess.Hash, now)
	wantErr(t, "GetSession(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteSession(deleted)", s.DeleteSession(ctx, sess.Hash), store.ErrNotFound)
}

func idemKey(tenantID string) store.IdemKey {
	return store.IdemKey{TenantID: tenantID, ConnectionID: uniq("conn"), Action: "tickets.create", Key: uniq("idem")}
}

func testIdempotency(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	key := idemKey(tn.ID)
	exp := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Microsecond)
	rec := &store.IdemRecord{IdemKey: key, InputHash: hash("input"), ExpiresAt: exp}
	got, created, err := s.BeginIdempotent(ctx, rec)
	if err != nil || !created {
		t.Fatalf("BeginIdempotent = created %v, %v; want created", created, err)
	}
	if got.State != store.IdemPending || got.CreatedAt.IsZero() || !got.ExpiresAt.Equal(exp) {
		t.Errorf("BeginIdempotent = state %q, CreatedAt %v, ExpiresAt %v", got.State, got.CreatedAt, got.ExpiresAt)
	}
	first := *got

	again, created, err := s.BeginIdempotent(ctx, &store.IdemRecord{IdemKey: key, InputHash: hash("other input"), ExpiresAt: exp})
	if err != nil || created {
		t.Fatalf("second BeginIdempotent = created %v, %v; want the existing record", created, err)
	}
	if diff := cmp.Diff(&first, again); diff != "" {
		t.Errorf("second BeginIdempotent mismatch (-want +got):\n%s", diff)
	}

	// Another key part makes another record.
	sibling := key
	sibling.Action = "tickets.update"
	if _, created, err := s.BeginIdempotent(ctx, &store.IdemRecord{IdemKey: sibling, ExpiresAt: exp}); err != nil || !created {
		t.Errorf("BeginIdempotent(other action) = created %v, %v; want created", created, err)
	}

	result := []byte(`{"id":"123"}`)
	if err := s.FinishIdempotent(ctx, key, "", store.IdemSucceeded, result); err != nil {
		t.Fatalf("FinishIdempotent = %v", err)
	}
	got, err = s.GetIdempotent(ctx, key)
	if err != nil {
		t.Fatalf("GetIdempotent = %v", err)
	}
	if got.State != store.IdemSucceeded || !bytes.Equal(got.Result, result) || !bytes.Equal(got.InputHash, hash("input")) ||
		!got.CreatedAt.Equal(first.CreatedAt) || got.UpdatedAt.Before(first.UpdatedAt) {
		t.Errorf("GetIdempotent after finish = %+v", got)
	}
	again, created, err = s.BeginIdempotent(ctx, &store.IdemRecord{IdemKey: key, ExpiresAt: exp})
	if err != nil || created || again.State != store.IdemSucceeded || !bytes.Equal(again.Result, result) {
		t.Errorf("BeginIdempotent after finish = %+v, created %v, %v; want the succeeded record", again, created, err)
	}

	if err := s.DeleteIdempotent(ctx, key, ""); err != nil {
		t.Fatalf("DeleteIdempotent = %v", err)
	}
	_, err = s.GetIdempotent(ctx, key)
	wantErr(t, "GetIdempotent(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteIdempotent(deleted)", s.DeleteIdempotent(ctx, key, ""), store.ErrNotFound)
	wantErr(t, "FinishIdempotent(deleted)", s.FinishIdempotent(ctx, key, "", store.IdemFailed, nil), store.ErrNotFound)
	if _, created, err := s.BeginIdempotent(ctx, &store.IdemRecord{IdemKey: key, ExpiresAt: exp}); err != nil || !created {
		t.Errorf("BeginIdempotent after delete = created %v, %v; want created", created, err)
	}

	// Other tenants never see the record.
	foreign := key
	foreign.TenantID = newTenant(t, s).ID
	_, err = s.GetIdempotent(ctx, foreign)
	wantErr(t, "GetIdempotent(other tenant)", err, store.ErrNotFound)
}

// testIdempotencySettle checks the background settling queue: only
// dispatched, unheld, pending or unknown records with a SettleInput that are
// due are listed; DeferSettle counts attempts, reschedules and can drop the
// input.
func testIdempotencySettle(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	exp := time.Now().Add(24 * time.Hour)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mk := func(name string, input []byte, dispatch bool, state store.IdemState) store.IdemKey {
		k := idemKey(tn.ID)
		k.Key = name
		if _, created, err := s.BeginIdempotent(ctx, &store.IdemRecord{IdemKey: k, InputHash: hash(name), ExpiresAt: exp,
			Owner: "o-" + name, HeartbeatAt: t0, SettleInput: input}); err != nil || !created {
			t.Fatalf("BeginIdempotent(%s) = %v, %v", name, created, err)
		}
		if dispatch {
			if err := s.DispatchIdempotent(ctx, k, "o-"+name, t0); err != nil {
				t.Fatal(err)
			}
		}
		if state != store.IdemPending {
			if err := s.FinishIdempotent(ctx, k, "o-"+name, state, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
		}
		return k
	}
	unknown := mk("unknown", []byte("sealed-1"), true, store.IdemUnknown)
	crashed := mk("crashed", []byte("sealed-2"), true, store.IdemPending)
	mk("never-dispatched", []byte("sealed-3"), false, store.IdemPending)
	mk("no-input", nil, true, store.IdemUnknown)
	mk("succeeded", []byte("sealed-4"), true, store.IdemSucceeded)

	list := func(q store.SettleQuery) []string {
		t.Helper()
		q.Limit = 100
		recs, err := s.ListSettleable(ctx, q)
		if err != nil {
			t.Fatalf("ListSettleable = %v", err)
		}
		var names []string
		for _, r := range recs {
			if r.TenantID == tn.ID {
				names = append(names, r.Key)
			}
		}
		sort.Strings(names)
		return names
	}
	later := t0.Add(time.Hour)
	// The crashed record's lease is still live at t0: only the unknown one.
	if got := list(store.SettleQuery{Now: later, HeldBefore: t0, DispatchedBefore: t0}); !slices.Equal(got, []string{"unknown"}) {
		t.Errorf("with live leases: %v, want [unknown]", got)
	}
	// Dispatched too recently: nothing.
	if got := list(store.SettleQuery{Now: later, HeldBefore: later, DispatchedBefore: t0.Add(-time.Second)}); len(got) != 0 {
		t.Errorf("dispatched after the cut-off: %v, want none", got)
	}
	if got := list(store.SettleQuery{Now: later, HeldBefore: later, DispatchedBefore: later}); !slices.Equal(got, []string{"crashed", "unknown"}) {
		t.Errorf("due: %v, want [crashed unknown]", got)
	}
	recs, _ := s.ListSettleable(ctx, store.SettleQuery{Now: later, HeldBefore: later, DispatchedBefore: later, Limit: 1})
	if len(recs) != 1 {
		t.Errorf("Limit 1 gave %d records", len(recs))
	}

	// Deferring reschedules and counts; the owner must match.
	wantErr(t, "DeferSettle(not the owner)", s.DeferSettle(ctx, unknown, "someone", later, false), store.ErrNotFound)
	next := later.Add(time.Minute)
	if err := s.DeferSettle(ctx, unknown, "o-unknown", next, false); err != nil {
		t.Fatalf("DeferSettle = %v", err)
	}
	got, err := s.GetIdempotent(ctx, unknown)
	if err != nil || got.SettleAttempts != 1 || !got.NextSettleAt.Equal(next) || string(got.SettleInput) != "sealed-1" {
		t.Fatalf("after DeferSettle: %+v, %v; want 1 attempt, next %v, input kept", got, err, next)
	}
	if got := list(store.SettleQuery{Now: later, HeldBefore: later, DispatchedBefore: later}); !slices.Equal(got, []string{"crashed"}) {
		t.Errorf("before its next time: %v, want [crashed]", got)
	}
	if got := list(store.SettleQuery{Now: next, HeldBefore: later, DispatchedBefore: later}); !slices.Equal(got, []string{"crashed", "unknown"}) {
		t.Errorf("at its next time: %v, want [crashed unknown]", got)
	}
	// Dropping the input takes the record off the queue for good.
	if err := s.DeferSettle(ctx, crashed, "o-crashed", later, true); err != nil {
		t.Fatalf("DeferSettle(drop) = %v", err)
	}
	if got, err := s.GetIdempotent(ctx, crashed); err != nil || got.SettleInput != nil || got.SettleAttempts != 1 {
		t.Fatalf("after drop: %+v, %v", got, err)
	}
	if got := list(store.SettleQuery{Now: next, HeldBefore: later, DispatchedBefore: later}); !slices.Equal(got, []string{"unknown"}) {
		t.Errorf("after drop: %v, want [unknown]", got)
	}
}

// testIdempotencyLease checks the owner lease of a record: only the owner
// renews, dispatches, finishes or deletes it; a claim is a compare-and-swap
// on (owner, heartbeat) that keeps DispatchedAt, and the old owner loses
// every right once it is claimed.
func testIdempotencyLease(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	key := idemKey(tn.ID)
	exp := time.Now().Add(24 * time.Hour)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 678_901_000, time.UTC)
	rec, created, err := s.BeginIdempotent(ctx, &store.IdemRecord{IdemKey: key, InputHash: hash("in"), ExpiresAt: exp, Owner: "a", HeartbeatAt: t0})
	if err != nil || !created {
		t.Fatalf("BeginIdempotent = created %v, %v", created, err)
	}
	if rec.Owner != "a" || !rec.HeartbeatAt.Equal(t0) || !rec.DispatchedAt.IsZero() {
		t.Errorf("BeginIdempotent = owner %q heartbeat %v dispatched %v; want a, %v, zero", rec.Owner, rec.HeartbeatAt, rec.DispatchedAt, t0)
	}
	got, err := s.GetIdempotent(ctx, key)
	if err != nil || got.Owner != "a" || !got.HeartbeatAt.Equal(t0) || !got.DispatchedAt.IsZero() {
		t.Fatalf("GetIdempotent = %+v, %v; want owner a, heartbeat %v, not dispatched", got, err, t0)
	}

	t1 := t0.Add(time.Second)
	if err := s.HeartbeatIdempotent(ctx, key, "a", t1); err != nil {
		t.Fatalf("HeartbeatIdempotent(owner) = %v", err)
	}
	wantErr(t, "HeartbeatIdempotent(not the owner)", s.HeartbeatIdempotent(ctx, key, "b", t1), store.ErrNotFound)
	wantErr(t, "DispatchIdempotent(not the owner)", s.DispatchIdempotent(ctx, key, "b", t1), store.ErrNotFound)
	wantErr(t, "FinishIdempotent(not the owner)", s.FinishIdempotent(ctx, key, "b", store.IdemSucceeded, nil), store.ErrNotFound)
	wantErr(t, "DeleteIdempotent(not the owner)", s.DeleteIdempotent(ctx, key, "b"), store.ErrNotFound)
	// A claim that read an older heartbeat loses: the owner is alive.
	wantErr(t, "ClaimIdempotent(stale read)", s.ClaimIdempotent(ctx, key, "a", t0, "b", t1), store.ErrConflict)

	t2 := t1.Add(time.Second)
	if err := s.DispatchIdempotent(ctx, key, "a", t2); err != nil {
		t.Fatalf("DispatchIdempotent(owner) = %v", err)
	}
	// A second dispatch (a retried attempt) keeps the first time.
	if err := s.DispatchIdempotent(ctx, key, "a", t2.Add(time.Hour)); err != nil {
		t.Fatalf("second DispatchIdempotent = %v", err)
	}
	got, err = s.GetIdempotent(ctx, key)
	if err != nil || !got.DispatchedAt.Equal(t2) || !got.HeartbeatAt.Equal(t1) {
		t.Fatalf("after dispatch = %+v, %v; want dispatched %v, heartbeat %v", got, err, t2, t1)
	}

	// The lease lapses; b claims it with what it read.
	t3 := t2.Add(time.Minute)
	if err := s.ClaimIdempotent(ctx, key, got.Owner, got.HeartbeatAt, "b", t3); err != nil {
		t.Fatalf("ClaimIdempotent = %v", err)
	}
	got, err = s.GetIdempotent(ctx, key)
	if err != nil || got.Owner != "b" || !got.HeartbeatAt.Equal(t3) || !got.DispatchedAt.Equal(t2) || got.State != store.IdemPending {
		t.Fatalf("after claim = %+v, %v; want owner b, heartbeat %v, dispatched %v, pending", got, err, t3, t2)
	}
	wantErr(t, "HeartbeatIdempotent(old owner)", s.HeartbeatIdempotent(ctx, key, "a", t3), store.ErrNotFound)
	wantErr(t, "DispatchIdempotent(old owner)", s.DispatchIdempotent(ctx, key, "a", t3), store.ErrNotFound)
	wantErr(t, "FinishIdempotent(old owner)", s.FinishIdempotent(ctx, key, "a", store.IdemSucceeded, nil), store.ErrNotFound)
	wantErr(t, "DeleteIdempotent(old owner)", s.DeleteIdempotent(ctx, key, "a"), store.ErrNotFound)

	// Finishing releases the lease; a finished record can no longer be
	// renewed or dispatched, and unknown can be claimed from its released
	// lease (zero heartbeat).
	if err := s.FinishIdempotent(ctx, key, "b", store.IdemUnknown, []byte(`{"code":"unavailable"}`)); err != nil {
		t.Fatalf("FinishIdempotent(unknown) = %v", err)
	}
	got, err = s.GetIdempotent(ctx, key)
	if err != nil || got.State != store.IdemUnknown || !got.HeartbeatAt.IsZero() || !got.DispatchedAt.Equal(t2) {
		t.Fatalf("after finish = %+v, %v; want unknown, zero heartbeat, dispatched %v", got, err, t2)
	}
	wantErr(t, "HeartbeatIdempotent(finished)", s.HeartbeatIdempotent(ctx, key, "b", t3), store.ErrNotFound)
	wantErr(t, "DispatchIdempotent(finished)", s.DispatchIdempotent(ctx, key, "b", t3), store.ErrNotFound)
	if err := s.ClaimIdempotent(ctx, key, "b", time.Time{}, "c", t3); err != nil {
		t.Fatalf("ClaimIdempotent(unknown) = %v", err)
	}
	if err := s.FinishIdempotent(ctx, key, "c", store.IdemSucceeded, []byte(`{"id":"1"}`)); err != nil {
		t.Fatalf("FinishIdempotent(settled) = %v", err)
	}
	// A succeeded record is never claimed.
	wantErr(t, "ClaimIdempotent(succeeded)", s.ClaimIdempotent(ctx, key, "c", time.Time{}, "d", t3), store.ErrConflict)
	if err := s.DeleteIdempotent(ctx, key, "c"); err != nil {
		t.Fatalf("DeleteIdempotent(owner) = %v", err)
	}
	wantErr(t, "ClaimIdempotent(gone)", s.ClaimIdempotent(ctx, key, "c", time.Time{}, "d", t3), store.ErrNotFound)
}

// testIdempotencyConcurrentClaim checks that of two stores claiming the
// same lapsed lease at once exactly one wins.
func testIdempotencyConcurrentClaim(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	tn := newTenant(t, s1)
	t0 := time.Now().Add(-time.Hour)
	for round := range 5 {
		key := idemKey(tn.ID)
		if _, created, err := s1.BeginIdempotent(t.Context(), &store.IdemRecord{IdemKey: key, ExpiresAt: time.Now().Add(time.Hour), Owner: "dead", HeartbeatAt: t0}); err != nil || !created {
			t.Fatalf("BeginIdempotent = created %v, %v", created, err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			s := []store.Store{s1, s2}[i%2]
			wg.Go(func() {
				err := s.ClaimIdempotent(t.Context(), key, "dead", t0, fmt.Sprintf("claimer-%d", i), time.Now())
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("ClaimIdempotent = %v, want nil or ErrConflict", err)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Errorf("round %d: %d claims won, want exactly 1", round, n)
		}
	}
}

func testIdempotencyExpiry(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	key := idemKey(tn.ID)
	past := time.Now().Add(-time.Minute)
	if _, created, err := s.BeginIdempotent(ctx, &store.IdemRecord{IdemKey: key, ExpiresAt: past}); err != nil || !created {
		t.Fatalf("BeginIdempotent = created %v, %v", created, err)
	}
	_, err := s.GetIdempotent(ctx, key)
	wantErr(t, "GetIdempotent(expired)", err, store.ErrNotFound)
	wantErr(t, "FinishIdempotent(expired)", s.FinishIdempotent(ctx, key, "", store.IdemSucceeded, nil), store.ErrNotFound)
	rec, created, err := s.BeginIdempotent(ctx, &store.IdemRecord{IdemKey: key, InputHash: hash("new"), ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil || !created || !bytes.Equal(rec.InputHash, hash("new")) {
		t.Errorf("BeginIdempotent over an expired record = created %v, %v; want a new record", created, err)
	}
}

func testIdempotencyConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	tn := newTenant(t, s1)
	for round := range 5 {
		key := idemKey(tn.ID)
		var creators atomic.Int32
		var wg sync.WaitGroup
		for i := range 16 {
			s := s1
			if i%2 == 1 {
				s = s2
			}
			wg.Go(func() {
				rec, created, err := s.BeginIdempotent(t.Context(), &store.IdemRecord{
					IdemKey: key, InputHash: hash(fmt.Sprint(i)), ExpiresAt: time.Now().Add(time.Hour)})
				if err != nil {
					t.Errorf("BeginIdempotent = %v", err)
					return
				}
				if rec.State != store.IdemPending {
					t.Errorf("BeginIdempotent state = %q, want pending", rec.State)
				}
				if created {
					creators.Add(1)
				}
			})
		}
		wg.Wait()
		if n := creators.Load(); n != 1 {
			t.Fatalf("round %d: %d callers created the record, want exactly 1", round, n)
		}
	}
}

func testPurgeExpired(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	c := newConnection(t, s, tn.ID)
	now := time.Now()
	soon, later := now.Add(30*time.Minute), now.Add(2*time.Hour)
	mkState := func(exp time.Time) []byte {
		h := hash(uniq("state"))
		if err := s.CreateOAuthState(ctx, &store.OAuthState{Hash: h, TenantID: tn.ID, ConnectionID: c.ID, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	mkIdem := func(exp time.Time) store.IdemKey {
		k := idemKey(tn.ID)
		if _, _, err := s.BeginIdempotent(ctx, &store.IdemRecord{IdemKey: k, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		return k
	}
	mkLink := func(exp time.Time) []byte {
		h := hash(uniq("login"))
		if err := s.CreateLoginLink(ctx, &store.LoginLink{Hash: h, TenantID: tn.ID, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	mkSession := func(exp time.Time) []byte {
		h := hash(uniq("session"))
		if err := s.CreateSession(ctx, &store.Session{Hash: h, TenantID: tn.ID, CSRF: "csrf", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	stSoon, stLater := mkState(soon), mkState(later)
	idSoon, idLater := mkIdem(soon), mkIdem(later)
	lnSoon, lnLater := mkLink(soon), mkLink(later)
	ssSoon, ssLater := mkSession(soon), mkSession(later)

	if err := s.PurgeExpired(ctx, now.Add(time.Hour)); err != nil {
		t.Fatalf("PurgeExpired = %v", err)
	}
	_, err := s.ConsumeOAuthState(ctx, stSoon)
	wantErr(t, "ConsumeOAuthState(purged)", err, store.ErrNotFound)
	if _, err := s.ConsumeOAuthState(ctx, stLater); err != nil {
		t.Errorf("ConsumeOAuthState(live) = %v", err)
	}
	_, err = s.GetIdempotent(ctx, idSoon)
	wantErr(t, "GetIdempotent(purged)", err, store.ErrNotFound)
	if _, err := s.GetIdempotent(ctx, idLater); err != nil {
		t.Errorf("GetIdempotent(live) = %v", err)
	}
	// Purged rows are gone even for a caller whose clock says they are
	// still live (now, before their expiry).
	_, err = s.ConsumeLoginLink(ctx, lnSoon, now)
	wantErr(t, "ConsumeLoginLink(purged)", err, store.ErrNotFound)
	if _, err := s.ConsumeLoginLink(ctx, lnLater, now); err != nil {
		t.Errorf("ConsumeLoginLink(live) = %v", err)
	}
	_, err = s.GetSession(ctx, ssSoon, now)
	wantErr(t, "GetSession(purged)", err, store.ErrNotFound)
	if _, err := s.GetSession(ctx, ssLater, now); err != nil {
		t.Errorf("GetSession(live) = %v", err)
	}
}

func testSettings(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	name := uniq("setting")
	_, err := s.GetSetting(ctx, name)
	wantErr(t, "GetSetting(unset)", err, store.ErrNotFound)
	for _, v := range []string{"https://one.example", "https://two.example"} {
		if err := s.PutSetting(ctx, name, v); err != nil {
			t.Fatalf("PutSetting = %v", err)
		}
		if got, err := s.GetSetting(ctx, name); err != nil || got != v {
			t.Errorf("GetSetting = %q, %v; want %q", got, err, v)
		}
	}
	if got, err := open(t).GetSetting(ctx, name); err != nil || got != "https://two.example" {
		t.Errorf("GetSetting on another handle = %q, %v", got, err)
	}
}

func testPurgeAudit(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn, other := newTenant(t, s), newTenant(t, s)
	now := time.Now().UTC().Truncate(time.Microsecond)
	cutoff := now.Add(-90 * 24 * time.Hour)
	add := func(tenantID string, at time.Time) {
		if err := s.AppendAudit(ctx, &store.AuditRecord{Time: at, TenantID: tenantID, ConnectionID: "c",
			Action: "create_ticket", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	add(tn.ID, cutoff.Add(-time.Hour))
	add(other.ID, cutoff.Add(-24*time.Hour))
	add(tn.ID, cutoff) // exactly at the cutoff: kept
	add(tn.ID, now)
	n, err := s.PurgeAudit(ctx, cutoff)
	if err != nil {
		t.Fatalf("PurgeAudit = %v", err)
	}
	if n != 2 {
		t.Errorf("PurgeAudit deleted %d records, want 2 (one per tenant)", n)
	}
	for _, tc := range []struct {
		tenant string
		want   []time.Time
	}{{tn.ID, []time.Time{now, cutoff}}, {other.ID, nil}} {
		got, err := s.ListAudit(ctx, store.AuditFilter{TenantID: tc.tenant})
		if err != nil {
			t.Fatal(err)
		}
		var times []time.Time
		for _, r := range got {
			times = append(times, r.Time)
		}
		if diff := cmp.Diff(tc.want, times); diff != "" {
			t.Errorf("audit left after the purge (-want +got):\n%s", diff)
		}
	}
	if n, err := s.PurgeAudit(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second PurgeAudit = %d, %v; want 0, nil", n, err)
	}
}

// testAuditConcurrent: records appended at once (the stores commit them in
// shared transactions) each get their own id and are all kept, with their
// write marks, by the time each append returns.
func testAuditConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	conn := uniq("conn")
	const n = 24
	recs := make([]*store.AuditRecord, n)
	errs := make(chan error, n)
	for i := range recs {
		recs[i] = &store.AuditRecord{TenantID: tn.ID, APIKeyID: "key_1", ConnectionID: conn, Action: "create_ticket",
			Outcome: "ok", Detail: fmt.Sprint("ticket ", i)}
		if i%2 == 0 {
			recs[i].Writes = []store.WriteMark{{Key: fmt.Sprint("ticket/", i)}}
		}
		go func() {
			err := s.AppendAudit(ctx, recs[i])
			if err == nil {
				// Committed when AppendAudit returns: its marks are found.
				for _, m := range recs[i].Writes {
					got, merr := s.MatchWrites(ctx, conn, []string{m.Key})
					if merr != nil || got[m.Key] == nil {
						err = fmt.Errorf("MatchWrites(%s) after AppendAudit returned = %v, %v", m.Key, got, merr)
					}
				}
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("AppendAudit = %v", err)
		}
	}
	ids := map[int64]bool{}
	for _, r := range recs {
		if r.ID == 0 || ids[r.ID] {
			t.Fatalf("AppendAudit set id %d, already given or zero (ids so far %v)", r.ID, ids)
		}
		ids[r.ID] = true
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{TenantID: tn.ID, Limit: 2 * n})
	if err != nil {
		t.Fatalf("ListAudit = %v", err)
	}
	byID := map[int64]*store.AuditRecord{}
	for _, r := range got {
		byID[r.ID] = r
	}
	for _, r := range recs {
		g := byID[r.ID]
		if g == nil || g.Detail != r.Detail || !g.Time.Equal(r.Time) {
			t.Errorf("record %d (%s): listed as %+v", r.ID, r.Detail, g)
		}
	}
	if len(got) != n {
		t.Errorf("ListAudit = %d records, want %d", len(got), n)
	}
}

func testAudit(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn, other := newTenant(t, s), newTenant(t, s)
	c1, c2 := uniq("conn"), uniq("conn")
	var recs []*store.AuditRecord
	for i, conn := range []string{c1, c2, c1} {
		r := &store.AuditRecord{
			TenantID: tn.ID, APIKeyID: "key_1", ConnectionID: conn, Action: "tickets.create",
			Outcome: "ok", ZohoRequestID: fmt.Sprint("req-", i), Duration: time.Duration(i+1) * 1500 * time.Microsecond,
			Detail: fmt.Sprint("ticket ", i),
		}
		if err := s.AppendAudit(ctx, r); err != nil {
			t.Fatalf("AppendAudit = %v", err)
		}
		if r.ID == 0 || r.Time.IsZero() {
			t.Errorf("AppendAudit set ID %d, Time %v", r.ID, r.Time)
		}
		recs = append(recs, r)
	}
	if err := s.AppendAudit(ctx, &store.AuditRecord{TenantID: other.ID, ConnectionID: c1, Action: "x", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{TenantID: tn.ID})
	if err != nil {
		t.Fatalf("ListAudit = %v", err)
	}
	want := []*store.AuditRecord{recs[2], recs[1], recs[0]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListAudit (newest first) mismatch (-want +got):\n%s", diff)
	}
	got, err = s.ListAudit(ctx, store.AuditFilter{TenantID: tn.ID, ConnectionID: c1, Limit: 1})
	if err != nil {
		t.Fatalf("ListAudit(filter) = %v", err)
	}
	if diff := cmp.Diff([]*store.AuditRecord{recs[2]}, got); diff != "" {
		t.Errorf("ListAudit(connection, limit 1) mismatch (-want +got):\n%s", diff)
	}
	// Filters by action, outcome and key, and pages by id.
	extra := []*store.AuditRecord{
		{TenantID: tn.ID, APIKeyID: "key_2", ConnectionID: c2, Action: "tickets.trash", Outcome: "forbidden", Detail: "denied"},
		{TenantID: tn.ID, APIKeyID: "key_2", ConnectionID: c1, Action: "tickets.create", Outcome: "invalid"},
	}
	for _, r := range extra {
		if err := s.AppendAudit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(rs []*store.AuditRecord) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want []int64
	}{
		{"action", store.AuditFilter{Action: "tickets.trash"}, []int64{extra[0].ID}},
		{"outcome", store.AuditFilter{Outcome: "ok"}, []int64{recs[2].ID, recs[1].ID, recs[0].ID}},
		{"key", store.AuditFilter{APIKeyID: "key_2"}, []int64{extra[1].ID, extra[0].ID}},
		{"key and connection", store.AuditFilter{APIKeyID: "key_2", ConnectionID: c1}, []int64{extra[1].ID}},
		{"first page", store.AuditFilter{Limit: 2}, []int64{extra[1].ID, extra[0].ID}},
		{"next page", store.AuditFilter{Limit: 2, BeforeID: extra[0].ID}, []int64{recs[2].ID, recs[1].ID}},
		{"last page", store.AuditFilter{Limit: 2, BeforeID: recs[1].ID}, []int64{recs[0].ID}},
	} {
		tc.f.TenantID = tn.ID
		got, err := s.ListAudit(ctx, tc.f)
		if err != nil {
			t.Fatalf("ListAudit(%s) = %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
			t.Errorf("ListAudit(%s) ids (-want +got):\n%s", tc.name, diff)
		}
	}
	got, _ = s.ListAudit(ctx, store.AuditFilter{TenantID: other.ID})
	if len(got) != 1 || got[0].TenantID != other.ID {
		t.Errorf("ListAudit(other tenant) = %d records, want its 1", len(got))
	}
	if _, err := s.ListAudit(ctx, store.AuditFilter{}); err == nil {
		t.Error("ListAudit without a tenant succeeded, want an error")
	}
}

func testRefreshLockExclusion(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	conn := uniq("conn")
	var inside, maxInside, runs atomic.Int32
	var wg sync.WaitGroup
	const perHandle = 6
	for i := range 2 * perHandle {
		s := s1
		if i%2 == 1 {
			s = s2
		}
		wg.Go(func() {
			err := s.WithRefreshLock(t.Context(), conn, func(ctx context.Context) error {
				n := inside.Add(1)
				for {
					m := maxInside.Load()
					if n <= m || maxInside.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(3 * time.Millisecond)
				runs.Add(1)
				inside.Add(-1)
				return nil
			})
			if err != nil {
				t.Errorf("WithRefreshLock = %v", err)
			}
		})
	}
	wg.Wait()
	if maxInside.Load() != 1 || runs.Load() != 2*perHandle {
		t.Fatalf("fn ran %d times with up to %d at once; want %d runs, never overlapping", runs.Load(), maxInside.Load(), 2*perHandle)
	}

	sentinel := errors.New("refresh failed")
	if err := s1.WithRefreshLock(t.Context(), conn, func(context.Context) error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("WithRefreshLock = %v, want fn's error", err)
	}
}

func testRefreshLockPerConnection(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	a, b := uniq("conn"), uniq("conn")
	bRan := make(chan struct{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- s2.WithRefreshLock(ctx, b, func(context.Context) error { close(bRan); return nil })
	}()
	// While a's lock is held, b's must still be available.
	err := s1.WithRefreshLock(ctx, a, func(ctx context.Context) error {
		select {
		case <-bRan:
			return nil
		case <-ctx.Done():
			return errors.New("b's lock was blocked by a's")
		}
	})
	if err != nil {
		t.Fatalf("WithRefreshLock(a) = %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("WithRefreshLock(b) = %v", err)
	}
}

func testRefreshLockContext(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	conn := uniq("conn")
	held, release := make(chan struct{}), make(chan struct{})
	holderCtx, cancelHolder := context.WithCancel(t.Context())
	holderErr := make(chan error, 1)
	go func() {
		holderErr <- s1.WithRefreshLock(holderCtx, conn, func(ctx context.Context) error {
			close(held)
			select {
			case <-ctx.Done(): // the holder's ctx ends while fn runs
				return ctx.Err()
			case <-release:
				return errors.New("released without cancellation")
			}
		})
	}()
	<-held
	defer close(release)

	// Waiters on both handles give up when their ctx ends, without running fn.
	for i, s := range []store.Store{s1, s2} {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		ran := false
		err := s.WithRefreshLock(ctx, conn, func(context.Context) error { ran = true; return nil })
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || ran {
			t.Errorf("handle %d: waiting WithRefreshLock = %v (fn ran: %v), want DeadlineExceeded without running fn", i+1, err, ran)
		}
	}

	cancelHolder()
	if err := <-holderErr; !errors.Is(err, context.Canceled) {
		t.Errorf("WithRefreshLock after its ctx was cancelled = %v, want context.Canceled", err)
	}
	// The lock is free again, for this process and for another.
	for i, s := range []store.Store{s2, s1} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		ran := false
		err := s.WithRefreshLock(ctx, conn, func(context.Context) error { ran = true; return nil })
		cancel()
		if err != nil || !ran {
			t.Errorf("handle %d: WithRefreshLock after release = %v (fn ran: %v)", 2-i, err, ran)
		}
	}
}

// testAPIKeyScope: a key's scope (read-only, one connection, some actions,
// expiry) is stored and returned by LookupAPIKey and ListAPIKeys; a key
// without one has the zero scope.
func testAPIKeyScope(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	expires := time.Date(2031, 5, 6, 7, 8, 9, 123456000, time.UTC)
	scoped := &store.APIKey{TenantID: tn.ID, Name: "agent", Hash: hash(uniq("dk")), Prefix: "dk_sco",
		ReadOnly: true, ConnectionID: uniq("conn"), Actions: []string{"get_ticket", "list_tickets"}, ExpiresAt: expires}
	plain := &store.APIKey{TenantID: tn.ID, Name: "admin", Hash: hash(uniq("dk")), Prefix: "dk_pla"}
	for _, k := range []*store.APIKey{scoped, plain} {
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("CreateAPIKey = %v", err)
		}
	}
	got, err := s.LookupAPIKey(ctx, scoped.Hash)
	if err != nil {
		t.Fatalf("LookupAPIKey = %v", err)
	}
	if !got.ReadOnly || got.ConnectionID != scoped.ConnectionID || !got.ExpiresAt.Equal(expires) ||
		store.JoinActions(got.Actions) != "get_ticket,list_tickets" {
		t.Errorf("LookupAPIKey scope = read-only %v, connection %q, actions %v, expires %v; want %v, %q, %v, %v",
			got.ReadOnly, got.ConnectionID, got.Actions, got.ExpiresAt, true, scoped.ConnectionID, scoped.Actions, expires)
	}
	list, err := s.ListAPIKeys(ctx, tn.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListAPIKeys = %d keys, %v", len(list), err)
	}
	if !list[0].ReadOnly || len(list[0].Actions) != 2 || list[0].ExpiresAt.IsZero() {
		t.Errorf("ListAPIKeys lost the scope: %+v", list[0])
	}
	if p := list[1]; p.ReadOnly || p.ConnectionID != "" || p.Actions != nil || !p.ExpiresAt.IsZero() {
		t.Errorf("unscoped key has scope: %+v", p)
	}
}
