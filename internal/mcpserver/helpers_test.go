package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/deskactions"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// allScopes is every scope the actions need.
var allScopes = []string{
	"Desk.tickets.ALL", "Desk.settings.READ", "Desk.basic.READ", "Desk.contacts.READ",
	"Desk.settings.CREATE", "Desk.basic.CREATE", "Desk.settings.UPDATE", "Desk.basic.UPDATE",
	"Desk.search.READ", "Desk.products.READ", "Desk.contacts.CREATE", "Desk.contacts.UPDATE", "Desk.contacts.DELETE",
	"Desk.articles.READ",
}

// fixedNow is the actions' clock in tests.
var fixedNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// deskEnv is an emulator with a Zoho Desk client for its demo org.
type deskEnv struct {
	emu    *emulator.Emulator
	desk   *zohodesk.Client
	conn   *store.Connection
	access string // the desk client's access token
}

func newDeskEnv(t testing.TB) *deskEnv {
	t.Helper()
	emu := emulator.New(emulator.Options{})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, allScopes)
	if err != nil {
		t.Fatal(err)
	}
	desk, err := zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: zohodesk.StaticToken(access),
		Retry: zohodesk.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return &deskEnv{emu: emu, desk: desk, access: access, conn: &store.Connection{
		ID: "conn-1", TenantID: "tenant-1", Name: "demo", OrgID: emulator.DemoOrgID,
		UserID: emulator.AdminAgentID, UserEmail: emulator.DemoUser, Status: store.StatusActive,
	}}
}

// conns returns the Connections of the env's one connection.
func (e *deskEnv) conns() *fakeConns {
	return &fakeConns{desk: e.desk, conns: []*store.Connection{e.conn}}
}

// writes returns the Desk requests that change data, as "METHOD /path".
func (e *deskEnv) writes() []string {
	var out []string
	for _, r := range e.emu.Requests() {
		if strings.Contains(r.Path, "/api/v1/") && r.Method != "GET" {
			out = append(out, r.Method+" "+strings.TrimPrefix(r.Path, "/api/v1"))
		}
	}
	return out
}

// realRegistry is a registry of every deskconn action.
func realRegistry() *action.Registry {
	reg := action.NewRegistry(action.Options{})
	reg.Add(deskactions.All(deskactions.Deps{Now: func() time.Time { return fixedNow }, Events: emptyEvents{}})...)
	return reg
}

// emptyEvents is an event log with no event yet.
type emptyEvents struct{}

func (emptyEvents) Wait(context.Context, store.EventFilter, time.Duration) ([]*store.Event, error) {
	return nil, nil
}

// fakeConns is a Connections over a fixed set of connections, all served by
// one Desk client.
type fakeConns struct {
	desk  *zohodesk.Client
	conns []*store.Connection
}

func (f *fakeConns) Get(_ context.Context, tenantID, idOrName string) (*store.Connection, error) {
	for _, c := range f.conns {
		if c.TenantID == tenantID && (c.ID == idOrName || c.Name == idOrName) {
			cc := *c
			return &cc, nil
		}
	}
	return nil, deskconn.Errorf(deskconn.CodeNotFound, "no connection %q", idOrName)
}

func (f *fakeConns) Client(ctx context.Context, tenantID, idOrName string) (*zohodesk.Client, *store.Connection, error) {
	c, err := f.Get(ctx, tenantID, idOrName)
	if err != nil {
		return nil, nil, err
	}
	return f.ClientOf(c)
}

func (f *fakeConns) ClientOf(c *store.Connection) (*zohodesk.Client, *store.Connection, error) {
	if c.Status == store.StatusNeedsReauth {
		return nil, c, deskconn.Errorf(deskconn.CodeNeedsReauth, "connection %q must be reconnected", c.Name)
	}
	return f.desk, c, nil
}

// connect serves srv over in-memory transports and returns a client session.
func connect(t testing.TB, srv *mcp.Server) *mcp.ClientSession {
	t.Helper()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpserver-test", Version: "v0"}, nil)
	cs, err := client.Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		ss.Wait()
	})
	return cs
}

// call calls a tool with raw JSON arguments; a protocol error fails the test.
func call(t *testing.T, cs *mcp.ClientSession, name, args string) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: json.RawMessage(args)})
	if err != nil {
		t.Fatalf("CallTool(%s, %s) protocol error: %v", name, args, err)
	}
	return res
}

// text returns the text of a result's only content.
func text(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("result has %d content items, want 1", len(res.Content))
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want *mcp.TextContent", res.Content[0])
	}
	return tc.Text
}

// structured returns a result's structured content as JSON.
func structured(t *testing.T, res *mcp.CallToolResult) json.RawMessage {
	t.Helper()
	if res.StructuredContent == nil {
		t.Fatal("result has no structured content")
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// errorOf decodes the error envelope of an error result and checks the
// result is one.
func errorOf(t *testing.T, res *mcp.CallToolResult) (errorBody, string) {
	t.Helper()
	txt := text(t, res)
	if !res.IsError {
		t.Fatalf("result is not an error: %s", txt)
	}
	var env struct {
		Error errorBody `json:"error"`
	}
	if err := json.Unmarshal(structured(t, res), &env); err != nil {
		t.Fatal(err)
	}
	return env.Error, txt
}

// mustSucceed checks res is a success and returns its structured content.
func mustSucceed(t *testing.T, res *mcp.CallToolResult) json.RawMessage {
	t.Helper()
	if res.IsError {
		t.Fatalf("result is an error: %s", text(t, res))
	}
	return structured(t, res)
}

func pointersOf(b errorBody) []string {
	var out []string
	for _, f := range b.Errors {
		out = append(out, f.Pointer)
	}
	slices.Sort(out)
	return out
}

// fixedResolver always returns target.
func fixedResolver(target action.Target) Resolver {
	return func(context.Context, *mcp.CallToolRequest) (action.Target, error) { return target, nil }
}

// errResolver always fails with err.
func errResolver(err error) Resolver {
	return func(context.Context, *mcp.CallToolRequest) (action.Target, error) { return action.Target{}, err }
}

var errBoom = errors.New("secret-ish cause: token abc123")
