package restapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
)

func TestActionCatalogue(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})

	r := e.do(t, http.MethodGet, "/v1/actions", e.keyA, nil, nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/actions: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var list restapi.ActionList
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range list.Actions {
		names = append(names, v.Name)
		a := e.reg.Lookup(v.Name)
		if a == nil {
			t.Fatalf("listed action %q is not in the registry", v.Name)
		}
		if diff := cmp.Diff(restapi.NewActionView(a), v, cmp.Comparer(jsonEqual)); diff != "" {
			t.Errorf("%s: view differs from the registry (-want +got):\n%s", v.Name, diff)
		}
	}
	if want := []string{"echo", "make_note", "burn_note", "fail", "attach", "hold", "blob"}; !cmp.Equal(names, want) {
		t.Errorf("names = %v, want %v (registry order)", names, want)
	}
	kinds := map[string]string{}
	for _, v := range list.Actions {
		kinds[v.Name] = v.Kind + "/" + v.DefaultPolicy
	}
	if kinds["echo"] != "read/allow" || kinds["make_note"] != "write/allow" || kinds["burn_note"] != "destructive/confirm" {
		t.Errorf("kinds/policies = %v", kinds)
	}

	r = e.do(t, http.MethodGet, "/v1/actions/make_note", e.keyA, nil, nil)
	var one restapi.ActionView
	if r.status != http.StatusOK {
		t.Fatalf("GET one: %d %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &one); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(one.InputSchema, e.reg.Lookup("make_note").InputSchemaJSON()) || !one.Write {
		t.Errorf("GET /v1/actions/make_note = %s", r.body)
	}

	r = e.do(t, http.MethodGet, "/v1/actions/nope", e.keyA, nil, nil)
	if p := r.problem(t); r.status != http.StatusNotFound || p.Code != deskconn.CodeNotFound || !strings.Contains(p.Detail, `"nope"`) {
		t.Errorf("unknown action: %d %+v", r.status, p)
	}
	r = e.do(t, http.MethodGet, "/v1/actions", "", nil, nil)
	if p := r.problem(t); r.status != http.StatusUnauthorized || p.Code != deskconn.CodeUnauthenticated {
		t.Errorf("no key: %d %+v", r.status, p)
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return cmp.Equal(x, y)
}

func TestRunAction(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})

	// By name and by id; the target carries the tenant, key and connection.
	for _, conn := range []string{"main", e.connA.ID} {
		r := e.run(t, conn, "echo", `{"text":"hi"}`, nil)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("run echo on %s: %d %s", conn, r.status, r.body)
		}
		got := r.json(t)
		if got["text"] != "hi" || got["tenant"] != e.tenantA.ID || got["connectionId"] != e.connA.ID || got["orgId"] != "111" || got["apiKeyId"] == "" {
			t.Errorf("echo on %s = %v", conn, got)
		}
	}

	// An empty body is the empty input: here it misses the required text.
	r := e.do(t, http.MethodPost, "/v1/connections/main/actions/echo", e.keyA, nil, nil)
	p := r.problem(t)
	if r.status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Pointer != "/text" {
		t.Errorf("empty body: %d %+v", r.status, p)
	}
}

