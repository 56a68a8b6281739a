package emulator_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/emulator"
)

const demoTicket = "/api/v1/tickets/" + emulator.DemoThreadTicketID

func dataOf(t *testing.T, r result) []map[string]any {
	t.Helper()
	raw, _ := r.json(t)["data"].([]any)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i], _ = x.(map[string]any)
	}
	return out
}

func TestThreadsAndConversations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	r := e.do("GET", demoTicket+"/threads", nil)
	wantStatus(t, r, 200, "")
	ths := dataOf(t, r)
	if len(ths) != 5 {
		t.Fatalf("threads = %d, want the 4 seeded and the draft", len(ths))
	}
	if ths[0]["id"] != "1892000000090004" || ths[0]["visibility"] != "private" || ths[0]["isForward"] != true {
		t.Errorf("newest thread = %v, want the private forward first", ths[0])
	}
	if _, has := ths[0]["content"]; has {
		t.Error("list rows carry content; Zoho's rows carry only summary")
	}
	// from=1 is the first row on /threads (1-based, recorded live).
	first := dataOf(t, e.do("GET", demoTicket+"/threads?from=1&limit=1&sortBy=sendDateTime", nil))
	if len(first) != 1 || first[0]["isDescriptionThread"] != true || first[0]["hasAttach"] != true {
		t.Errorf("oldest thread = %v", first)
	}
	one := e.do("GET", demoTicket+"/threads/1892000000090001?include=plainText", nil)
	wantStatus(t, one, 200, "")
	m := one.json(t)
	if !strings.Contains(m["content"].(string), "account locked") || m["plainText"] == nil || len(m["attachments"].([]any)) != 1 {
		t.Errorf("thread = %v", m)
	}
	wantStatus(t, e.do("GET", demoTicket+"/threads/999", nil), 404, "URL_NOT_FOUND")

	conv := dataOf(t, e.do("GET", demoTicket+"/conversations", nil))
	if len(conv) != 6 {
		t.Fatalf("conversation items = %d, want 4 threads + 2 comments", len(conv))
	}
	if conv[0]["type"] != "comment" || conv[0]["isPublic"] != true {
		t.Errorf("newest item = %v, want the public comment", conv[0])
	}
	page := dataOf(t, e.do("GET", demoTicket+"/conversations?from=5&limit=5", nil))
	if len(page) != 1 || page[0]["isDescriptionThread"] != true {
		t.Errorf("last page = %v", page)
	}
	wantStatus(t, e.do("GET", demoTicket+"/conversations?limit=201", nil), 422, "UNPROCESSABLE_ENTITY")

	// Synthetic tickets have as many threads and comments as their counts say.
	tk := e.do("GET", "/api/v1/tickets/1892000000042040", nil).json(t)
	n := len(dataOf(t, e.do("GET", "/api/v1/tickets/1892000000042040/threads", nil)))
	if tk["threadCount"] != strconv.Itoa(n) {
		t.Errorf("threadCount %v but %d threads", tk["threadCount"], n)
	}
}

