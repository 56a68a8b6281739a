package cli

import (
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/seal"
)

func TestKeysReseal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	oldKey := h.key
	for _, name := range []string{"support", "billing"} {
		if res := h.run("connections", "add", name, "--client-id", hClientID); res.code != 0 {
			t.Fatalf("add %s: %s", name, res.stderr)
		}
	}
	h.connectOK("support") // billing stays pending: only its client secret is sealed
	refresh, _ := h.tokens(h.keyring(), "support")

	newKey, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	h.addCanary(newKey.Encode())

	// Without the old key nothing can be opened: reseal fails and changes nothing.
	h.setenv("DESKCONN_SECRET_KEY", newKey.Encode())
	if res := h.run("keys", "reseal"); res.code == 0 {
		t.Fatalf("reseal without the old key: exit 0: %q", res.stdout)
	}
	assertSealedBy(t, h, oldKey.ID(), "support", "billing")

	h.setenv("DESKCONN_SECRET_KEY", newKey.Encode()+","+oldKey.Encode())
	res := h.run("keys", "reseal")
	if res.code != 0 || !strings.Contains(res.stdout, "re-sealed 2 connection(s) under key "+newKey.ID()) {
		t.Fatalf("reseal: exit %d: %q %s", res.code, res.stdout, res.stderr)
	}
	assertSealedBy(t, h, newKey.ID(), "support", "billing")
	if res := h.run("keys", "reseal"); res.code != 0 || !strings.Contains(res.stdout, "re-sealed 0 connection(s)") {
		t.Fatalf("second reseal: exit %d: %q %s", res.code, res.stdout, res.stderr)
	}

	// The old key can go: the connection still works, refresh included.
	h.setenv("DESKCONN_SECRET_KEY", newKey.Encode())
	h.emu.ExpireAccessTokens()
	before := h.emu.Counters().TokenRequests[refresh]
	run := h.runStdin(`{"orgId":"2389290","ticketId":"1892000000042032"}`, "run", "get_ticket", "--connection", "support", "--input", "-")
	if run.code != 0 || !strings.Contains(run.stdout, "1892000000042032") {
		t.Fatalf("run get_ticket after reseal: exit %d: %q %s", run.code, run.stdout, run.stderr)
	}
	if n := h.emu.Counters().TokenRequests[refresh] - before; n != 1 {
		t.Errorf("%d refreshes with the re-sealed refresh token, want 1", n)
	}
	newKR, err := seal.NewKeyring(newKey)
	if err != nil {
		t.Fatal(err)
	}
	h.tokens(newKR, "support") // the refreshed access token joins the canaries
	if res := h.run("connections", "show", "support"); res.code != 0 || !strings.Contains(res.stdout, "Status:        active") {
		t.Errorf("show after reseal: exit %d: %q %s", res.code, res.stdout, res.stderr)
	}
}

// assertSealedBy checks with seal.KeyID on the raw rows that every sealed
// column of the default tenant's connections names was sealed by keyID.
func assertSealedBy(t *testing.T, h *harness, keyID string, names ...string) {
	t.Helper()
	st := h.openStore()
	for _, name := range names {
		c := h.conn(st, "default", name)
		cols := map[string][]byte{"client_secret": c.SealedClientSecret, "refresh_token": c.SealedRefreshToken, "access_token": c.SealedAccessToken}
		for col, b := range cols {
			if len(b) == 0 {
				if col == "client_secret" || c.Status == "active" {
					t.Errorf("%s.%s is empty", name, col)
				}
				continue
			}
			id, err := seal.KeyID(b)
			if err != nil || id != keyID {
				t.Errorf("%s.%s sealed by %q (%v), want %q", name, col, id, err, keyID)
			}
		}
	}
}
