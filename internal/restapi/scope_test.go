package restapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/store"
)

// scopedKey creates a key of tenant A with scope.
func scopedKey(t *testing.T, e *actEnv, scope apikey.Scope) deskconn.Secret {
	t.Helper()
	k, _, err := apikey.New(e.st).CreateScoped(t.Context(), e.tenantA.ID, "scoped", scope)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestScopedKeys(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	second := &store.Connection{TenantID: e.tenantA.ID, Name: "second", ClientID: "1000.Y", Status: store.StatusActive,
		Location: "us", AccountsServer: "https://accounts.zoho.com", DeskBaseURL: "https://desk.zoho.com/api/v1", OrgID: "333"}
	if err := e.st.CreateConnection(t.Context(), second); err != nil {
		t.Fatal(err)
	}
	readOnly := scopedKey(t, e, apikey.Scope{ReadOnly: true, ConnectionID: e.connA.ID})
	onlyEcho := scopedKey(t, e, apikey.Scope{Actions: []string{"echo"}})
	post := func(key deskconn.Secret, conn, action, body string) actResp {
		return e.do(t, http.MethodPost, "/v1/connections/"+conn+"/actions/"+action, key, strings.NewReader(body), nil)
	}

	for _, tc := range []struct {
		name       string
		r          actResp
		status     int
		detailPart string
	}{
		{"read-only key reads", post(readOnly, "main", "echo", `{"text":"hi"}`), 200, ""},
		{"read-only key writes", post(readOnly, "main", "make_note", `{"note":"x"}`), 403, "this API key is read-only"},
		{"read-only key dry-runs a write", post(readOnly, "main", "make_note", `{"note":"x","dryRun":true}`), 403, "this API key is read-only"},
		{"read-only key on another connection", post(readOnly, "second", "echo", `{"text":"hi"}`), 403, `limited to connection "main"`},
		{"actions key runs its action", post(onlyEcho, "second", "echo", `{"text":"hi"}`), 200, ""},
		{"actions key runs another", post(onlyEcho, "main", "make_note", `{"note":"x"}`), 403, "may run only echo"},
		{"limited key changes policies", e.do(t, http.MethodPut, "/v1/connections/main/policies", readOnly, strings.NewReader(`{"preset":"read-only"}`), nil), 403, "read-only: it cannot change policies"},
		{"limited key deletes a connection", e.do(t, http.MethodDelete, "/v1/connections/main", onlyEcho, nil, nil), 403, "limited (actions echo)"},
		{"limited key creates a connection", e.do(t, http.MethodPost, "/v1/connections", readOnly, strings.NewReader(`{"name":"x","clientId":"1000.Z","clientSecret":"s"}`), nil), 403, "read-only"},
		{"connection key reads another connection", e.do(t, http.MethodGet, "/v1/connections/second", readOnly, nil, nil), 403, `limited to connection "main"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", tc.r.status, tc.status, tc.r.body)
			}
			if tc.detailPart != "" {
				if p := tc.r.problem(t); p.Code != deskconn.CodeForbidden || !strings.Contains(p.Detail, tc.detailPart) {
					t.Errorf("problem %s %q, want forbidden naming %q", p.Code, p.Detail, tc.detailPart)
				}
			}
		})
	}
	if n := e.writes.Load(); n != 0 {
		t.Errorf("refused writes ran %d times", n)
	}
	if _, err := e.st.GetConnection(t.Context(), e.tenantA.ID, e.connA.ID); err != nil {
		t.Errorf("the connection a limited key tried to delete: %v", err)
	}
	// A key limited to one connection lists only it.
	r := e.do(t, http.MethodGet, "/v1/connections", readOnly, nil, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"main"`) || strings.Contains(string(r.body), `"second"`) {
		t.Errorf("list with a connection key: %d %s", r.status, r.body)
	}
}

func TestExpiredKeyRefused(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	now := time.Now()
	key, _, err := apikey.New(e.st).CreateScoped(t.Context(), e.tenantA.ID, "short", apikey.Scope{ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apikey.NewWithClock(e.st, func() time.Time { return now }).AuthenticateKey(t.Context(), key.Reveal()); err != nil {
		t.Errorf("before expiry: %v", err)
	}
	_, err = apikey.NewWithClock(e.st, func() time.Time { return now.Add(time.Hour) }).AuthenticateKey(t.Context(), key.Reveal())
	if deskconn.ErrorCode(err) != deskconn.CodeUnauthenticated || !strings.Contains(err.Error(), "expired") {
		t.Errorf("at expiry: %v, want unauthenticated naming the expiry", err)
	}
	if _, _, err := apikey.New(e.st).CreateScoped(t.Context(), e.tenantA.ID, "past", apikey.Scope{ExpiresAt: now.Add(-time.Minute)}); deskconn.ErrorCode(err) != deskconn.CodeInvalid {
		t.Errorf("an expiry in the past: %v, want invalid", err)
	}
	if _, _, err := apikey.New(e.st).CreateScoped(t.Context(), e.tenantA.ID, "bad", apikey.Scope{Actions: []string{"a,b"}}); deskconn.ErrorCode(err) != deskconn.CodeInvalid {
		t.Errorf("an action with a comma: %v, want invalid", err)
	}
}
