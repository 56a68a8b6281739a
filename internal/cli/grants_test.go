package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

func TestGrantsListAndRevoke(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.createKey("ci") // creates the default tenant
	st := h.openStore()
	tn, err := st.GetTenantByName(t.Context(), "default")
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Connection{TenantID: tn.ID, Name: "support", ClientID: "1000.X", Status: store.StatusActive}
	if err := st.CreateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	g := &store.MCPGrant{TenantID: tn.ID, ConnectionID: c.ID, ClientID: "mcpc_1", ClientName: "Claude", RedirectURI: "https://claude.ai/cb",
		Resource: "http://127.0.0.1:1/mcp/support", ReadOnly: true, Toolset: "tickets"}
	if err := st.CreateMCPGrant(t.Context(), g); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateMCPToken(t.Context(), &store.MCPToken{Hash: []byte("0123456789abcdef0123456789abcdef"), GrantID: g.ID, Kind: store.MCPRefresh, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	list := h.run("grants", "list")
	if list.code != 0 || !strings.Contains(list.stdout, g.ID) || !strings.Contains(list.stdout, "Claude") || !strings.Contains(list.stdout, "read-only, toolset tickets") {
		t.Fatalf("grants list = %d %q %q", list.code, list.stdout, list.stderr)
	}
	if other := h.run("grants", "list", "--tenant", "acme"); strings.Contains(other.stdout, g.ID) {
		t.Errorf("another tenant's list shows the grant: %q", other.stdout)
	}
	if res := h.run("grants", "revoke", g.ID); res.code != 0 || !strings.Contains(res.stdout, "revoked") {
		t.Fatalf("grants revoke = %d %q %q", res.code, res.stdout, res.stderr)
	}
	if got, err := st.GetMCPGrant(t.Context(), tn.ID, g.ID); err != nil || got.RevokedAt.IsZero() {
		t.Errorf("grant after revoke = %+v, %v", got, err)
	}
	if list := h.run("grants", "list"); strings.Contains(list.stdout, g.ID) {
		t.Errorf("revoked grant still listed: %q", list.stdout)
	}
	if res := h.run("grants", "revoke", g.ID); res.code == 0 || !strings.Contains(res.stderr, "grants list") {
		t.Errorf("revoking again = %d %q, want a not-found error", res.code, res.stderr)
	}
}
