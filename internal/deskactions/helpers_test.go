package deskactions

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

// allScopes is every scope the actions need.
var allScopes = []string{
	"Desk.tickets.ALL", "Desk.settings.READ", "Desk.basic.READ", "Desk.contacts.READ",
	"Desk.settings.CREATE", "Desk.basic.CREATE", "Desk.settings.UPDATE", "Desk.basic.UPDATE",
	"Desk.search.READ", "Desk.products.READ", "Desk.contacts.CREATE", "Desk.contacts.UPDATE", "Desk.contacts.DELETE", "Desk.articles.READ",
}

// testSearchDelay is the emulator's search indexing delay in tests: longer
// than any test runs, so nothing a test writes is ever searchable.
const testSearchDelay = time.Hour

// fixedNow is the clock of the actions in tests.
var fixedNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// testEnv is one emulator, a client for it, and a registry of all actions.
type testEnv struct {
	emu    *emulator.Emulator
	reg    *action.Registry
	target action.Target
}

func newTestEnv(t testing.TB, deps Deps, opts emulator.Options) *testEnv {
	t.Helper()
	return newTestEnvTokens(t, deps, opts, func(_, _, access string) zohodesk.TokenSource { return zohodesk.StaticToken(access) })
}

// newTestEnvTokens is newTestEnv with the client's token source built by
// tokens from the emulator's URL (its accounts server) and a freshly
// minted refresh and access token.
func newTestEnvTokens(t testing.TB, deps Deps, opts emulator.Options, tokens func(accountsURL, refresh, access string) zohodesk.TokenSource) *testEnv {
	t.Helper()
	if opts.SearchDelay == 0 {
		// Like Zoho, search lags behind writes: every test that creates or
		// changes a ticket and then selects it by number or subject must
		// get by without search. A negative delay asks for instant search.
		opts.SearchDelay = testSearchDelay
	}
	// Every upload must carry a Content-Length: the emulator refuses one
	// without (411), so every upload test proves it.
	opts.RequireUploadLength = true
	emu := emulator.New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	refresh, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, allScopes)
	if err != nil {
		t.Fatal(err)
	}
	desk, err := zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: tokens(srv.URL, refresh, access),
		Retry: zohodesk.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if deps.Now == nil {
		deps.Now = func() time.Time { return fixedNow }
	}
	reg := action.NewRegistry(action.Options{})
	reg.Add(All(deps)...)
	return &testEnv{emu: emu, reg: reg, target: action.Target{
		Tenant: "t1",
		Conn: action.Conn{ID: "c1", Name: "demo", UserID: emulator.AdminAgentID, UserEmail: emulator.DemoUser,
			// Destructive actions are allowed so the spec's samples run as
			// they are; the confirm policy is the registry's, tested there.
			Policies: map[string]string{"move_tickets_to_trash": "allow", "deactivate_agent": "allow"}},
		Desk: desk,
	}}
}

func (e *testEnv) invoke(t *testing.T, name, input string) (json.RawMessage, error) {
	t.Helper()
	return e.reg.Invoke(t.Context(), e.target, name, json.RawMessage(input), action.InvokeOptions{})
}

// mustInvoke runs an action that must succeed, checks its output against
// the output schema, and decodes it into a map.
func (e *testEnv) mustInvoke(t *testing.T, name, input string) map[string]any {
	t.Helper()
	out, err := e.invoke(t, name, input)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	// A dry run returns action.DryRunResult, not the action's output.
	if !strings.HasPrefix(string(out), `{"dryRun":true`) {
		if verr := e.reg.Lookup(name).ValidateOutput(out); verr != nil {
			t.Fatalf("%s: output does not match its schema: %v\n%s", name, verr, out)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// deskCalls returns the Zoho Desk requests the emulator received, as
// "METHOD /path".
func (e *testEnv) deskCalls() []string {
	var out []string
	for _, r := range e.emu.Requests() {
		if strings.Contains(r.Path, "/api/v1/") {
			out = append(out, r.Method+" "+strings.TrimPrefix(r.Path, "/api/v1"))
		}
	}
	return out
}

// writes returns the Desk requests that change data.
func (e *testEnv) writes() []string {
	var out []string
	for _, c := range e.deskCalls() {
		if !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	return out
}

// domainErr asserts err is a *deskconn.Error with code.
func domainErr(t *testing.T, err error, code deskconn.Code) *deskconn.Error {
	t.Helper()
	var de *deskconn.Error
	if !errors.As(err, &de) {
		t.Fatalf("error = %v (%T), want a *deskconn.Error with code %s", err, err, code)
	}
	if de.Code != code {
		t.Fatalf("error code = %s, want %s: %v", de.Code, code, de)
	}
	return de
}

func pointers(e *deskconn.Error) []string {
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Pointer)
	}
	slices.Sort(out)
	return out
}

// specSample reads a sample input copied verbatim from the connector spec.
func specSample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "spec", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func str(m map[string]any, keys ...string) string {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[k]
	}
	s, _ := v.(string)
	return s
}