func TestSendReplySideEffects(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	addrs := dataOf(t, e.do("GET", "/api/v1/supportEmailAddress?departmentId="+emulator.DemoDepartmentID, nil))
	if len(addrs) == 0 || addrs[0]["address"] != "support@zylker.zohodesk.com" || addrs[0]["isDefault"] != true {
		t.Fatalf("support addresses = %v", addrs)
	}
	body := map[string]any{"channel": "EMAIL", "content": "<p>Fixed, please retry.</p>", "contentType": "html", "fromEmailAddress": "support@zylker.zohodesk.com"}
	r := e.do("POST", demoTicket+"/sendReply", body)
	wantStatus(t, r, 200, "")
	th := r.json(t)
	if th["status"] != "PENDING" || th["direction"] != "out" || th["to"] != "carol@zylker-customer.com" || th["contentType"] != "text/html" ||
		th["fromEmailAddress"] != `"Zylker Support"<support@zylker.zohodesk.com>` {
		t.Errorf("reply = %v", th)
	}
	tk := e.do("GET", demoTicket, nil).json(t)
	if tk["threadCount"] != "5" {
		t.Errorf("threadCount = %v, want 5", tk["threadCount"])
	}
	rows := dataOf(t, e.do("GET", "/api/v1/tickets?limit=100&sortBy=createdTime", nil))
	found := false
	for _, row := range rows {
		if row["id"] == emulator.DemoThreadTicketID {
			found = true
			if lt, _ := row["lastThread"].(map[string]any); lt["direction"] != "out" {
				t.Errorf("lastThread after the reply = %v, want direction out", row["lastThread"])
			}
		}
	}
	if !found {
		t.Error("the demo ticket is not in the first 100 tickets by creation")
	}
	again := e.do("GET", demoTicket+"/threads/"+th["id"].(string), nil).json(t)
	if again["status"] != "SUCCESS" {
		t.Errorf("status after send = %v, want SUCCESS", again["status"])
	}
	for name, bad := range map[string]map[string]any{
		"/fromEmailAddress": {"channel": "EMAIL", "content": "x", "fromEmailAddress": "someone@else.example"},
		"/channel":          {"content": "x"},
		"/to":               {"channel": "EMAIL", "content": "x", "fromEmailAddress": "support@zylker.zohodesk.com", "to": "not an address"},
	} {
		r := e.do("POST", demoTicket+"/sendReply", bad)
		wantStatus(t, r, 422, "INVALID_DATA")
		if !strings.Contains(string(r.body), name) {
			t.Errorf("%s: body %s does not name the field", name, r.body)
		}
	}
	// Drafts are not sent and not counted.
	d := e.do("POST", demoTicket+"/draftReply", map[string]any{"channel": "EMAIL", "content": "draft", "fromEmailAddress": "support@zylker.zohodesk.com"})
	wantStatus(t, d, 200, "")
	did := d.json(t)["id"].(string)
	u := e.do("PATCH", demoTicket+"/draftReply/"+did, map[string]any{"channel": "EMAIL", "content": "draft v2", "fromEmailAddress": "support@zylker.zohodesk.com"})
	wantStatus(t, u, 200, "")
	if m := u.json(t); m["status"] != "DRAFT" || m["content"] != "draft v2" || m["id"] != did {
		t.Errorf("updated draft = %v", m)
	}
	if tk := e.do("GET", demoTicket, nil).json(t); tk["threadCount"] != "5" {
		t.Errorf("threadCount after a draft = %v, want 5", tk["threadCount"])
	}
	wantStatus(t, e.do("PATCH", demoTicket+"/draftReply/1892000000090001", map[string]any{"channel": "EMAIL", "content": "x", "fromEmailAddress": "support@zylker.zohodesk.com"}), 422, "")
}

func TestCustomerReplyReopens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	r := e.do("PATCH", demoTicket, map[string]any{"status": "Closed"})
	wantStatus(t, r, 200, "")
	if _, err := e.emu.AddCustomerReply(emulator.DemoOrgID, emulator.DemoThreadTicketID, "<div>It broke again</div>"); err != nil {
		t.Fatal(err)
	}
	tk := e.do("GET", demoTicket, nil).json(t)
	if tk["status"] != "Open" || tk["closedTime"] != nil || tk["threadCount"] != "5" {
		t.Errorf("after the customer replied: status %v closedTime %v threadCount %v", tk["status"], tk["closedTime"], tk["threadCount"])
	}
	hist := dataOf(t, e.do("GET", demoTicket+"/History?fieldName=Status", nil))
	if len(hist) == 0 || hist[0]["eventName"] != "TicketUpdated" {
		t.Errorf("history = %v", hist)
	}
}

func TestCommentsTagsTimeHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	list := dataOf(t, e.do("GET", demoTicket+"/comments?include=mentions", nil))
	if len(list) != 2 || list[0]["plainText"] != "@Zylker Admin E-17 looks like the dashboard cache bug, can you confirm?" {
		t.Fatalf("comments = %v", list)
	}
	if ms := list[0]["mention"].([]any); len(ms) != 1 || ms[0].(map[string]any)["id"] != emulator.AdminAgentID {
		t.Errorf("mentions = %v", ms)
	}
	r := e.do("POST", demoTicket+"/comments", map[string]any{"content": "note", "isPublic": false})
	wantStatus(t, r, 200, "")
	cid := r.json(t)["id"].(string)
	wantStatus(t, e.do("PATCH", demoTicket+"/comments/"+cid, map[string]any{"content": "note 2", "isPublic": true}), 200, "")
	// Someone else's comment cannot be edited.
	wantStatus(t, e.do("PATCH", demoTicket+"/comments/1892000000092001", map[string]any{"content": "x"}), 403, "FORBIDDEN")
	wantStatus(t, e.do("POST", demoTicket+"/comments", map[string]any{"isPublic": true}), 422, "INVALID_DATA")
	wantStatus(t, e.do("DELETE", demoTicket+"/comments/"+cid, nil), 200, "")
	wantStatus(t, e.do("DELETE", demoTicket+"/comments/"+cid, nil), 404, "URL_NOT_FOUND")

	tags := e.do("GET", demoTicket+"/tags", nil).json(t)["tags"].([]any)
	if len(tags) != 1 {
		t.Fatalf("tags = %v", tags)
	}
	wantStatus(t, e.do("POST", demoTicket+"/associateTag", map[string]any{"tags": []string{"vip", "Login"}}), 200, "")
	if tags := e.do("GET", demoTicket+"/tags", nil).json(t)["tags"].([]any); len(tags) != 2 {
		t.Errorf("after associate: %v (Login is the existing login tag)", tags)
	}
	if n := e.do("GET", demoTicket, nil).json(t)["tagCount"]; n != "2" {
		t.Errorf("ticket tagCount after associate = %v, want \"2\"", n)
	}
	wantStatus(t, e.do("POST", demoTicket+"/associateTag", map[string]any{"tags": []string{"x"}}), 422, "INVALID_DATA")
	wantStatus(t, e.do("POST", demoTicket+"/dissociateTag", map[string]any{"tags": []string{"vip"}}), 200, "")

	te := e.do("POST", demoTicket+"/timeEntry", map[string]any{"executedTime": "2026-03-02T09:00:00.000Z", "hoursSpent": 1, "minutesSpent": "15", "isBillable": true, "description": "call"})
	wantStatus(t, te, 200, "")
	if m := te.json(t); m["hoursSpent"] != "1" || m["minutesSpent"] != "15" || m["ownerId"] != emulator.AdminAgentID {
		t.Errorf("time entry = %v", m)
	}
	wantStatus(t, e.do("POST", demoTicket+"/timeEntry", map[string]any{"hoursSpent": 1}), 422, "INVALID_DATA")
	if l := dataOf(t, e.do("GET", demoTicket+"/timeEntry?billStatus=billable&include=owner", nil)); len(l) != 2 || l[0]["owner"] == nil {
		t.Errorf("time entries = %v", l)
	}
	hist := dataOf(t, e.do("GET", demoTicket+"/History?limit=50", nil))
	if len(hist) < 6 || hist[0]["eventName"] != "TimeEntryAdded" {
		t.Errorf("history (newest first) = %v", hist)
	}
	wantStatus(t, e.do("GET", demoTicket+"/History?limit=51", nil), 422, "")
}

func TestAdminCustomerReply(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{})
	body := `{"orgId":"` + emulator.DemoOrgID + `","ticketId":"` + emulator.DemoThreadTicketID + `","content":"<div>Any news?</div>"}`
	resp, err := http.Post(e.srv.URL+"/__emulator/customer-reply", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if n := len(dataOf(t, e.do("GET", demoTicket+"/conversations", nil))); n != 7 {
		t.Errorf("conversation has %d items after the customer replied, want 7", n)
	}
	resp, err = http.Post(e.srv.URL+"/__emulator/customer-reply", "application/json", strings.NewReader(`{"orgId":"`+emulator.DemoOrgID+`","ticketId":"1","content":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown ticket: status = %d, want 404", resp.StatusCode)
	}
}