// TestRunActionProblems checks the status and problem document for every
// kind of failure of POST /v1/connections/{connection}/actions/{action}.
func TestRunActionProblems(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	cases := []struct {
		name, conn, action, body string
		hdr                      map[string]string
		status                   int
		code                     deskconn.Code
		check                    func(t *testing.T, r actResp, p restapi.Problem)
	}{
		{name: "malformed JSON", conn: "main", action: "echo", body: `{"text":`, status: 400, code: deskconn.CodeInvalid},
		{name: "bad token", conn: "main", action: "echo", body: `{"text" "x"}`, status: 400, code: deskconn.CodeInvalid,
			check: func(t *testing.T, _ actResp, p restapi.Problem) {
				if !strings.Contains(p.Detail, "at byte") {
					t.Errorf("detail lacks the offset: %q", p.Detail)
				}
			}},
		{name: "trailing data", conn: "main", action: "echo", body: `{"text":"a"} {}`, status: 400, code: deskconn.CodeInvalid},
		{name: "not JSON media type", conn: "main", action: "echo", body: `{"text":"a"}`, hdr: map[string]string{"Content-Type": "text/plain"}, status: 415, code: deskconn.CodeInvalid},
		{name: "not an object", conn: "main", action: "echo", body: `[1]`, status: 422, code: deskconn.CodeInvalid},
		{name: "schema problems, all listed", conn: "main", action: "echo", body: `{"text":"","count":99,"extra":1}`, status: 422, code: deskconn.CodeInvalid,
			check: func(t *testing.T, _ actResp, p restapi.Problem) {
				got := map[string]string{}
				for _, f := range p.Errors {
					got[f.Pointer] = f.Code
					if f.Message == "" {
						t.Errorf("field problem %s has no detail", f.Pointer)
					}
				}
				if len(got) != 3 || got["/extra"] != "unknown" {
					t.Errorf("errors = %+v, want /text, /count and /extra (unknown)", p.Errors)
				}
			}},
		{name: "unknown action", conn: "main", action: "nope", body: `{}`, status: 404, code: deskconn.CodeNotFound},
		{name: "unknown connection", conn: "missing", action: "echo", body: `{"text":"a"}`, status: 404, code: deskconn.CodeNotFound},
		{name: "handler invalid keeps fields and upstream", conn: "main", action: "fail", body: `{"code":"invalid"}`, status: 422, code: deskconn.CodeInvalid,
			check: func(t *testing.T, _ actResp, p restapi.Problem) {
				if len(p.Errors) != 1 || p.Errors[0].Pointer != "/payload/subject" || p.Upstream == nil || p.Upstream.ErrorCode != "UNPROCESSABLE_ENTITY" || p.Upstream.RequestID != "zreq-1" {
					t.Errorf("problem = %+v", p)
				}
			}},
		{name: "ambiguous lists candidates", conn: "main", action: "fail", body: `{"code":"ambiguous"}`, status: 409, code: deskconn.CodeAmbiguous,
			check: func(t *testing.T, _ actResp, p restapi.Problem) {
				if len(p.Candidates) != 2 || p.Candidates[1].ID != "2" {
					t.Errorf("candidates = %+v", p.Candidates)
				}
			}},
		{name: "not_found", conn: "main", action: "fail", body: `{"code":"not_found"}`, status: 404, code: deskconn.CodeNotFound},
		{name: "conflict", conn: "main", action: "fail", body: `{"code":"conflict"}`, status: 409, code: deskconn.CodeConflict},
		{name: "unauthenticated", conn: "main", action: "fail", body: `{"code":"unauthenticated"}`, status: 401, code: deskconn.CodeUnauthenticated},
		{name: "needs_reauth", conn: "main", action: "fail", body: `{"code":"needs_reauth"}`, status: 424, code: deskconn.CodeNeedsReauth},
		{name: "forbidden", conn: "main", action: "fail", body: `{"code":"forbidden"}`, status: 403, code: deskconn.CodeForbidden},
		{name: "rate_limited sets Retry-After", conn: "main", action: "fail", body: `{"code":"rate_limited"}`, status: 429, code: deskconn.CodeRateLimited,
			check: func(t *testing.T, r actResp, p restapi.Problem) {
				if r.header.Get("Retry-After") != "2" || p.RetryAfter != 2 || p.Upstream == nil || p.Upstream.Status != 429 {
					t.Errorf("Retry-After %q, problem %+v", r.header.Get("Retry-After"), p)
				}
			}},
		{name: "unavailable", conn: "main", action: "fail", body: `{"code":"unavailable"}`, status: 503, code: deskconn.CodeUnavailable},
		{name: "internal hides the cause", conn: "main", action: "fail", body: `{"code":""}`, status: 500, code: deskconn.CodeInternal,
			check: func(t *testing.T, r actResp, p restapi.Problem) {
				if strings.Contains(string(r.body), "unexpected EOF") || p.Detail != "internal error" {
					t.Errorf("internal problem leaks its cause: %s", r.body)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.run(t, tc.conn, tc.action, tc.body, tc.hdr)
			p := r.problem(t)
			if r.status != tc.status || p.Code != tc.code {
				t.Fatalf("got %d %s, want %d %s: %s", r.status, p.Code, tc.status, tc.code, r.body)
			}
			if p.Type != "https://deskconn.dev/problems/"+string(tc.code) || p.Title != http.StatusText(tc.status) {
				t.Errorf("type %q title %q", p.Type, p.Title)
			}
			if r.header.Get("Retry-After") != "" && tc.code != deskconn.CodeRateLimited {
				t.Errorf("unexpected Retry-After on %s", tc.code)
			}
			if tc.check != nil {
				tc.check(t, r, p)
			}
		})
	}
}

// TestRunActionTenantIsolation: another tenant's connection, by name or by
// id, is answered exactly like a connection that does not exist.
func TestRunActionTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	missing := e.run(t, "no-such-connection", "echo", `{"text":"a"}`, nil)
	for _, conn := range []string{"other", e.connB.ID} {
		r := e.run(t, conn, "echo", `{"text":"a"}`, nil)
		p := r.problem(t)
		if r.status != http.StatusNotFound || p.Code != deskconn.CodeNotFound {
			t.Fatalf("tenant A on B's %s: %d %s", conn, r.status, r.body)
		}
		mp := missing.problem(t)
		if strings.ReplaceAll(p.Detail, conn, "X") != strings.ReplaceAll(mp.Detail, "no-such-connection", "X") {
			t.Errorf("detail differs from a missing connection's: %q vs %q", p.Detail, mp.Detail)
		}
	}
	// Tenant B reaches its own connection, and not A's.
	r := e.do(t, http.MethodPost, "/v1/connections/other/actions/echo", e.keyB, strings.NewReader(`{"text":"b"}`), nil)
	if r.status != http.StatusOK || r.json(t)["tenant"] != e.tenantB.ID {
		t.Errorf("tenant B on its own connection: %d %s", r.status, r.body)
	}
	r = e.do(t, http.MethodPost, "/v1/connections/main/actions/echo", e.keyB, strings.NewReader(`{"text":"b"}`), nil)
	if r.status != http.StatusNotFound {
		t.Errorf("tenant B on A's connection: %d %s", r.status, r.body)
	}
}

