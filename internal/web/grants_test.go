package web_test

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// An MCP sign-in shows on the keys page beside the API keys, with its
// client, connection and access, and can be revoked there.
func TestGrantsOnKeysPage(t *testing.T) {
	t.Parallel()
	d := startConsoleDemo(t, false)
	b := signIn(t, d, d.LoginURL)
	ctx := t.Context()
	if _, body := b.get("/keys"); !strings.Contains(body, `id="no-grants"`) {
		t.Fatal("the keys page should say no MCP client signed in")
	}
	c, err := d.Manager.Get(ctx, d.TenantID, "demo")
	if err != nil {
		t.Fatal(err)
	}
	client := &store.MCPClient{ID: "mcpc_test", Name: "Claude test", RedirectURIs: []string{"https://claude.example/cb"}}
	if err := d.Store.CreateMCPClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	g := &store.MCPGrant{TenantID: d.TenantID, ConnectionID: c.ID, ClientID: client.ID, ClientName: client.Name,
		RedirectURI: "https://claude.example/cb", Resource: d.URL + "/mcp/demo", ReadOnly: true}
	if err := d.Store.CreateMCPGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("dkat_test-token"))
	if err := d.Store.CreateMCPToken(ctx, &store.MCPToken{Hash: h[:], GrantID: g.ID, Kind: store.MCPAccess, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	_, body := b.get("/keys")
	for _, want := range []string{`id="grant-` + g.ID + `"`, "Claude test", "claude.example", "demo</span> · read-only"} {
		if !strings.Contains(body, want) {
			t.Errorf("keys page lacks %q", want)
		}
	}
	if code, body := b.post("/grants/"+g.ID+"/revoke", nil); code != 200 || !strings.Contains(body, "MCP sign-in revoked") || strings.Contains(body, `id="grant-`+g.ID+`"`) {
		t.Fatalf("revoke: %d, want the notice and the grant gone", code)
	}
	if got, err := d.Store.GetMCPGrant(ctx, d.TenantID, g.ID); err != nil || got.RevokedAt.IsZero() {
		t.Fatalf("grant after revoke = %+v, %v; want revoked", got, err)
	}
	if code, _ := b.post("/grants/"+g.ID+"/revoke", nil); code != 404 {
		t.Errorf("revoking it again: %d, want 404", code)
	}
}
