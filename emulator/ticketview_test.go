package emulator

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The ticket JSON as the emulator built it before rows were encoded
// outside the state lock (maps, encoded by encoding/json), kept verbatim as
// the oracle the views and the row encoder must match byte for byte.

// oldTicketDetail is the full ticket (create/get/update response).
func oldTicketDetail(c *call, t *ticket) map[string]any {
	return map[string]any{
		"id": t.ID, "ticketNumber": t.number(), "subject": t.Subject, "description": ns(t.Description),
		"status": t.Status, "statusType": c.statusType(t), "priority": ns(t.Priority), "channel": ns(t.Channel), "channelCode": nil,
		"classification": ns(t.Classification), "category": ns(t.Category), "subCategory": ns(t.SubCategory), "language": ns(t.Language),
		"departmentId": t.DepartmentID, "contactId": t.ContactID, "accountId": ns(t.AccountID), "productId": ns(t.ProductID),
		"assigneeId": ns(t.AssigneeID), "teamId": ns(t.TeamID), "email": ns(t.Email), "phone": ns(t.Phone),
		"dueDate": ts(t.DueDate), "responseDueDate": ts(t.ResponseDueDate), "createdTime": ts(t.Created), "modifiedTime": ts(t.Modified),
		"closedTime": ts(t.Closed), "onholdTime": ts(t.Onhold), "customerResponseTime": ts(t.CustomerResponse), "lockedTime": nil,
		"threadCount": itoa(t.ThreadCount), "commentCount": itoa(t.CommentCount), "taskCount": "0",
		"attachmentCount": itoa(len(c.org.attachments[t.ID])), "approvalCount": "0", "timeEntryCount": "0",
		"isOverDue": !t.DueDate.IsZero() && t.DueDate.Before(c.now) && c.statusType(t) != "Closed", "isResponseOverdue": false,
		"isEscalated": t.Status == "Escalated", "isSpam": false, "isArchived": false, "isDeleted": false, "isTrashed": t.Trashed,
		"resolution": ns(t.Resolution), "secondaryContacts": strs(t.SecondaryContacts), "entitySkills": strs(t.EntitySkills),
		"sharedDepartments": []any{}, "source": map[string]any{"appName": nil, "extId": nil, "permalink": nil, "type": "SYSTEM", "appPhotoURL": nil, "uuid": nil},
		"channelRelatedInfo": nil, "layoutId": c.layoutID(), "layoutDetails": map[string]any{"id": c.layoutID(), "layoutName": "Standard"},
		"slaId": nil, "webUrl": c.webURL(t), "modifiedBy": ns(t.ModifiedBy), "cf": mapOrEmpty(t.CF), "customFields": mapOrEmpty(t.CF),
	}
}

var oldRowFields = []string{"id", "ticketNumber", "subject", "status", "statusType", "priority", "channel", "channelCode", "departmentId",
	"contactId", "accountId", "productId", "assigneeId", "teamId", "email", "phone", "dueDate", "responseDueDate", "createdTime",
	"customerResponseTime", "closedTime", "onholdTime", "lockedTime", "threadCount", "commentCount", "isArchived", "isSpam", "webUrl",
	"category", "subCategory", "layoutId", "language", "source"}

// oldTicketRow is a list row (OAS listviewJson): a subset plus lastThread.
func oldTicketRow(c *call, t *ticket) map[string]any {
	d := oldTicketDetail(c, t)
	m := make(map[string]any, len(oldRowFields)+4)
	for _, f := range oldRowFields {
		m[f] = d[f]
	}
	m["lastThread"] = map[string]any{"channel": strings.ToUpper(t.Channel), "isDraft": false, "isForward": false, "direction": "in"}
	m["relationshipType"] = "None"
	m["sentiment"] = nil
	// A list row's source has no uuid (NANGO-REC list-tickets), unlike the
	// full ticket's.
	m["source"] = map[string]any{"appName": nil, "extId": nil, "permalink": nil, "type": "SYSTEM", "appPhotoURL": nil}
	return m
}