func TestRunActionConnectionStates(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	ctx := t.Context()
	for _, c := range []struct {
		name   string
		status store.ConnectionStatus
		want   int
		code   deskconn.Code
	}{
		{"dead", store.StatusNeedsReauth, http.StatusFailedDependency, deskconn.CodeNeedsReauth},
		{"fresh", store.StatusPending, http.StatusUnprocessableEntity, deskconn.CodeInvalid},
	} {
		conn := &store.Connection{TenantID: e.tenantA.ID, Name: c.name, ClientID: "1000.X", Status: c.status}
		if err := e.st.CreateConnection(ctx, conn); err != nil {
			t.Fatal(err)
		}
		r := e.run(t, c.name, "echo", `{"text":"a"}`, nil)
		if p := r.problem(t); r.status != c.want || p.Code != c.code || !strings.Contains(p.Detail, c.name) {
			t.Errorf("%s connection: %d %+v", c.status, r.status, p)
		}
	}
}

func TestRunActionIdempotencyHeader(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	key := map[string]string{restapi.IdempotencyKeyHeader: "k-123"}

	first := e.run(t, "main", "make_note", `{"note":"a"}`, key)
	again := e.run(t, "main", "make_note", `{"note":"a"}`, key)
	if first.status != 200 || again.status != 200 || string(first.body) != string(again.body) {
		t.Fatalf("replay: %d %s / %d %s", first.status, first.body, again.status, again.body)
	}
	if n := e.writes.Load(); n != 1 {
		t.Errorf("%d writes for one key, want 1", n)
	}
	// The same key in the body is the same key.
	inBody := e.run(t, "main", "make_note", `{"note":"a","idempotencyKey":"k-123"}`, nil)
	if string(inBody.body) != string(first.body) {
		t.Errorf("key in body: %s, want replay %s", inBody.body, first.body)
	}
	// Same key, other input: conflict.
	r := e.run(t, "main", "make_note", `{"note":"b"}`, key)
	if p := r.problem(t); r.status != http.StatusConflict || p.Code != deskconn.CodeConflict {
		t.Errorf("same key, other input: %d %+v", r.status, p)
	}
	// Header and body disagree: invalid, pointing at the body's key.
	r = e.run(t, "main", "make_note", `{"note":"a","idempotencyKey":"other"}`, key)
	if p := r.problem(t); r.status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Pointer != "/idempotencyKey" {
		t.Errorf("two keys: %d %+v", r.status, p)
	}
	// The key is per connection: tenant B's connection with the same key runs.
	r = e.do(t, http.MethodPost, "/v1/connections/other/actions/make_note", e.keyB, strings.NewReader(`{"note":"a"}`), key)
	if r.status != 200 || e.writes.Load() != 2 {
		t.Errorf("other tenant, same key: %d %s, writes %d", r.status, r.body, e.writes.Load())
	}
	// Without a key, every call writes.
	e.run(t, "main", "make_note", `{"note":"a"}`, nil)
	e.run(t, "main", "make_note", `{"note":"a"}`, nil)
	if n := e.writes.Load(); n != 4 {
		t.Errorf("writes = %d, want 4", n)
	}
}

func TestRunActionIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	const n = 20
	bodies := make([]string, n)
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := e.run(t, "main", "make_note", `{"note":"same"}`, map[string]string{restapi.IdempotencyKeyHeader: "concurrent"})
			bodies[i], statuses[i] = string(r.body), r.status
		})
	}
	wg.Wait()
	if w := e.writes.Load(); w != 1 {
		t.Fatalf("%d writes for %d concurrent requests with one key, want 1", w, n)
	}
	for i := range n {
		// A request that waited too long for the first may get conflict;
		// every success must be the first result.
		if statuses[i] == 200 && bodies[i] != bodies[0] && statuses[0] == 200 {
			t.Errorf("request %d got %s, want %s", i, bodies[i], bodies[0])
		}
		if statuses[i] != 200 && statuses[i] != http.StatusConflict {
			t.Errorf("request %d: %d %s", i, statuses[i], bodies[i])
		}
	}
}

