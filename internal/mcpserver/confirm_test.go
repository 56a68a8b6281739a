package mcpserver

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
)

// connectAsking is connect with a client that answers elicitation
// requests with answer and records their messages.
func connectAsking(t *testing.T, srv *mcp.Server, answer *mcp.ElicitResult) (*mcp.ClientSession, func() []string) {
	t.Helper()
	var (
		mu    sync.Mutex
		asked []string
	)
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpserver-test", Version: "v0"}, &mcp.ClientOptions{
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			mu.Lock()
			asked = append(asked, req.Params.Message)
			mu.Unlock()
			return answer, nil
		},
	})
	cs, err := client.Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		ss.Wait()
	})
	return cs, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), asked...)
	}
}

// TestConfirmByElicitation: under the confirm policy, a client that can ask
// its user gets an elicitation naming what would happen; the action runs
// only when the person accepts with confirm: true. A client without the
// capability gets the refusal as before, and nothing is written.
func TestConfirmByElicitation(t *testing.T) {
	t.Parallel()
	trash := `{"payload":{"ticketIds":["` + emulator.DemoThreadTicketID + `"]}}`
	for _, tc := range []struct {
		name     string
		answer   *mcp.ElicitResult // nil: the client cannot elicit
		wantRun  bool
		wantText string
	}{
		{"accepted", &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, true, ""},
		{"accepted without confirm", &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": false}}, false, "did not confirm"},
		{"declined", &mcp.ElicitResult{Action: "decline"}, false, "did not confirm (decline)"},
		{"cancelled", &mcp.ElicitResult{Action: "cancel"}, false, "did not confirm (cancel)"},
		{"client cannot ask", nil, false, "confirmation required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newDeskEnv(t)
			srv := New(realRegistry(), ConnectionResolver(env.conns(), "tenant-1", "demo"), nil)
			var cs *mcp.ClientSession
			asked := func() []string { return nil }
			if tc.answer != nil {
				cs, asked = connectAsking(t, srv, tc.answer)
			} else {
				cs = connect(t, srv)
			}
			res := call(t, cs, "move_tickets_to_trash", trash)
			wrote := false
			for _, w := range env.writes() {
				if strings.Contains(w, "moveToTrash") {
					wrote = true
				}
			}
			if wrote != tc.wantRun {
				t.Errorf("moveToTrash sent: %v, want %v (writes %v)", wrote, tc.wantRun, env.writes())
			}
			if tc.wantRun {
				mustSucceed(t, res)
			} else {
				body, txt := errorOf(t, res)
				if body.Code != deskconn.CodeForbidden || !strings.Contains(txt, tc.wantText) {
					t.Errorf("error %s: %s, want forbidden containing %q", body.Code, txt, tc.wantText)
				}
			}
			if tc.answer != nil {
				if q := asked(); len(q) != 1 || !strings.Contains(q[0], "trash") || !strings.Contains(q[0], "demo") {
					t.Errorf("elicitation messages %q, want one naming the trash and the connection", q)
				}
			}
		})
	}
}
