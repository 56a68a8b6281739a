package usage_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/usage"
	"github.com/deskconn/deskconn/zohodesk"
)

// TestFetchFromDesk asks the emulator for the demo organisation's edition
// and active agents; a token without the read scopes gets both errors,
// named by the call that failed, and no made-up values.
func TestFetchFromDesk(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	clientWith := func(scopes ...string) usage.ClientFunc {
		_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, scopes)
		if err != nil {
			t.Fatal(err)
		}
		return func(context.Context, string, string) (*zohodesk.Client, error) {
			return zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: zohodesk.StaticToken(access)})
		}
	}
	key := usage.OrgKey{TenantID: "t1", ConnectionID: "c1", OrgID: emulator.DemoOrgID}

	info, err := usage.FetchFromDesk(clientWith("Desk.basic.READ"))(t.Context(), key)
	if err != nil || info.Edition != "ENTERPRISE" || !info.AgentsKnown || info.Agents < 1 {
		t.Fatalf("fetch = %+v, %v; want ENTERPRISE and the active agents", info, err)
	}
	if _, ok := usage.DailyLimit(info.Edition, info.Agents); !ok {
		t.Errorf("the emulator's edition %q has no known limit", info.Edition)
	}

	info, err = usage.FetchFromDesk(clientWith("Desk.tickets.READ"))(t.Context(), key)
	if err == nil || info.Edition != "" || info.AgentsKnown {
		t.Fatalf("fetch without the scopes = %+v, %v; want nothing and an error", info, err)
	}
	for _, want := range []string{"GET /organizations", "GET /agents/count"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