func TestRunActionDryRunAndPolicy(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	r := e.run(t, "main", "make_note", `{"note":"a","dryRun":true}`, nil)
	got := r.json(t)
	if r.status != 200 || got["dryRun"] != true || got["action"] != "make_note" || e.writes.Load() != 0 {
		t.Fatalf("dry run: %d %s (writes %d)", r.status, r.body, e.writes.Load())
	}
	// A destructive action needs confirm under the default policy.
	r = e.run(t, "main", "burn_note", `{"note":"a"}`, nil)
	if p := r.problem(t); r.status != http.StatusForbidden || p.Code != deskconn.CodeForbidden || len(p.Errors) != 1 || p.Errors[0].Pointer != "/confirm" {
		t.Errorf("unconfirmed destructive: %d %+v", r.status, p)
	}
	r = e.run(t, "main", "burn_note", `{"note":"a","confirm":true}`, nil)
	if r.status != 200 || e.writes.Load() != 1 {
		t.Errorf("confirmed destructive: %d %s", r.status, r.body)
	}
	// A connection policy of deny refuses it.
	c := *e.connA
	c.Policies = map[string]string{"make_note": "deny"}
	if err := e.st.UpdateConnection(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	r = e.run(t, "main", "make_note", `{"note":"a"}`, nil)
	if p := r.problem(t); r.status != http.StatusForbidden || !strings.Contains(p.Detail, "deny") {
		t.Errorf("denied: %d %+v", r.status, p)
	}
}

func TestRunActionAudit(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	if r := e.run(t, "main", "make_note", `{"note":"secret-canary"}`, nil); r.status != 200 {
		t.Fatalf("run: %d %s", r.status, r.body)
	}
	recs, err := e.st.ListAudit(t.Context(), store.AuditFilter{TenantID: e.tenantA.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Action != "make_note" || recs[0].ConnectionID != e.connA.ID || recs[0].APIKeyID == "" || recs[0].Outcome != "ok" {
		t.Fatalf("audit = %+v", recs)
	}
	if strings.Contains(fmt.Sprintf("%+v", *recs[0]), "secret-canary") {
		t.Errorf("audit record holds input: %+v", *recs[0])
	}
}

func TestRunActionBodyCap(t *testing.T) {
	t.Parallel()
	const max = 1 << 10
	e := newActEnv(t, actOpts{maxBody: max})
	fits := `{"data":"` + strings.Repeat("a", max-20) + `"}`
	r := e.run(t, "main", "blob", fits, nil)
	if r.status != 200 || r.json(t)["size"] != float64(max-20) {
		t.Fatalf("body under the cap: %d %s", r.status, r.body)
	}
	over := `{"data":"` + strings.Repeat("a", max) + `"}`
	r = e.run(t, "main", "blob", over, nil)
	if p := r.problem(t); r.status != http.StatusRequestEntityTooLarge || p.Code != deskconn.CodeInvalid || !strings.Contains(p.Detail, fmt.Sprint(max)) {
		t.Errorf("body over the cap: %d %+v", r.status, p)
	}
	// Valid JSON followed by padding past the cap is also refused.
	r = e.run(t, "main", "blob", `{"data":"a"}`+strings.Repeat(" ", max), nil)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("padding over the cap: %d %s", r.status, r.body)
	}
	// Without a declared length (chunked), the cap applies as it streams.
	r = e.do(t, http.MethodPost, "/v1/connections/main/actions/blob", e.keyA, io.MultiReader(strings.NewReader(over)), nil)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked body over the cap: %d %s", r.status, r.body)
	}
}

func TestDefaultBodyCapFitsLargestAttachment(t *testing.T) {
	t.Parallel()
	const zohoMaxAttachment = egress.DefaultMaxBytes
	base64Len := (zohoMaxAttachment + 2) / 3 * 4
	if restapi.DefaultMaxActionBodyBytes < base64Len+64<<10 {
		t.Errorf("DefaultMaxActionBodyBytes %d cannot carry a %d-byte file as base64 (%d)", restapi.DefaultMaxActionBodyBytes, zohoMaxAttachment, base64Len)
	}
}

func TestMountActionsNeedsRegistry(t *testing.T) {
	t.Parallel()
	var s restapi.Server
	if err := s.MountActions(restapi.ActionsOptions{}); err == nil {
		t.Error("MountActions without a registry succeeded")
	}
}
