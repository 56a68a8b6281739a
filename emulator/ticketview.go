package emulator

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// ticketView is a self-contained copy of everything a ticket's JSON needs.
// It is taken under the state lock and read after the lock is released
// (the ticket list encodes its rows that way), so it shares nothing mutable
// with the state: the ticket is copied by value, and with full its cf map
// and slices are deep-copied (without full they are dropped: list rows do
// not carry them).
type ticketView struct {
	t               ticket
	statusType      string
	attachmentCount int
	overdue         bool
	webURL          string
	layoutID        string
	inc             []include // requested includes (see call.includes)
}

// include is one key a request's include parameter adds to a ticket.
type include struct {
	key string
	val any // fresh values only: nil, strings, bools, maps and slices of them
}

// view snapshots t; c.org must be read under the state lock.
func (c *call) view(t *ticket, full bool) ticketView {
	v := ticketView{t: *t, statusType: c.statusType(t), attachmentCount: len(c.org.attachments[t.ID]),
		webURL: c.webURL(t), layoutID: c.layoutID()}
	v.overdue = !t.DueDate.IsZero() && t.DueDate.Before(c.now) && v.statusType != "Closed"
	if full {
		v.t.CF = copyJSONMap(t.CF)
		v.t.SecondaryContacts = slices.Clone(t.SecondaryContacts)
		v.t.EntitySkills = slices.Clone(t.EntitySkills)
	} else {
		v.t.CF, v.t.SecondaryContacts, v.t.EntitySkills = nil, nil, nil
	}
	return v
}

// copyJSONMap deep-copies a map decoded from JSON (nil stays nil).
func copyJSONMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	cp := make(map[string]any, len(m))
	for k, v := range m {
		cp[k] = copyJSONValue(v)
	}
	return cp
}

func copyJSONValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return copyJSONMap(v)
	case []any:
		cp := make([]any, len(v))
		for i, e := range v {
			cp[i] = copyJSONValue(e)
		}
		return cp
	}
	return v // nil, bool, float64, string: immutable
}

// detail is the full ticket (create/get/update response); v must be a full
// view.
func (v *ticketView) detail() map[string]any {
	t := &v.t
	return map[string]any{
		"id": t.ID, "ticketNumber": t.number(), "subject": t.Subject, "description": ns(t.Description),
		"status": t.Status, "statusType": v.statusType, "priority": ns(t.Priority), "channel": ns(t.Channel), "channelCode": nil,
		"classification": ns(t.Classification), "category": ns(t.Category), "subCategory": ns(t.SubCategory), "language": ns(t.Language),
		"departmentId": t.DepartmentID, "contactId": t.ContactID, "accountId": ns(t.AccountID), "productId": ns(t.ProductID),
		"assigneeId": ns(t.AssigneeID), "teamId": ns(t.TeamID), "email": ns(t.Email), "phone": ns(t.Phone),
		"dueDate": ts(t.DueDate), "responseDueDate": ts(t.ResponseDueDate), "createdTime": ts(t.Created), "modifiedTime": ts(t.Modified),
		"closedTime": ts(t.Closed), "onholdTime": ts(t.Onhold), "customerResponseTime": ts(t.CustomerResponse), "lockedTime": nil,
		"threadCount": itoa(t.ThreadCount), "commentCount": itoa(t.CommentCount), "taskCount": "0",
		"attachmentCount": itoa(v.attachmentCount), "approvalCount": "0", "timeEntryCount": "0",
		"isOverDue": v.overdue, "isResponseOverdue": false,
		"isEscalated": t.Status == "Escalated", "isSpam": false, "isArchived": false, "isDeleted": false, "isTrashed": t.Trashed,
		"resolution": ns(t.Resolution), "secondaryContacts": strs(t.SecondaryContacts), "entitySkills": strs(t.EntitySkills),
		"sharedDepartments": []any{}, "source": map[string]any{"appName": nil, "extId": nil, "permalink": nil, "type": "SYSTEM", "appPhotoURL": nil, "uuid": nil},
		"channelRelatedInfo": nil, "layoutId": v.layoutID, "layoutDetails": map[string]any{"id": v.layoutID, "layoutName": "Standard"},
		"slaId": nil, "webUrl": v.webURL, "modifiedBy": ns(t.ModifiedBy),
		// Live ticket objects carry both cf and customFields (NANGO-REC
		// get-ticket, create-ticket; audit row 26). [I] Zoho keys
		// customFields by field label; the emulator has no layouts, so
		// both carry the cf_ API names.
		"cf": mapOrEmpty(t.CF), "customFields": mapOrEmpty(copyJSONMap(t.CF)),
	}
}

