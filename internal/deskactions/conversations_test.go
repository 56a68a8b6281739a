package deskactions

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/zohodesk"
)

const demoTicketIn = `"orgId":"` + emulator.DemoOrgID + `","ticketId":"` + emulator.DemoThreadTicketID + `"`

func items(t *testing.T, m map[string]any, key string) []map[string]any {
	t.Helper()
	raw, _ := m[key].([]any)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i], _ = x.(map[string]any)
	}
	return out
}

func TestListTicketConversations(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Deps{}, emulator.Options{})
	out := e.mustInvoke(t, "list_ticket_conversations", `{`+demoTicketIn+`}`)
	its := items(t, out, "items")
	if len(its) != 6 || out["hasMore"] != false {
		t.Fatalf("items = %d (hasMore %v), want the 6 seeded", len(its), out["hasMore"])
	}
	if its[0]["type"] != "comment" || its[0]["visibility"] != "public" {
		t.Errorf("newest = %v, want the public comment", its[0])
	}
	byID := map[string]map[string]any{}
	for _, it := range its {
		byID[it["id"].(string)] = it
	}
	first := byID["1892000000090001"]
	if first["direction"] != "incoming" || first["channel"] != "EMAIL" || first["summaryOnly"] == true {
		t.Errorf("description thread = %v", first)
	}
	if c := first["content"].(string); !strings.Contains(c, "account locked") || strings.Contains(c, "Zylker Customer Inc.") {
		t.Errorf("content %q: want the message without its signature", c)
	}
	if c := byID["1892000000090002"]["content"].(string); strings.Contains(c, "On Monday") || !strings.Contains(c, "(https://accounts.zylker.com/reset)") {
		t.Errorf("reply content %q: want quoted history trimmed and the link's URL kept", c)
	}
	if c := byID["1892000000090003"]["content"].(string); strings.Contains(c, "---- On Mon") {
		t.Errorf("zmail_extra quote not trimmed: %q", c)
	}
	if a := first["attachments"].([]any); len(a) != 1 {
		t.Errorf("attachments = %v", a)
	}
	if c := byID["1892000000092001"]["content"].(string); !strings.HasPrefix(c, "@Zylker Admin") {
		t.Errorf("comment content %q: want the mention as a name", c)
	}

	cut := e.mustInvoke(t, "list_ticket_conversations", `{`+demoTicketIn+`,"maxChars":50,"limit":2}`)
	if its := items(t, cut, "items"); len(its) != 2 || cut["nextFrom"] != 2.0 || cut["hasMore"] != true {
		t.Errorf("page = %v", cut)
	}
	all := e.mustInvoke(t, "list_ticket_conversations", `{`+demoTicketIn+`,"oldestFirst":true,"maxChars":50,"limit":3}`)
	its = items(t, all, "items")
	if len(its) != 3 || its[0]["id"] != "1892000000090001" || its[0]["contentCut"] != true || all["nextFrom"] != 3.0 {
		t.Errorf("oldest first = %v", all)
	}
	sum := e.mustInvoke(t, "list_ticket_conversations", `{`+demoTicketIn+`,"all":true,"content":"summary"}`)
	if its := items(t, sum, "items"); len(its) != 6 || its[5]["summaryOnly"] != true {
		t.Errorf("all with summaries = %v", sum)
	}
	for _, c := range e.deskCalls() {
		if strings.Contains(c, "/threads/") && strings.Contains(c, "summary") {
			t.Errorf("summary mode read a thread: %s", c)
		}
	}
}

func TestGetTicketThreadAndLatestConversation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Deps{}, emulator.Options{})
	out := e.mustInvoke(t, "get_ticket_thread", `{`+demoTicketIn+`,"threadId":"1892000000090001"}`)
	if !strings.Contains(out["contentHtml"].(string), "gmail_signature") || strings.Contains(out["text"].(string), "+1 555 0100") ||
		out["from"] != "carol@zylker-customer.com" || len(out["attachments"].([]any)) != 1 {
		t.Errorf("thread = %v", out)
	}
	_, err := e.invoke(t, "get_ticket_thread", `{`+demoTicketIn+`,"threadId":"42"}`)
	if de := domainErr(t, err, deskconn.CodeNotFound); !strings.Contains(de.Message, "list_ticket_conversations") {
		t.Errorf("not found message = %q", de.Message)
	}
	tk := e.mustInvoke(t, "get_ticket", `{`+demoTicketIn+`,"latestConversations":2}`)
	if conv := items(t, tk, "conversation"); len(conv) != 2 || tk["subject"] != "Unable to access account" {
		t.Errorf("get_ticket with conversation = %v", tk)
	}
	if tk := e.mustInvoke(t, "get_ticket", `{`+demoTicketIn+`}`); tk["conversation"] != nil {
		t.Errorf("conversation without latestConversations: %v", tk["conversation"])
	}
}

