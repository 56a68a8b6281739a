package restapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/emulator"
)

// TestReplyToTicketOverREST: the confirm policy, the dry run and keyed
// sends of reply_to_ticket, and list_ticket_conversations, through the REST
// API of a demo server.
func TestReplyToTicketOverREST(t *testing.T) {
	t.Parallel()
	d := startSpecDemo(t)
	post := func(action, body, key string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, d.URL+"/v1/connections/"+d.Connection+"/actions/"+action, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+d.APIKey.Reveal())
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: not JSON: %s", action, b)
		}
		return resp.StatusCode, m
	}
	sends := func() int {
		n := 0
		for _, r := range d.Emulator.Requests() {
			if r.Method == "POST" && strings.HasSuffix(r.Path, "/sendReply") {
				n++
			}
		}
		return n
	}
	reply := `{"ticketId":"` + emulator.DemoThreadTicketID + `","content":"We fixed it."`
	if status, m := post("reply_to_ticket", reply+`}`, ""); status != http.StatusForbidden || !strings.Contains(m["detail"].(string)+m["title"].(string), "confirm") {
		t.Errorf("without confirm: %d %v", status, m)
	}
	status, m := post("reply_to_ticket", reply+`,"dryRun":true}`, "")
	if status != http.StatusOK || m["dryRun"] != true {
		t.Fatalf("dry run: %d %v", status, m)
	}
	body := m["requests"].([]any)[0].(map[string]any)["body"].(map[string]any)
	if body["to"] != "carol@zylker-customer.com" || body["fromEmailAddress"] != "support@zylker.zohodesk.com" {
		t.Errorf("dry run body = %v", body)
	}
	if n := sends(); n != 0 {
		t.Fatalf("%d replies sent before confirm", n)
	}
	_, first := post("reply_to_ticket", reply+`,"confirm":true}`, "reply-42")
	_, again := post("reply_to_ticket", reply+`,"confirm":true}`, "reply-42")
	if first["id"] == nil || first["id"] != again["id"] {
		t.Errorf("keyed replies: %v then %v, want the same reply", first, again)
	}
	if n := sends(); n != 1 {
		t.Errorf("%d replies sent for one idempotency key, want 1", n)
	}
	status, conv := post("list_ticket_conversations", `{"ticketId":"`+emulator.DemoThreadTicketID+`","limit":3}`, "")
	if status != http.StatusOK || len(conv["items"].([]any)) != 3 || conv["hasMore"] != true {
		t.Errorf("conversation: %d %v", status, conv)
	}
}