// addIncludes sets v's include keys on m.
func (v *ticketView) addIncludes(m map[string]any) {
	for _, in := range v.inc {
		m[in.key] = in.val
	}
}

// includes builds the keys the include parameter (inc) adds to ticket t:
// contact, assignee, department, team and product (null when the ticket
// has none) and the constant contractId, isRead and skillsInfo. It reads
// c.org (under the state lock); the values are fresh.
func (c *call) includes(t *ticket, inc map[string]bool) []include {
	var out []include
	if inc["contacts"] {
		var v any
		if ct := c.org.contacts[t.ContactID]; ct != nil {
			v = map[string]any{"id": ct.ID, "firstName": ns(ct.FirstName), "lastName": ct.LastName, "email": ns(ct.Email),
				"phone": ns(ct.Phone), "mobile": ns(ct.Mobile), "type": ns(ct.Type), "account": c.accountRef(ct.AccountID)}
		}
		out = append(out, include{"contact", v})
	}
	if inc["assignee"] {
		var v any
		if a := c.org.agents[t.AssigneeID]; a != nil {
			v = map[string]any{"id": a.ID, "firstName": ns(a.FirstName), "lastName": a.LastName, "email": a.Email, "photoURL": nil}
		}
		out = append(out, include{"assignee", v})
	}
	if inc["departments"] {
		var v any
		if d := c.org.department(t.DepartmentID); d != nil {
			v = map[string]any{"id": d.ID, "name": d.Name}
		}
		out = append(out, include{"department", v})
	}
	if inc["team"] {
		var v any
		if tm := c.org.team(t.TeamID); tm != nil {
			v = map[string]any{"id": tm.ID, "name": tm.Name, "logoUrl": nil}
		}
		out = append(out, include{"team", v})
	}
	if inc["products"] {
		var v any
		if p := c.org.product(t.ProductID); p != nil {
			v = map[string]any{"id": p.ID, "productName": p.Name}
		}
		out = append(out, include{"product", v})
	}
	if inc["contract"] {
		out = append(out, include{"contractId", nil})
	}
	if inc["isRead"] {
		out = append(out, include{"isRead", true})
	}
	if inc["skills"] {
		out = append(out, include{"skillsInfo", []any{}})
	}
	return out
}

// rowKey is one key of a list row (OAS listviewJson): write appends its
// value. Include keys have no write: their value comes from the view's
// includes, and the key is left out when not requested.
type rowKey struct {
	name  string
	write func(b []byte, v *ticketView) []byte
	// prefix is `"name":`, encoded once.
	prefix string
}

const timeLayout = "2006-01-02T15:04:05.000Z"

// appendTime appends t as ts(t) encodes: null for the zero time, else
// "2006-01-02T15:04:05.000Z" in UTC (milliseconds truncated, as Format
// does). Years outside 0000-9999 go through Format.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		b = append(b, '"')
		b = t.AppendFormat(b, timeLayout)
		return append(b, '"')
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	b = append(b, '"')
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	b = append(b, byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T')
	b = append(b, byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':')
	b = append(b, byte('0'+sec/10), byte('0'+sec%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
	return b
}

func appendIntString(b []byte, n int) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '"')
}

func constJSON(s string) func([]byte, *ticketView) []byte {
	return func(b []byte, _ *ticketView) []byte { return append(b, s...) }
}