func oldAddIncludes(c *call, m map[string]any, t *ticket, inc map[string]bool) {
	if inc["contacts"] {
		var v any
		if ct := c.org.contacts[t.ContactID]; ct != nil {
			v = map[string]any{"id": ct.ID, "firstName": ns(ct.FirstName), "lastName": ct.LastName, "email": ns(ct.Email),
				"phone": ns(ct.Phone), "mobile": ns(ct.Mobile), "type": ns(ct.Type), "account": c.accountRef(ct.AccountID)}
		}
		m["contact"] = v
	}
	if inc["assignee"] {
		var v any
		if a := c.org.agents[t.AssigneeID]; a != nil {
			v = map[string]any{"id": a.ID, "firstName": ns(a.FirstName), "lastName": a.LastName, "email": a.Email, "photoURL": nil}
		}
		m["assignee"] = v
	}
	if inc["departments"] {
		var v any
		if d := c.org.department(t.DepartmentID); d != nil {
			v = map[string]any{"id": d.ID, "name": d.Name}
		}
		m["department"] = v
	}
	if inc["team"] {
		var v any
		if tm := c.org.team(t.TeamID); tm != nil {
			v = map[string]any{"id": tm.ID, "name": tm.Name, "logoUrl": nil}
		}
		m["team"] = v
	}
	if inc["products"] {
		var v any
		if p := c.org.product(t.ProductID); p != nil {
			v = map[string]any{"id": p.ID, "productName": p.Name}
		}
		m["product"] = v
	}
	if inc["contract"] {
		m["contractId"] = nil
	}
	if inc["isRead"] {
		m["isRead"] = true
	}
	if inc["skills"] {
		m["skillsInfo"] = []any{}
	}
}

func encodeJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(buf.String(), "\n")
}

// TestTicketRowsMatchMaps checks that list rows written by appendRow and
// details built from views are byte for byte the JSON of the maps the
// emulator used to build under the lock, for every seeded ticket, tickets
// with awkward strings and every include combination.
func TestTicketRowsMatchMaps(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	e := New(Options{Now: func() time.Time { return now }})
	o := e.st.orgs[DemoOrgID]
	c := &call{e: e, r: httptest.NewRequest("GET", "http://127.0.0.1:8443/api/v1/tickets", nil), out: newResp(),
		dc: DataCenter{Location: "us"}, org: o, now: now}
	odd := []*ticket{
		{ID: "91", Number: 9001, Subject: "quote \" back\\slash\nnew\tline \x01\x1f <b>&amp;</b> \u2028\u2029 \xff\xfe é 日本",
			Status: "Escalated", Channel: "Web\"Form", Category: "c\u007f", Language: "Fran\u00e7ais", DepartmentID: "", ContactID: "",
			AssigneeID: "no-such-agent", TeamID: "no-such-team", ProductID: "no-such-product", Email: "a@b.c", Phone: "+1 (555)",
			DueDate: now.Add(-time.Hour), ResponseDueDate: now.Add(time.Hour), Created: now.Add(-48 * time.Hour),
			Modified: now, Closed: now.In(time.FixedZone("X", 3600)), Onhold: now, CustomerResponse: now.Add(-time.Minute),
			CF: map[string]any{"cf_a": []any{1.5, "x", map[string]any{"k": nil}}}, SecondaryContacts: []string{"1", "2"},
			EntitySkills: []string{}, ThreadCount: 12, CommentCount: -1, Trashed: true},
		{ID: "92", Number: 9002, Status: "no such status"},
	}
	for _, tk := range odd {
		tk.numStr = ""
		o.attachments[tk.ID] = make([]*attachment, 3)
	}
	tickets := append(append([]*ticket{}, o.ticketOrder...), odd...)
	if len(tickets) < SeedTicketCount {
		t.Fatalf("only %d tickets", len(tickets))
	}
	incs := []map[string]bool{
		{},
		{"contacts": true, "products": true, "departments": true, "team": true, "assignee": true, "isRead": true},
		{"contacts": true, "products": true, "assignee": true, "departments": true, "contract": true, "isRead": true, "team": true, "skills": true},
		{"isRead": true}, {"team": true, "contract": true},
	}
	for _, inc := range incs {
		for _, tk := range tickets {
			want := oldTicketRow(c, tk)
			oldAddIncludes(c, want, tk, inc)
			v := c.view(tk, false)
			v.inc = c.includes(tk, inc)
			if got, want := string(appendRow(nil, &v)), encodeJSON(t, want); got != want {
				t.Fatalf("ticket %s, include %v: row\n got %s\nwant %s", tk.ID, inc, got, want)
			}
			wantDetail := oldTicketDetail(c, tk)
			oldAddIncludes(c, wantDetail, tk, inc)
			fv := c.view(tk, true)
			fv.inc = c.includes(tk, inc)
			gotDetail := fv.detail()
			fv.addIncludes(gotDetail)
			if got, want := encodeJSON(t, gotDetail), encodeJSON(t, wantDetail); got != want {
				t.Fatalf("ticket %s, include %v: detail\n got %s\nwant %s", tk.ID, inc, got, want)
			}
		}
	}
}

