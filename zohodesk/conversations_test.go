package zohodesk

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

const threadRow = `{"id":"11","channel":"EMAIL","status":"SUCCESS","direction":"in","visibility":"public","summary":"Hi","contentType":"text/html",
 "author":{"id":401,"name":"Ann Lee","email":"ann@example.com","type":"END_USER"},"attachmentCount":"1","hasAttach":true,"createdTime":"2026-01-02T10:00:00.000Z"}`

func TestThreadsListAndGet(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "GET /api/v1/tickets/7/threads", wantReq{method: "GET", path: "/api/v1/tickets/7/threads", org: true, query: q("from", "1", "limit", "2", "sortBy", "sendDateTime")}, 200, `{"data":[`+threadRow+`]}`)
	serve(t, mux, "GET /api/v1/tickets/7/threads/11", wantReq{method: "GET", path: "/api/v1/tickets/7/threads/11", org: true, query: q("include", "plainText")}, 200,
		`{"id":"11","content":"<p>Hi</p>","plainText":"Hi","to":"a@b.example","attachments":[{"id":5,"name":"x.pdf","size":12,"href":"https://d/x","previewurl":null}],"author":{"id":"401","type":"END_USER"}}`)
	list, _, err := c.Threads.List(t.Context(), testOrg, "7", &ThreadListOptions{ListOptions: ListOptions{From: 1, Limit: 2}, SortBy: "sendDateTime"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Author.ID != "401" || list[0].Direction != "in" || list[0].AttachmentCount != "1" {
		t.Errorf("List = %+v", list[0])
	}
	th, _, err := c.Threads.Get(t.Context(), testOrg, "7", "11", &ThreadGetOptions{IncludePlainText: true})
	if err != nil {
		t.Fatal(err)
	}
	if th.Content != "<p>Hi</p>" || th.PlainText != "Hi" || len(th.Attachments) != 1 || th.Attachments[0].ID != "5" || th.Attachments[0].Size != "12" {
		t.Errorf("Get = %+v", th)
	}
}

func TestThreadsFullContent(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "GET /api/v1/tickets/7/threads/11/fullContent", wantReq{method: "GET", path: "/api/v1/tickets/7/threads/11/fullContent", org: true}, 200,
		`{"id":"11","content":"<p>all of it</p>","isContentTruncated":false}`)
	th, _, err := c.Threads.FullContent(t.Context(), testOrg, "7", "11")
	if err != nil || th.Content != "<p>all of it</p>" {
		t.Errorf("FullContent = %+v, %v", th, err)
	}
	if _, _, err := c.Threads.FullContent(t.Context(), testOrg, "7", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty thread id: err = %v, want ErrInvalid", err)
	}
}