// rowKeys are the keys of a list row in byte order, which is the order
// encoding/json writes a map's keys in, so a row is byte-for-byte what
// encoding the equivalent map[string]any gives (TestTicketRowsMatchMaps).
var rowKeys = func() []rowKey {
	str := func(get func(*ticket) string) func([]byte, *ticketView) []byte {
		return func(b []byte, v *ticketView) []byte { return appendJSONString(b, get(&v.t)) }
	}
	nstr := func(get func(*ticket) string) func([]byte, *ticketView) []byte {
		return func(b []byte, v *ticketView) []byte { return appendJSONNullString(b, get(&v.t)) }
	}
	tm := func(get func(*ticket) time.Time) func([]byte, *ticketView) []byte {
		return func(b []byte, v *ticketView) []byte { return appendTime(b, get(&v.t)) }
	}
	keys := []rowKey{
		{name: "id", write: str(func(t *ticket) string { return t.ID })},
		{name: "ticketNumber", write: str((*ticket).number)},
		{name: "subject", write: str(func(t *ticket) string { return t.Subject })},
		{name: "status", write: str(func(t *ticket) string { return t.Status })},
		{name: "statusType", write: func(b []byte, v *ticketView) []byte { return appendJSONString(b, v.statusType) }},
		{name: "priority", write: nstr(func(t *ticket) string { return t.Priority })},
		{name: "channel", write: nstr(func(t *ticket) string { return t.Channel })},
		{name: "channelCode", write: constJSON("null")},
		{name: "departmentId", write: str(func(t *ticket) string { return t.DepartmentID })},
		{name: "contactId", write: str(func(t *ticket) string { return t.ContactID })},
		{name: "accountId", write: nstr(func(t *ticket) string { return t.AccountID })},
		{name: "productId", write: nstr(func(t *ticket) string { return t.ProductID })},
		{name: "assigneeId", write: nstr(func(t *ticket) string { return t.AssigneeID })},
		{name: "teamId", write: nstr(func(t *ticket) string { return t.TeamID })},
		{name: "email", write: nstr(func(t *ticket) string { return t.Email })},
		{name: "phone", write: nstr(func(t *ticket) string { return t.Phone })},
		{name: "dueDate", write: tm(func(t *ticket) time.Time { return t.DueDate })},
		{name: "responseDueDate", write: tm(func(t *ticket) time.Time { return t.ResponseDueDate })},
		{name: "createdTime", write: tm(func(t *ticket) time.Time { return t.Created })},
		{name: "customerResponseTime", write: tm(func(t *ticket) time.Time { return t.CustomerResponse })},
		{name: "closedTime", write: tm(func(t *ticket) time.Time { return t.Closed })},
		{name: "onholdTime", write: tm(func(t *ticket) time.Time { return t.Onhold })},
		{name: "lockedTime", write: constJSON("null")},
		{name: "threadCount", write: func(b []byte, v *ticketView) []byte { return appendIntString(b, v.t.ThreadCount) }},
		{name: "commentCount", write: func(b []byte, v *ticketView) []byte { return appendIntString(b, v.t.CommentCount) }},
		{name: "isArchived", write: constJSON("false")},
		{name: "isSpam", write: constJSON("false")},
		{name: "webUrl", write: func(b []byte, v *ticketView) []byte { return appendJSONString(b, v.webURL) }},
		{name: "category", write: nstr(func(t *ticket) string { return t.Category })},
		{name: "subCategory", write: nstr(func(t *ticket) string { return t.SubCategory })},
		{name: "layoutId", write: func(b []byte, v *ticketView) []byte { return appendJSONString(b, v.layoutID) }},
		{name: "language", write: nstr(func(t *ticket) string { return t.Language })},
		{name: "source", write: constJSON(`{"appName":null,"appPhotoURL":null,"extId":null,"permalink":null,"type":"SYSTEM"}`)},
		{name: "lastThread", write: func(b []byte, v *ticketView) []byte {
			b = append(b, `{"channel":`...)
			b = appendJSONString(b, strings.ToUpper(v.t.Channel))
			b = append(b, `,"direction":`...)
			b = appendJSONString(b, v.t.lastDirection())
			return append(b, `,"isDraft":false,"isForward":false}`...)
		}},
		{name: "relationshipType", write: constJSON(`"None"`)}, // live (NANGO-REC list-tickets)
		{name: "sentiment", write: constJSON("null")},
		// Include keys (call.includes).
		{name: "contact"}, {name: "assignee"}, {name: "department"}, {name: "team"}, {name: "product"},
		{name: "contractId"}, {name: "isRead"}, {name: "skillsInfo"},
	}
	slices.SortFunc(keys, func(a, b rowKey) int { return strings.Compare(a.name, b.name) })
	for i := range keys {
		keys[i].prefix = string(append(appendJSONString(nil, keys[i].name), ':'))
	}
	return keys
}()

// appendRow appends v as a list row: the rowKeys and v's includes.
func appendRow(b []byte, v *ticketView) []byte {
	b = append(b, '{')
	first := true
	for i := range rowKeys {
		k := &rowKeys[i]
		var val any
		if k.write == nil {
			j := slices.IndexFunc(v.inc, func(in include) bool { return in.key == k.name })
			if j < 0 {
				continue
			}
			val = v.inc[j].val
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, k.prefix...)
		if k.write == nil {
			b = appendJSONValue(b, val)
		} else {
			b = k.write(b, v)
		}
	}
	return append(b, '}')
}
