package cli

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/demo/demotest"
)

func TestAuditCommand(t *testing.T) {
	t.Parallel()
	cd := startServedDemo(t)
	key := cd.d.APIKey.Reveal()
	keys, err := cd.d.Store.ListAPIKeys(t.Context(), cd.d.TenantID)
	if err != nil || len(keys) != 1 {
		t.Fatalf("demo keys: %d, %v", len(keys), err)
	}
	base := cd.d.URL + "/v1/connections/demo/actions/"
	update := `{"orgId":"2389290","ticketId":"1892000000042032","payload":{"priority":"Low"},"dryRun":true}`
	if status, body := demotest.Raw(t, "POST", base+"update_ticket", key, update); status != 200 {
		t.Fatalf("dry run: %d %s", status, body)
	}
	if status, body := demotest.Raw(t, "POST", base+"move_tickets_to_trash", key, `{"orgId":"2389290","payload":{"ticketIds":["1892000000042032"]}}`); status != 403 {
		t.Fatalf("unconfirmed trash: %d %s", status, body)
	}
	if code, _, stderr := cd.run(t, update, "run", "update_ticket", "--tenant", "demo", "--input", "-"); code != 0 {
		t.Fatalf("CLI dry run: exit %d: %s", code, stderr)
	}

	lines := func(args ...string) []map[string]any {
		t.Helper()
		code, stdout, stderr := cd.run(t, "", append([]string{"audit", "--tenant", "demo", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("audit %v: exit %d: %s", args, code, stderr)
		}
		var out []map[string]any
		sc := bufio.NewScanner(strings.NewReader(stdout))
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			out = append(out, m)
		}
		return out
	}
	summary := func(recs []map[string]any) string {
		var s []string
		for _, r := range recs {
			s = append(s, r["action"].(string)+":"+r["outcome"].(string)+":"+r["apiKeyId"].(string))
		}
		return strings.Join(s, ",")
	}
	kid := keys[0].ID
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "update_ticket:dry_run:,move_tickets_to_trash:forbidden:" + kid + ",update_ticket:dry_run:" + kid},
		{[]string{"--outcome", "forbidden"}, "move_tickets_to_trash:forbidden:" + kid},
		{[]string{"--key", kid, "--action", "update_ticket", "--connection", "demo"}, "update_ticket:dry_run:" + kid},
		{[]string{"--limit", "1"}, "update_ticket:dry_run:"},
	} {
		if got := summary(lines(tc.args...)); got != tc.want {
			t.Errorf("audit %v = %s, want %s", tc.args, got, tc.want)
		}
	}
	// The input's ids, and nothing else of it, are in the summary.
	for _, r := range lines("--action", "update_ticket") {
		d, _ := r["detail"].(string)
		if !strings.Contains(d, "input orgId=2389290, ticketId=1892000000042032") || strings.Contains(d, "Low") {
			t.Errorf("detail %q, want the input's ids only", d)
		}
	}
	code, table, _ := cd.run(t, "", "audit", "--tenant", "demo")
	if code != 0 || !strings.Contains(table, "OUTCOME") || !strings.Contains(table, "move_tickets_to_trash") || !strings.Contains(table, "demo") {
		t.Errorf("table:\n%s", table)
	}
	if code, _, stderr := cd.run(t, "", "audit", "--tenant", "demo", "--connection", "nope"); code == 0 || !strings.Contains(stderr, `--connection: no connection "nope"`) {
		t.Errorf("unknown connection: exit %d: %s", code, stderr)
	}
}
