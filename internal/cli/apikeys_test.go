package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/apikey"
)

var keyIDRE = regexp.MustCompile(`API key (\S+) \(`)

// createKey runs `apikeys create NAME ARGS...` and returns the key and its id.
func (h *harness) createKey(name string, args ...string) (key, id string) {
	h.t.Helper()
	res := h.run(append([]string{"apikeys", "create", name}, args...)...)
	if res.code != 0 {
		h.t.Fatalf("apikeys create: exit %d: %s", res.code, res.stderr)
	}
	key = strings.TrimSpace(res.stdout)
	if err := apikey.Check(key); err != nil || res.stdout != key+"\n" {
		h.t.Fatalf("apikeys create printed %q: want the key alone on stdout", res.stdout)
	}
	h.addAPIKey(key)
	m := keyIDRE.FindStringSubmatch(res.stderr)
	if m == nil || !strings.Contains(res.stderr, "shown only now") {
		h.t.Fatalf("apikeys create stderr %q", res.stderr)
	}
	return key, m[1]
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key, id := h.createKey("ci")
	acmeKey, acmeID := h.createKey("robot", "--tenant", "acme")
	if key == acmeKey || id == acmeID {
		t.Fatal("two creates returned the same key or id")
	}

	list := h.run("apikeys", "list")
	if list.code != 0 {
		t.Fatalf("list: exit %d: %s", list.code, list.stderr)
	}
	if !strings.Contains(list.stdout, id) || !strings.Contains(list.stdout, "ci") || !strings.Contains(list.stdout, key[:9]+"…") {
		t.Errorf("list %q lacks the id, name or prefix of the key", list.stdout)
	}
	if strings.Contains(list.stdout, key[:10]) {
		t.Errorf("list shows more than the prefix: %q", list.stdout)
	}
	if strings.Contains(list.stdout, acmeID) || strings.Contains(list.stdout, "robot") {
		t.Errorf("default tenant's list shows acme's key: %q", list.stdout)
	}
	if acme := h.run("apikeys", "list", "--tenant", "acme"); !strings.Contains(acme.stdout, acmeID) || strings.Contains(acme.stdout, id) {
		t.Errorf("acme's list %q", acme.stdout)
	}

	auth := func(k string) (string, error) {
		tenantID, _, err := apikey.New(h.openStore()).Authenticate(t.Context(), k)
		return tenantID, err
	}
	defTenant, err := auth(key)
	if err != nil {
		t.Fatalf("a fresh key does not authenticate: %v", err)
	}
	if acmeTenant, err := auth(acmeKey); err != nil || acmeTenant == defTenant {
		t.Fatalf("acme key: tenant %q (%v), default %q", acmeTenant, err, defTenant)
	}

	// Another tenant's key cannot be revoked, and revoking says nothing of it.
	res := h.run("apikeys", "revoke", acmeID)
	if res.code == 0 || !strings.Contains(res.stderr, "not_found") {
		t.Fatalf("revoke another tenant's key: exit %d: %s", res.code, res.stderr)
	}
	if _, err := auth(acmeKey); err != nil {
		t.Fatalf("acme key stopped working after a foreign revoke: %v", err)
	}

	if res := h.run("apikeys", "revoke", id); res.code != 0 || !strings.Contains(res.stdout, "API key "+id+" revoked") {
		t.Fatalf("revoke: exit %d: %q %s", res.code, res.stdout, res.stderr)
	}
	if _, err := auth(key); deskconn.ErrorCode(err) != deskconn.CodeUnauthenticated {
		t.Errorf("revoked key: %v, want unauthenticated", err)
	}
	if _, err := auth(acmeKey); err != nil {
		t.Errorf("acme key after revoking the default one: %v", err)
	}
	revoked := h.run("apikeys", "list")
	line := ""
	for _, l := range strings.Split(revoked.stdout, "\n") {
		if strings.HasPrefix(l, id) {
			line = l
		}
	}
	if f := strings.Fields(line); len(f) == 0 || f[len(f)-1] == "-" {
		t.Errorf("list after revoke shows no revocation time: %q", line)
	}

	if res := h.run("apikeys", "create", " "); res.code == 0 || !strings.Contains(res.stderr, "/name") {
		t.Errorf("create with a blank name: exit %d: %s", res.code, res.stderr)
	}
}