func TestReplyToTicket(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Deps{}, emulator.Options{})
	in := `{` + demoTicketIn + `,"content":"Hello Lucas,\nit is fixed."`
	// The default policy asks for confirmation, and says what would happen.
	_, err := e.invoke(t, "reply_to_ticket", in+`}`)
	if de := domainErr(t, err, deskconn.CodeForbidden); !errors.Is(err, action.ErrConfirmationRequired) || !strings.Contains(de.Message, "the ticket's contact") {
		t.Fatalf("without confirm: %v", err)
	}
	// A dry run resolves the recipient and the from address and sends nothing.
	dry := e.mustInvoke(t, "reply_to_ticket", in+`,"dryRun":true}`)
	reqs := dry["requests"].([]any)
	last := reqs[len(reqs)-1].(map[string]any)
	body := last["body"].(map[string]any)
	if last["path"] != "/tickets/"+emulator.DemoThreadTicketID+"/sendReply" || body["to"] != "carol@zylker-customer.com" ||
		body["fromEmailAddress"] != "support@zylker.zohodesk.com" || body["content"] != "Hello Lucas,\nit is fixed." || body["channel"] != "EMAIL" {
		t.Errorf("dry run = %v", dry)
	}
	if w := e.writes(); len(w) != 0 {
		t.Fatalf("dry run wrote %v", w)
	}
	out := e.mustInvoke(t, "reply_to_ticket", in+`,"confirm":true,"cc":"boss@zylker-customer.com","ticketStatus":"On Hold"}`)
	if out["status"] != "PENDING" || out["to"] != "carol@zylker-customer.com" || out["cc"] != "boss@zylker-customer.com" {
		t.Errorf("reply = %v", out)
	}
	if w := e.writes(); len(w) != 1 {
		t.Errorf("writes = %v, want exactly one sendReply", w)
	}
	if tk, _ := e.emu.GetTicket(emulator.DemoOrgID, emulator.DemoThreadTicketID); tk.Status != "On Hold" {
		t.Errorf("status after reply = %q, want On Hold", tk.Status)
	}
	_, err = e.invoke(t, "reply_to_ticket", `{`+demoTicketIn+`,"content":"x","to":"not-an-address","confirm":true}`)
	if de := domainErr(t, err, deskconn.CodeInvalid); !slicesEqual(pointers(de), []string{"/to"}) {
		t.Errorf("bad to: %v", pointers(de))
	}
	_, err = e.invoke(t, "reply_to_ticket", `{`+demoTicketIn+`,"content":"x","fromEmailAddress":"ceo@elsewhere.example","confirm":true}`)
	if de := domainErr(t, err, deskconn.CodeInvalid); !slicesEqual(pointers(de), []string{"/fromEmailAddress"}) {
		t.Errorf("unknown from address: %v %v", pointers(de), de)
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

func TestDraftsCommentsTagsTimeHistory(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Deps{}, emulator.Options{})
	d := e.mustInvoke(t, "draft_ticket_reply", `{`+demoTicketIn+`,"content":"<p>Draft</p>","contentType":"html"}`)
	if d["status"] != "DRAFT" || d["from"] == "" {
		t.Fatalf("draft = %v", d)
	}
	u := e.mustInvoke(t, "update_ticket_draft", `{`+demoTicketIn+`,"draftId":"`+d["id"].(string)+`","content":"Draft v2"}`)
	if u["id"] != d["id"] || str(u, "thread", "content") != "Draft v2" {
		t.Errorf("updated draft = %v", u)
	}

	_, err := e.invoke(t, "update_ticket_draft", `{`+demoTicketIn+`,"draftId":"999","content":"x"}`)
	if de := domainErr(t, err, deskconn.CodeNotFound); !slicesEqual(pointers(de), []string{"/draftId"}) {
		t.Errorf("missing draft: %v", de)
	}

	c := e.mustInvoke(t, "add_ticket_comment", `{`+demoTicketIn+`,"content":"please check","mentions":["jade.tywin@zylker.com"]}`)
	if c["isPublic"] != false || !strings.HasPrefix(str(c, "comment", "content"), "zsu[@user:60000011]zsu please check") {
		t.Errorf("comment = %v", c)
	}
	list := e.mustInvoke(t, "list_ticket_comments", `{`+demoTicketIn+`}`)
	if its := items(t, list, "items"); len(its) != 3 || its[0]["content"] != "@Jade Tywin please check" {
		t.Errorf("comments = %v", list["items"])
	}
	e.mustInvoke(t, "update_ticket_comment", `{`+demoTicketIn+`,"commentId":"`+c["id"].(string)+`","content":"checked","isPublic":true}`)
	_, err = e.invoke(t, "delete_ticket_comment", `{`+demoTicketIn+`,"commentId":"`+c["id"].(string)+`"}`)
	if !errors.Is(err, action.ErrConfirmationRequired) {
		t.Errorf("delete without confirm: %v", err)
	}
	if del := e.mustInvoke(t, "delete_ticket_comment", `{`+demoTicketIn+`,"commentId":"`+c["id"].(string)+`","confirm":true}`); del["deleted"] != true {
		t.Errorf("delete = %v", del)
	}
	_, err = e.invoke(t, "delete_ticket_comment", `{`+demoTicketIn+`,"commentId":"`+c["id"].(string)+`","confirm":true}`)
	domainErr(t, err, deskconn.CodeNotFound)

	tags := e.mustInvoke(t, "add_ticket_tags", `{`+demoTicketIn+`,"tags":["vip","login"]}`)
	if len(tags["tags"].([]any)) != 2 || tags["added"].([]any)[0] != "vip" || tags["unchanged"].([]any)[0] != "login" || tags["note"] == nil {
		t.Errorf("add tags = %v", tags)
	}
	_, err = e.invoke(t, "add_ticket_tags", `{`+demoTicketIn+`,"tags":["ok tag","x"]}`)
	if de := domainErr(t, err, deskconn.CodeInvalid); !slicesEqual(pointers(de), []string{"/tags/1"}) {
		t.Errorf("short tag: %v", pointers(de))
	}
	rm := e.mustInvoke(t, "remove_ticket_tags", `{`+demoTicketIn+`,"tags":"vip,nothere"}`)
	if len(rm["tags"].([]any)) != 1 || rm["removed"].([]any)[0] != "vip" {
		t.Errorf("remove tags = %v", rm)
	}

	te := e.mustInvoke(t, "add_ticket_time_entry", `{`+demoTicketIn+`,"duration":"1h30m","billable":true,"description":"debugging"}`)
	if te["minutes"] != 90.0 || te["billable"] != true || str(te, "timeEntry", "hoursSpent") != "1" || str(te, "timeEntry", "minutesSpent") != "30" {
		t.Errorf("time entry = %v", te)
	}
	if te["workedAt"] != "2026-11-25T10:30:00.000Z" {
		t.Errorf("workedAt = %v, want now minus the duration", te["workedAt"])
	}
	_, err = e.invoke(t, "add_ticket_time_entry", `{`+demoTicketIn+`,"duration":"soon"}`)
	domainErr(t, err, deskconn.CodeInvalid)
	if l := e.mustInvoke(t, "list_ticket_time_entries", `{`+demoTicketIn+`}`); l["count"] != 2.0 {
		t.Errorf("time entries = %v", l)
	}

	h := e.mustInvoke(t, "get_ticket_history", `{`+demoTicketIn+`,"limit":3}`)
	ev := items(t, h, "events")
	if len(ev) != 3 || ev[0]["event"] != "TimeEntryAdded" || h["nextFrom"] != 3.0 {
		t.Errorf("history = %v", h)
	}
	all := e.mustInvoke(t, "get_ticket_history", `{`+demoTicketIn+`}`)
	found := false
	for _, x := range items(t, all, "events") {
		changes, _ := x["changes"].([]any)
		for _, ch := range changes {
			m := ch.(map[string]any)
			if m["field"] == "Assignee" && m["to"] == "Jade Tywin" && m["from"] == nil {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no assignee change with old and new values in %v", all["events"])
	}
	if a := e.mustInvoke(t, "list_support_addresses", `{"orgId":"`+emulator.DemoOrgID+`","departmentId":"`+emulator.DemoDepartmentID+`"}`); a["count"] != 2.0 {
		t.Errorf("support addresses = %v", a)
	}
}

// TestMissingScopeIsNamed: a connection without Desk.tickets.UPDATE gets
// an error that names the scope and says to reconnect with it.
func TestMissingScopeIsNamed(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Deps{}, emulator.Options{})
	_, access, err := e.emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, []string{"Desk.tickets.READ", "Desk.settings.READ", "Desk.basic.READ"})
	if err != nil {
		t.Fatal(err)
	}
	desk, err := zohodesk.New(zohodesk.Config{BaseURL: strings.TrimSuffix(e.target.Desk.BaseURL(), "/"), Tokens: zohodesk.StaticToken(access), Retry: zohodesk.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	target := e.target
	target.Desk = desk
	_, err = e.reg.Invoke(t.Context(), target, "add_ticket_comment", json.RawMessage(`{`+demoTicketIn+`,"content":"note"}`), action.InvokeOptions{})
	de := domainErr(t, err, deskconn.CodeForbidden)
	if !strings.Contains(de.Message, "Desk.tickets.UPDATE") || !strings.Contains(de.Message, "reconnect") {
		t.Errorf("message = %q, want the missing scope and how to add it", de.Message)
	}
}

// TestReplyAttachments: inline files go through the same checked upload
// path as ticket attachments (planned in a dry run, uploaded first when
// sent); a bad file fails before anything is sent.
func TestReplyAttachments(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Deps{}, emulator.Options{})
	in := `{` + demoTicketIn + `,"content":"Log attached","confirm":true,"attachments":[{"fileName":"log.txt","fileData":"aGVsbG8gd29ybGQ="}]`
	dry := e.mustInvoke(t, "reply_to_ticket", in+`,"dryRun":true}`)
	reqs := dry["requests"].([]any)
	if len(reqs) != 2 || reqs[0].(map[string]any)["path"] != "/uploads" {
		t.Fatalf("dry run = %v, want the upload then the reply", dry)
	}
	if ids := reqs[1].(map[string]any)["body"].(map[string]any)["attachmentIds"].([]any); len(ids) != 1 || ids[0] != "<id of upload 0>" {
		t.Errorf("planned attachmentIds = %v", ids)
	}
	out := e.mustInvoke(t, "reply_to_ticket", in+`}`)
	if ids, _ := out["uploadIds"].([]any); len(ids) != 1 {
		t.Errorf("uploadIds = %v", out["uploadIds"])
	}
	th := e.mustInvoke(t, "get_ticket_thread", `{`+demoTicketIn+`,"threadId":"`+out["id"].(string)+`"}`)
	if atts := th["attachments"].([]any); len(atts) != 1 || atts[0].(map[string]any)["name"] != "log.txt" {
		t.Errorf("attachments of the sent reply = %v", th["attachments"])
	}
	before := len(e.writes())
	_, err := e.invoke(t, "reply_to_ticket", `{`+demoTicketIn+`,"content":"x","confirm":true,"attachments":[{"fileName":"a.txt","fileData":"not base64!"}]}`)
	if de := domainErr(t, err, deskconn.CodeInvalid); !slicesEqual(pointers(de), []string{"/attachments/0/fileData"}) {
		t.Errorf("bad file: %v", pointers(de))
	}
	if len(e.writes()) != before {
		t.Errorf("a bad file still sent %v", e.writes()[before:])
	}
}

// TestGetTicketThreadFullContent: a thread Zoho answers truncated is read
// whole from fullContent.
func TestGetTicketThreadFullContent(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Deps{}, emulator.Options{})
	long := "<div>" + strings.Repeat("word ", 12_000) + "END</div>" // over the emulator's 50,000-character cut
	id, err := e.emu.AddCustomerReply(emulator.DemoOrgID, emulator.DemoThreadTicketID, long)
	if err != nil {
		t.Fatal(err)
	}
	out := e.mustInvoke(t, "get_ticket_thread", `{`+demoTicketIn+`,"threadId":"`+id+`"}`)
	if !strings.HasSuffix(out["text"].(string), "END") || out["contentHtml"] != long || out["textCut"] == true {
		t.Errorf("text ends %q, html %d bytes (want %d), cut %v", out["text"].(string)[len(out["text"].(string))-10:], len(out["contentHtml"].(string)), len(long), out["textCut"])
	}
}