func TestConversationsList(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	calls := 0
	mux.HandleFunc("GET /api/v1/tickets/7/conversations", func(w http.ResponseWriter, r *http.Request) {
		calls++
		switch r.URL.Query().Get("from") {
		case "":
			w.Write([]byte(`{"data":[` + strings.Replace(threadRow, `"id":"11"`, `"type":"thread","id":"11"`, 1) +
				`,{"type":"comment","id":"21","content":"note","isPublic":false,"commenter":{"id":"9","type":"AGENT"},"commentedTime":"2026-01-02T11:00:00.000Z"}]}`))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	items, _, err := c.Conversations.List(t.Context(), testOrg, "7", &ConversationListOptions{ListOptions{Limit: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Thread == nil || items[0].Thread.ID != "11" || items[1].Comment == nil || items[1].Comment.Commenter.ID != "9" {
		t.Fatalf("items = %+v", items)
	}
	n, err := drain(c.Conversations.ListAll(t.Context(), testOrg, "7", &ConversationListOptions{ListOptions{Limit: 2}}))
	if err != nil || n != 2 {
		t.Errorf("ListAll = %d, %v; want 2 items", n, err)
	}
	if _, _, err := c.Conversations.List(t.Context(), testOrg, "7", &ConversationListOptions{ListOptions{Limit: 201}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit 201: err = %v, want ErrInvalid", err)
	}
}

func TestRepliesAndDrafts(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	body := `{"channel":"EMAIL","content":"Thanks","contentType":"plainText","fromEmailAddress":"support@acme.example","to":"ann@example.com","attachmentIds":["5"]}`
	serve(t, mux, "POST /api/v1/tickets/7/sendReply", wantReq{method: "POST", path: "/api/v1/tickets/7/sendReply", org: true, query: q("isPrivate", "true"), body: body}, 200, `{"id":"99","status":"PENDING","direction":"out"}`)
	serve(t, mux, "POST /api/v1/tickets/7/draftReply", wantReq{method: "POST", path: "/api/v1/tickets/7/draftReply", org: true, body: body}, 200, `{"id":"98","status":"DRAFT"}`)
	serve(t, mux, "PATCH /api/v1/tickets/7/draftReply/98", wantReq{method: "PATCH", path: "/api/v1/tickets/7/draftReply/98", org: true, body: body}, 200, `{"id":"98","status":"DRAFT"}`)
	req := &ReplyRequest{Channel: "EMAIL", Content: "Thanks", ContentType: "plainText", FromEmailAddress: "support@acme.example", To: "ann@example.com", AttachmentIDs: []string{"5"}}
	th, _, err := c.Replies.Send(t.Context(), testOrg, "7", req, &ReplyOptions{IsPrivate: true})
	if err != nil || th.ID != "99" || th.Status != "PENDING" {
		t.Errorf("Send = %+v, %v", th, err)
	}
	if d, _, err := c.Drafts.Create(t.Context(), testOrg, "7", req); err != nil || d.ID != "98" {
		t.Errorf("Drafts.Create = %+v, %v", d, err)
	}
	if d, _, err := c.Drafts.Update(t.Context(), testOrg, "7", "98", req); err != nil || d.Status != "DRAFT" {
		t.Errorf("Drafts.Update = %+v, %v", d, err)
	}
	for name, bad := range map[string]*ReplyRequest{
		"no channel":      {Content: "x"},
		"no content":      {Channel: "EMAIL", FromEmailAddress: "a@b.example"},
		"email no from":   {Channel: "EMAIL", Content: "x"},
		"bad contentType": {Channel: "FACEBOOK", Content: "x", ContentType: "markdown"},
	} {
		if _, _, err := c.Replies.Send(t.Context(), testOrg, "7", bad, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestRepliesSendNotResent(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	calls := 0
	mux.HandleFunc("POST /api/v1/tickets/7/sendReply", func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusBadGateway)
	})
	_, _, err := c.Replies.Send(t.Context(), testOrg, "7", &ReplyRequest{Channel: "FACEBOOK", Content: "x"}, nil)
	if err == nil || calls != 1 {
		t.Errorf("err = %v after %d calls; want an error after exactly 1 call (a reply is never resent)", err, calls)
	}
}

func TestComments(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	comment := `{"id":"21","content":"zsu[@user:555]zsu look","contentType":"plainText","isPublic":false,"commenterId":"9","mention":[{"id":"3","zuid":555,"offSet":"0","length":"9"}]}`
	serve(t, mux, "GET /api/v1/tickets/7/comments", wantReq{method: "GET", path: "/api/v1/tickets/7/comments", org: true, query: q("limit", "10", "sortBy", "-commentedTime", "include", "mentions")}, 200, `{"data":[`+comment+`]}`)
	serve(t, mux, "POST /api/v1/tickets/7/comments", wantReq{method: "POST", path: "/api/v1/tickets/7/comments", org: true, body: `{"content":"look","isPublic":false,"contentType":"plainText"}`}, 200, comment)
	serve(t, mux, "PATCH /api/v1/tickets/7/comments/21", wantReq{method: "PATCH", path: "/api/v1/tickets/7/comments/21", org: true, body: `{"content":"look again","isPublic":true}`}, 200, comment)
	serve(t, mux, "DELETE /api/v1/tickets/7/comments/21", wantReq{method: "DELETE", path: "/api/v1/tickets/7/comments/21", org: true}, 200, "")
	list, _, err := c.Comments.List(t.Context(), testOrg, "7", &CommentListOptions{ListOptions: ListOptions{Limit: 10}, SortBy: "-commentedTime", IncludeMentions: true})
	if err != nil || len(list) != 1 || list[0].Mentions[0].ZUID != "555" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if _, _, err := c.Comments.Create(t.Context(), testOrg, "7", &CommentRequest{Content: "look", ContentType: "plainText"}); err != nil {
		t.Error(err)
	}
	if _, _, err := c.Comments.Update(t.Context(), testOrg, "7", "21", &CommentRequest{Content: "look again", IsPublic: true}); err != nil {
		t.Error(err)
	}
	if _, err := c.Comments.Delete(t.Context(), testOrg, "7", "21"); err != nil {
		t.Error(err)
	}
	if _, _, err := c.Comments.Create(t.Context(), testOrg, "7", &CommentRequest{Content: strings.Repeat("x", MaxCommentContent+1)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("too long: err = %v, want ErrInvalid", err)
	}
	if _, err := c.Comments.Delete(t.Context(), testOrg, "7", ".."); !errors.Is(err, ErrInvalid) {
		t.Errorf("dot segment: err = %v, want ErrInvalid", err)
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "GET /api/v1/tickets/7/tags", wantReq{method: "GET", path: "/api/v1/tickets/7/tags", org: true}, 200, `{"tags":[{"id":31,"name":"vip","tagType":"MANUAL"}]}`)
	serve(t, mux, "POST /api/v1/tickets/7/associateTag", wantReq{method: "POST", path: "/api/v1/tickets/7/associateTag", org: true, body: `{"tags":["vip","billing issue"]}`}, 200, `{"data":[{"id":"31","name":"vip","tagType":"MANUAL"}]}`)
	serve(t, mux, "POST /api/v1/tickets/7/dissociateTag", wantReq{method: "POST", path: "/api/v1/tickets/7/dissociateTag", org: true, body: `{"tags":["vip"]}`}, 200, "")
	tags, _, err := c.Tags.List(t.Context(), testOrg, "7")
	if err != nil || len(tags) != 1 || tags[0].ID != "31" {
		t.Fatalf("List = %+v, %v", tags, err)
	}
	if added, _, err := c.Tags.Add(t.Context(), testOrg, "7", []string{"vip", "billing issue"}); err != nil || len(added) != 1 {
		t.Errorf("Add = %+v, %v", added, err)
	}
	if _, err := c.Tags.Remove(t.Context(), testOrg, "7", []string{"vip"}); err != nil {
		t.Error(err)
	}
	for _, bad := range [][]string{nil, {"ab"}, {"null"}, {"a<b>c"}, make([]string, 52)} {
		if err := CheckTagNames(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckTagNames(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if err := CheckTagNames([]string{"ünïcode", "a.b-c+d%e_f g"}); err != nil {
		t.Errorf("valid names refused: %v", err)
	}
}

func TestTimeEntries(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	entry := `{"id":"41","executedTime":"2026-01-02T09:00:00.000Z","hoursSpent":1,"minutesSpent":"30","secondsSpent":"0","isBillable":true,"ownerId":"9"}`
	serve(t, mux, "GET /api/v1/tickets/7/timeEntry", wantReq{method: "GET", path: "/api/v1/tickets/7/timeEntry", org: true, query: q("billStatus", "billable", "orderBy", "DESC", "include", "owner")}, 200, `{"data":[`+entry+`]}`)
	serve(t, mux, "POST /api/v1/tickets/7/timeEntry", wantReq{method: "POST", path: "/api/v1/tickets/7/timeEntry", org: true,
		body: `{"executedTime":"2026-01-02T09:00:00.000Z","hoursSpent":1,"minutesSpent":30,"secondsSpent":0,"isBillable":true,"ownerId":"9"}`}, 200, entry)
	list, _, err := c.TimeEntries.List(t.Context(), testOrg, "7", &TimeEntryListOptions{BillStatus: "billable", OrderBy: "DESC", IncludeOwner: true})
	if err != nil || len(list) != 1 || list[0].HoursSpent != "1" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	e, _, err := c.TimeEntries.Create(t.Context(), testOrg, "7", &TimeEntryCreateRequest{ExecutedTime: "2026-01-02T09:00:00.000Z", HoursSpent: 1, MinutesSpent: 30, IsBillable: true, OwnerID: "9"})
	if err != nil || e.ID != "41" {
		t.Errorf("Create = %+v, %v", e, err)
	}
	if _, _, err := c.TimeEntries.Create(t.Context(), testOrg, "7", &TimeEntryCreateRequest{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no executedTime: err = %v, want ErrInvalid", err)
	}
}

func TestHistoryAndSupportAddresses(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve(t, mux, "GET /api/v1/tickets/7/History", wantReq{method: "GET", path: "/api/v1/tickets/7/History", org: true, query: q("limit", "50", "fieldName", "status")}, 200,
		`{"data":[{"eventName":"TicketUpdated","eventTime":"2026-01-02T09:00:00Z","actor":{"id":9,"name":"Bo","type":"Agent"},"eventInfo":[{"propertyName":"Status","propertyType":"Text","systemProperty":true,"propertyValue":{"previousValue":"Open","updatedValue":"Closed"}}]}]}`)
	serve(t, mux, "GET /api/v1/supportEmailAddress", wantReq{method: "GET", path: "/api/v1/supportEmailAddress", org: true, query: q("departmentId", "3")}, 200, `{"data":[{"id":"1","address":"support@acme.example","isDefault":true}]}`)
	ev, _, err := c.History.List(t.Context(), testOrg, "7", &HistoryListOptions{ListOptions: ListOptions{Limit: 50}, FieldName: "status"})
	if err != nil || len(ev) != 1 || ev[0].Actor.ID != "9" {
		t.Fatalf("History.List = %+v, %v", ev, err)
	}
	prev, upd, ok := ev[0].EventInfo[0].Change()
	if !ok || string(prev) != `"Open"` || string(upd) != `"Closed"` {
		t.Errorf("Change = %s, %s, %v", prev, upd, ok)
	}
	addrs, _, err := c.SupportEmailAddresses.List(t.Context(), testOrg, &SupportEmailAddressListOptions{DepartmentID: "3"})
	if err != nil || len(addrs) != 1 || addrs[0].Address != "support@acme.example" || !addrs[0].IsDefault {
		t.Errorf("SupportEmailAddresses.List = %+v, %v", addrs, err)
	}
	if _, _, err := c.History.List(t.Context(), testOrg, "7", &HistoryListOptions{ListOptions: ListOptions{Limit: 51}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit 51: err = %v, want ErrInvalid", err)
	}
}

// FuzzConversationItem decodes arbitrary conversation rows: never a panic,
// and a successful decode sets exactly the member its type names.
func FuzzConversationItem(f *testing.F) {
	for _, s := range []string{`{"type":"thread","id":1,"author":{"id":2}}`, `{"type":"comment","id":"3","commenter":null}`, `{"type":"call"}`, `{}`, `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var it ConversationItem
		if json.Unmarshal([]byte(s), &it) != nil {
			return
		}
		switch it.Type {
		case "thread":
			if it.Thread == nil || it.Comment != nil {
				t.Fatalf("thread item decoded as %+v", it)
			}
		case "comment":
			if it.Comment == nil || it.Thread != nil {
				t.Fatalf("comment item decoded as %+v", it)
			}
		default:
			if it.Thread != nil || it.Comment != nil {
				t.Fatalf("%q item decoded as %+v", it.Type, it)
			}
		}
	})
}

func TestThreadsListAllCountsFromOne(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var froms []string
	mux.HandleFunc("GET /api/v1/tickets/7/threads", func(w http.ResponseWriter, r *http.Request) {
		froms = append(froms, r.URL.Query().Get("from"))
		if len(froms) == 1 {
			w.Write([]byte(`{"data":[{"id":"1"},{"id":"2"}]}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	n, err := drain(c.Threads.ListAll(t.Context(), testOrg, "7", &ThreadListOptions{ListOptions: ListOptions{Limit: 2}}))
	if err != nil || n != 2 {
		t.Fatalf("ListAll = %d, %v", n, err)
	}
	if strings.Join(froms, ",") != "1,3" {
		t.Errorf("from values = %v, want 1 then 3", froms)
	}
}
