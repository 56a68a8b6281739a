package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/google/go-cmp/cmp"
)

// RunMCPAuth runs the acceptance suite of store.MCPAuthStore: clients,
// grants and the single use of codes and refresh tokens. open is as for
// Run.
func RunMCPAuth(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"Clients", testMCPClients},
		{"Grants", testMCPGrants},
		{"Tokens", testMCPTokens},
		{"TokenUseConcurrent", testMCPTokenUseConcurrent},
		{"Cascade", testMCPCascade},
	}
	t.Run("mcpauth", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				tt.fn(t, open)
			})
		}
	})
}

func testMCPClients(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	c := &store.MCPClient{ID: uniq("mcpc"), Name: "Agent", RedirectURIs: []string{"https://agent.example/cb", "http://127.0.0.1:9/cb"}}
	if err := s.CreateMCPClient(ctx, c); err != nil {
		t.Fatalf("CreateMCPClient = %v", err)
	}
	got, err := s.GetMCPClient(ctx, c.ID)
	if err != nil {
		t.Fatalf("GetMCPClient = %v", err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("GetMCPClient (-want +got):\n%s", diff)
	}
	wantErr(t, "CreateMCPClient(duplicate)", s.CreateMCPClient(ctx, &store.MCPClient{ID: c.ID, Name: "x"}), store.ErrConflict)
	_, err = s.GetMCPClient(ctx, uniq("mcpc"))
	wantErr(t, "GetMCPClient(missing)", err, store.ErrNotFound)
}

func newMCPGrant(t *testing.T, s store.Store, tenantID, connID string) *store.MCPGrant {
	t.Helper()
	g := &store.MCPGrant{TenantID: tenantID, ConnectionID: connID, ClientID: "https://agent.example/client.json",
		ClientName: "Agent", RedirectURI: "https://agent.example/cb", Resource: "https://dc.example/mcp/" + connID,
		ReadOnly: true, Toolset: "tickets"}
	if err := s.CreateMCPGrant(t.Context(), g); err != nil {
		t.Fatalf("CreateMCPGrant = %v", err)
	}
	return g
}

func testMCPGrants(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn, other := newTenant(t, s), newTenant(t, s)
	c, oc := newConnection(t, s, tn.ID), newConnection(t, s, other.ID)
	g := newMCPGrant(t, s, tn.ID, c.ID)
	if g.ID == "" || g.CreatedAt.IsZero() {
		t.Fatalf("CreateMCPGrant left ID %q, CreatedAt %v", g.ID, g.CreatedAt)
	}
	got, err := s.GetMCPGrant(ctx, tn.ID, g.ID)
	if err != nil {
		t.Fatalf("GetMCPGrant = %v", err)
	}
	if diff := cmp.Diff(g, got); diff != "" {
		t.Errorf("GetMCPGrant (-want +got):\n%s", diff)
	}
	if _, err := s.GetMCPGrant(ctx, "", g.ID); err != nil {
		t.Errorf("GetMCPGrant(any tenant) = %v", err)
	}
	_, err = s.GetMCPGrant(ctx, other.ID, g.ID)
	wantErr(t, "GetMCPGrant(other tenant)", err, store.ErrNotFound)
	// Another tenant's connection is refused.
	err = s.CreateMCPGrant(ctx, &store.MCPGrant{TenantID: tn.ID, ConnectionID: oc.ID, ClientID: "c", Resource: "r"})
	wantErr(t, "CreateMCPGrant(other tenant's connection)", err, store.ErrNotFound)

	g2 := newMCPGrant(t, s, tn.ID, c.ID)
	// A grant holding only a code is not listed; one with tokens is.
	for i, gr := range []*store.MCPGrant{g, g2, g2} {
		kind := store.MCPAccess
		if i == 1 {
			kind = store.MCPCode
		}
		if err := s.CreateMCPToken(ctx, &store.MCPToken{Hash: hash(uniq("t")), GrantID: gr.ID, Kind: kind, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if l, _ := s.ListMCPGrants(ctx, tn.ID); len(l) != 1 || l[0].ID != g.ID {
				t.Errorf("ListMCPGrants with a code-only grant = %v, want only %s", l, g.ID)
			}
		}
	}
	list, err := s.ListMCPGrants(ctx, tn.ID)
	if err != nil || len(list) != 2 || list[0].ID != g.ID || list[1].ID != g2.ID {
		t.Fatalf("ListMCPGrants = %v, %v; want [%s %s]", list, err, g.ID, g2.ID)
	}
	if l, _ := s.ListMCPGrants(ctx, other.ID); len(l) != 0 {
		t.Errorf("ListMCPGrants(other tenant) = %d grants, want 0", len(l))
	}
	wantErr(t, "RevokeMCPGrant(other tenant)", s.RevokeMCPGrant(ctx, other.ID, g.ID, time.Now()), store.ErrNotFound)
	at := time.Date(2026, 3, 4, 5, 6, 7, 8000, time.UTC)
	if err := s.RevokeMCPGrant(ctx, tn.ID, g.ID, at); err != nil {
		t.Fatalf("RevokeMCPGrant = %v", err)
	}
	wantErr(t, "RevokeMCPGrant(again)", s.RevokeMCPGrant(ctx, "", g.ID, at), store.ErrNotFound)
	got, err = s.GetMCPGrant(ctx, "", g.ID)
	if err != nil || !got.RevokedAt.Equal(at) {
		t.Errorf("GetMCPGrant(revoked) = %v, %v; want RevokedAt %v", got, err, at)
	}
	list, _ = s.ListMCPGrants(ctx, tn.ID)
	if len(list) != 1 || list[0].ID != g2.ID {
		t.Errorf("ListMCPGrants after revoke = %v, want only %s", list, g2.ID)
	}
}

func testMCPTokens(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	g := newMCPGrant(t, s, tn.ID, newConnection(t, s, tn.ID).ID)
	secret := "dkac_" + uniq("canary-code")
	exp := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	code := &store.MCPToken{Hash: hash(secret), GrantID: g.ID, Kind: store.MCPCode, CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", ExpiresAt: exp}
	if err := s.CreateMCPToken(ctx, code); err != nil {
		t.Fatalf("CreateMCPToken = %v", err)
	}
	wantErr(t, "CreateMCPToken(duplicate)", s.CreateMCPToken(ctx, &store.MCPToken{Hash: hash(secret), GrantID: g.ID, Kind: store.MCPCode, ExpiresAt: exp}), store.ErrConflict)
	wantErr(t, "CreateMCPToken(no grant)", s.CreateMCPToken(ctx, &store.MCPToken{Hash: hash(uniq("x")), GrantID: uniq("mcpg"), Kind: store.MCPAccess, ExpiresAt: exp}), store.ErrNotFound)
	got, err := s.GetMCPToken(ctx, hash(secret))
	if err != nil {
		t.Fatalf("GetMCPToken = %v", err)
	}
	if diff := cmp.Diff(code, got); diff != "" {
		t.Errorf("GetMCPToken (-want +got):\n%s", diff)
	}
	at := time.Date(2026, 5, 6, 7, 8, 9, 10000, time.UTC)
	got, first, err := s.UseMCPToken(ctx, hash(secret), at)
	if err != nil || !first || !got.UsedAt.Equal(at) {
		t.Fatalf("UseMCPToken = %v, %t, %v; want first use at %v", got, first, err, at)
	}
	got, first, err = s.UseMCPToken(ctx, hash(secret), at.Add(time.Minute))
	if err != nil || first || !got.UsedAt.Equal(at) {
		t.Errorf("UseMCPToken(replay) = %v, %t, %v; want not first, UsedAt %v", got, first, err, at)
	}
	_, _, err = s.UseMCPToken(ctx, hash(uniq("missing")), at)
	wantErr(t, "UseMCPToken(missing)", err, store.ErrNotFound)
	_, err = s.GetMCPToken(ctx, hash(uniq("missing")))
	wantErr(t, "GetMCPToken(missing)", err, store.ErrNotFound)
	assertHashOnly(t, s, secret)

	// PurgeExpired removes expired tokens only.
	old := &store.MCPToken{Hash: hash(uniq("old")), GrantID: g.ID, Kind: store.MCPAccess, ExpiresAt: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.CreateMCPToken(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := s.PurgeExpired(ctx, time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("PurgeExpired = %v", err)
	}
	_, err = s.GetMCPToken(ctx, old.Hash)
	wantErr(t, "GetMCPToken(purged)", err, store.ErrNotFound)
	if _, err := s.GetMCPToken(ctx, hash(secret)); err != nil {
		t.Errorf("GetMCPToken(live) after purge = %v", err)
	}
}

func testMCPTokenUseConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	tn := newTenant(t, s1)
	g := newMCPGrant(t, s1, tn.ID, newConnection(t, s1, tn.ID).ID)
	tok := &store.MCPToken{Hash: hash(uniq("refresh")), GrantID: g.ID, Kind: store.MCPRefresh, ExpiresAt: time.Now().Add(time.Hour)}
	if err := s1.CreateMCPToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	firsts := make(chan bool, n)
	for i := range n {
		s := s1
		if i%2 == 1 {
			s = s2
		}
		wg.Go(func() {
			_, first, err := s.UseMCPToken(ctx, tok.Hash, time.Now())
			if err != nil {
				t.Errorf("UseMCPToken = %v", err)
			}
			firsts <- first
		})
	}
	wg.Wait()
	close(firsts)
	count := 0
	for f := range firsts {
		if f {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d concurrent UseMCPToken calls were first, want exactly 1", count)
	}
}

func testMCPCascade(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	c := newConnection(t, s, tn.ID)
	g := newMCPGrant(t, s, tn.ID, c.ID)
	tok := &store.MCPToken{Hash: hash(uniq("access")), GrantID: g.ID, Kind: store.MCPAccess, ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateMCPToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConnection(ctx, tn.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetMCPGrant(ctx, "", g.ID)
	wantErr(t, "GetMCPGrant(connection deleted)", err, store.ErrNotFound)
	_, err = s.GetMCPToken(ctx, tok.Hash)
	wantErr(t, "GetMCPToken(connection deleted)", err, store.ErrNotFound)
}