// TestPublicCommentNeedsConfirmation: a public comment is seen by the
// customer, so add_ticket_comment with isPublic:true runs under the
// confirm default of customer-visible writes, while a private note does
// not; an explicit policy for the action still decides.
func TestPublicCommentNeedsConfirmation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Deps{}, emulator.Options{})
	_, err := e.invoke(t, "add_ticket_comment", `{`+demoTicketIn+`,"content":"Fixed in 2.1","isPublic":true}`)
	if !errors.Is(err, action.ErrConfirmationRequired) {
		t.Fatalf("public comment without confirm: %v, want confirmation required", err)
	}
	if c := e.mustInvoke(t, "add_ticket_comment", `{`+demoTicketIn+`,"content":"Fixed in 2.1","isPublic":true,"confirm":true}`); c["isPublic"] != true {
		t.Errorf("confirmed public comment = %v", c)
	}
	e.mustInvoke(t, "add_ticket_comment", `{`+demoTicketIn+`,"content":"private note"}`)
	target := e.target
	target.Conn.Policies = map[string]string{"add_ticket_comment": "allow"}
	if _, err := e.reg.Invoke(t.Context(), target, "add_ticket_comment", json.RawMessage(`{`+demoTicketIn+`,"content":"ok","isPublic":true}`), action.InvokeOptions{}); err != nil {
		t.Errorf("public comment under an explicit allow: %v", err)
	}
}