// TestViewSharesNothingMutable checks that a full view deep-copies the
// custom fields and slices, so changing the ticket afterwards (as an update
// under the lock may) leaves a view being encoded untouched.
func TestViewSharesNothingMutable(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	o := e.st.orgs[DemoOrgID]
	c := &call{e: e, r: httptest.NewRequest("GET", "http://127.0.0.1/api/v1/tickets", nil), out: newResp(), dc: DataCenter{Location: "us"}, org: o}
	tk := &ticket{ID: "1", CF: map[string]any{"cf_list": []any{"a"}, "cf_obj": map[string]any{"k": "v"}},
		SecondaryContacts: []string{"c1"}, EntitySkills: []string{"s1"}}
	v := c.view(tk, true)
	before := encodeJSON(t, v.detail())
	tk.CF["cf_list"].([]any)[0] = "changed"
	tk.CF["cf_obj"].(map[string]any)["k"] = "changed"
	tk.CF["cf_new"] = 1
	tk.SecondaryContacts[0], tk.EntitySkills[0] = "changed", "changed"
	tk.Subject = "changed"
	if after := encodeJSON(t, v.detail()); after != before || strings.Contains(after, "changed") {
		t.Fatalf("view changed with the ticket:\nbefore %s\nafter  %s", before, after)
	}
	if rv := c.view(tk, false); rv.t.CF != nil || rv.t.SecondaryContacts != nil || rv.t.EntitySkills != nil {
		t.Fatalf("row view keeps references: %+v", rv.t)
	}
}

// FuzzAppendTime checks appendTime against ts, which uses time.Format.
func FuzzAppendTime(f *testing.F) {
	for _, t := range []time.Time{{}, time.Unix(0, 0), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.FixedZone("X", -5*3600)), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		f.Add(t.Unix(), int64(t.Nanosecond()))
	}
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		tm := time.Unix(sec, nsec)
		if sec == (time.Time{}).Unix() && nsec == 0 {
			tm = time.Time{}
		}
		if got, want := string(appendTime(nil, tm)), encodeJSON(t, ts(tm)); got != want {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	})
}

// FuzzAppendJSONString checks the string and value encoders against
// encoding/json (SetEscapeHTML(false)), byte for byte.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\", "\x00\x01\b\f\n\r\t\x1f\x7f", "<a href=\"x\">&</a>", "\u2028\u2029",
		"bad \xff\xfe utf8 \xe2\x82", "é 日本 🎉", "\ufffd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendJSONString([]byte("x"), s)), "x"+encodeJSON(t, s); got != want {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		v := map[string]any{s: []any{s, nil, true, false, []string{s}, map[string]any{"": s, "z" + s: 2.5}}, "n": ns(s)}
		if got, want := string(appendJSONValue(nil, v)), encodeJSON(t, v); got != want {
			t.Fatalf("appendJSONValue(%v) = %s, want %s", v, got, want)
		}
	})
}
