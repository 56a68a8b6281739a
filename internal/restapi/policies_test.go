package restapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/restapi"
)

func decodePolicies(t *testing.T, r actResp) map[string]action.PolicyEntry {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var l restapi.PolicyList
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("decode: %v\n%s", err, r.body)
	}
	out := map[string]action.PolicyEntry{}
	for _, e := range l.Policies {
		out[e.Action] = e
	}
	return out
}

func TestPoliciesDefaultsSetAndEnforced(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	const path = "/v1/connections/main/policies"

	got := decodePolicies(t, e.do(t, http.MethodGet, path, e.keyA, nil, nil))
	for name, want := range map[string]action.PolicyEntry{
		"echo":      {Action: "echo", Kind: "read", Policy: action.PolicyAllow, Default: action.PolicyAllow},
		"make_note": {Action: "make_note", Kind: "write", Policy: action.PolicyAllow, Default: action.PolicyAllow},
		"burn_note": {Action: "burn_note", Kind: "destructive", Policy: action.PolicyConfirm, Default: action.PolicyConfirm},
	} {
		if got[name] != want {
			t.Errorf("default %s = %+v, want %+v", name, got[name], want)
		}
	}

	got = decodePolicies(t, e.do(t, http.MethodPut, path, e.keyA, strings.NewReader(`{"policies":{"make_note":"deny","burn_note":"allow"}}`), nil))
	if p := got["make_note"]; p.Policy != action.PolicyDeny || !p.Set {
		t.Errorf("make_note after PUT = %+v, want deny, set", p)
	}
	again := decodePolicies(t, e.do(t, http.MethodGet, path, e.keyA, nil, nil))
	if again["burn_note"].Policy != action.PolicyAllow || again["echo"].Set {
		t.Errorf("GET after PUT = %+v", again)
	}

	r := e.run(t, "main", "make_note", `{"note":"hi"}`, nil)
	if r.status != http.StatusForbidden || !strings.Contains(r.problem(t).Detail, "deny") {
		t.Errorf("denied action: status %d, body %s", r.status, r.body)
	}
	if n := e.writes.Load(); n != 0 {
		t.Errorf("a denied write ran %d times", n)
	}
	if r := e.run(t, "main", "burn_note", `{"note":"hi"}`, nil); r.status != http.StatusOK {
		t.Errorf("allowed destructive action without confirm: status %d, body %s", r.status, r.body)
	}

	// A preset replaces every explicit policy.
	got = decodePolicies(t, e.do(t, http.MethodPut, path, e.keyA, strings.NewReader(`{"preset":"read-only"}`), nil))
	if got["make_note"].Policy != action.PolicyDeny || got["burn_note"].Policy != action.PolicyDeny || got["echo"].Policy != action.PolicyAllow {
		t.Errorf("read-only preset = %+v", got)
	}
	// {} resets to the defaults.
	got = decodePolicies(t, e.do(t, http.MethodPut, path, e.keyA, strings.NewReader(`{"policies":{}}`), nil))
	if got["burn_note"].Policy != action.PolicyConfirm || got["burn_note"].Set {
		t.Errorf("after reset burn_note = %+v", got["burn_note"])
	}
}

func TestPoliciesRefusals(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	for _, tc := range []struct {
		name, body string
		status     int
		pointers   []string
	}{
		{"unknown action and policy", `{"policies":{"nope":"allow","make_note":"maybe"}}`, 400, []string{"/policies/make_note", "/policies/nope"}},
		{"unknown preset", `{"preset":"everything"}`, 400, []string{"/preset"}},
		{"both", `{"preset":"read-only","policies":{}}`, 400, []string{"/preset"}},
		{"neither", `{}`, 400, []string{"/policies"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, http.MethodPut, "/v1/connections/main/policies", e.keyA, strings.NewReader(tc.body), nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			p := r.problem(t)
			var ptrs []string
			for _, f := range p.Errors {
				ptrs = append(ptrs, f.Pointer)
			}
			if strings.Join(ptrs, ",") != strings.Join(tc.pointers, ",") {
				t.Errorf("pointers %v, want %v (%s)", ptrs, tc.pointers, r.body)
			}
		})
	}
	// Another tenant's connection is not found, and stays untouched.
	if r := e.do(t, http.MethodPut, "/v1/connections/other/policies", e.keyA, strings.NewReader(`{"preset":"read-only"}`), nil); r.status != http.StatusNotFound {
		t.Errorf("other tenant: status %d, body %s", r.status, r.body)
	}
	c, err := e.st.GetConnection(t.Context(), e.tenantB.ID, e.connB.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Policies) != 0 {
		t.Errorf("other tenant's policies changed: %v", c.Policies)
	}
	if r := e.do(t, http.MethodGet, "/v1/connections/main/policies", "", nil, nil); r.status != http.StatusUnauthorized {
		t.Errorf("no key: status %d", r.status)
	}
}
