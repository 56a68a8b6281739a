package restapi_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/restapi"
)

func auditPage(t *testing.T, r actResp) restapi.AuditPage {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var p restapi.AuditPage
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode: %v\n%s", err, r.body)
	}
	return p
}

func actionsOf(recs []restapi.AuditView) string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Action+":"+r.Outcome)
	}
	return strings.Join(out, ",")
}

func TestAuditEndpoint(t *testing.T) {
	t.Parallel()
	e := newActEnv(t, actOpts{})
	file := strings.Repeat("secret-file-contents ", 10)
	for _, c := range []struct{ name, body string }{
		{"make_note", `{"note":"one"}`},
		{"burn_note", `{"note":"two"}`}, // refused: confirm
		{"make_note", `{"note":"three"}`},
		{"attach", `{"fileName":"a.txt","fileData":"` + base64.StdEncoding.EncodeToString([]byte(file)) + `"}`},
	} {
		e.run(t, "main", c.name, c.body, nil)
	}
	if r := e.do(t, http.MethodPost, "/v1/connections/other/actions/make_note", e.keyB, strings.NewReader(`{"note":"b"}`), nil); r.status != 200 {
		t.Fatalf("tenant B write: %d %s", r.status, r.body)
	}

	all := auditPage(t, e.do(t, http.MethodGet, "/v1/audit", e.keyA, nil, nil))
	if got := actionsOf(all.Records); got != "attach:ok,make_note:ok,burn_note:forbidden,make_note:ok" {
		t.Errorf("records = %s", got)
	}
	if r := all.Records[0]; r.ConnectionName != "main" || r.ConnectionID != e.connA.ID || r.APIKeyID == "" || r.Time.IsZero() {
		t.Errorf("record = %+v", r)
	}
	if bytes.Contains(e.do(t, http.MethodGet, "/v1/audit?format=jsonl", e.keyA, nil, nil).body, []byte("secret-file")) ||
		strings.Contains(string(e.do(t, http.MethodGet, "/v1/audit", e.keyA, nil, nil).body), base64.StdEncoding.EncodeToString([]byte(file))[:20]) {
		t.Error("the audit holds file contents")
	}

	for _, tc := range []struct{ query, want string }{
		{"action=make_note", "make_note:ok,make_note:ok"},
		{"outcome=forbidden", "burn_note:forbidden"},
		{"connection=main&action=burn_note", "burn_note:forbidden"},
		{"connection=" + e.connA.ID + "&outcome=ok&action=attach", "attach:ok"},
		{"key=" + all.Records[0].APIKeyID + "&action=attach", "attach:ok"},
		{"key=key_nobody", ""},
		{"connection=other", ""}, // tenant B's connection name: nothing of A's
	} {
		if got := actionsOf(auditPage(t, e.do(t, http.MethodGet, "/v1/audit?"+tc.query, e.keyA, nil, nil)).Records); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.query, got, tc.want)
		}
	}

	// Paging: two pages of 2 then nothing.
	p1 := auditPage(t, e.do(t, http.MethodGet, "/v1/audit?limit=2", e.keyA, nil, nil))
	p2 := auditPage(t, e.do(t, http.MethodGet, "/v1/audit?limit=2&before="+p1.Next, e.keyA, nil, nil))
	if actionsOf(p1.Records)+","+actionsOf(p2.Records) != actionsOf(all.Records) || p2.Next == "" {
		t.Errorf("pages %s | %s (next %q)", actionsOf(p1.Records), actionsOf(p2.Records), p2.Next)
	}
	if p3 := auditPage(t, e.do(t, http.MethodGet, "/v1/audit?limit=2&before="+p2.Next, e.keyA, nil, nil)); len(p3.Records) != 0 || p3.Next != "" {
		t.Errorf("page 3 = %+v", p3)
	}

	// JSON lines, by Accept or format.
	for _, r := range []actResp{
		e.do(t, http.MethodGet, "/v1/audit?action=make_note", e.keyA, nil, map[string]string{"Accept": "application/x-ndjson"}),
		e.do(t, http.MethodGet, "/v1/audit?action=make_note&format=jsonl", e.keyA, nil, nil),
	} {
		if ct := r.header.Get("Content-Type"); r.status != 200 || ct != "application/x-ndjson" {
			t.Fatalf("export: %d %s", r.status, ct)
		}
		var lines []restapi.AuditView
		sc := bufio.NewScanner(bytes.NewReader(r.body))
		for sc.Scan() {
			var v restapi.AuditView
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			lines = append(lines, v)
		}
		if actionsOf(lines) != "make_note:ok,make_note:ok" {
			t.Errorf("export lines = %s", actionsOf(lines))
		}
	}

	// Tenant B sees only its own record.
	if got := actionsOf(auditPage(t, e.do(t, http.MethodGet, "/v1/audit", e.keyB, nil, nil)).Records); got != "make_note:ok" {
		t.Errorf("tenant B sees %s", got)
	}
	for _, q := range []string{"limit=0", "limit=5000", "before=x", "format=xml"} {
		if r := e.do(t, http.MethodGet, "/v1/audit?"+q, e.keyA, nil, nil); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d", q, r.status)
		}
	}
}
