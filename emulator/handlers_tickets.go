package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (c *call) webURL(t *ticket) string {
	return c.deskBase() + "/support/" + c.org.Portal + "/ShowHomePage.do#Cases/dv/" + t.ID
}

func (c *call) statusType(t *ticket) string {
	st, _ := c.org.statusType(t.Status)
	if st == "" {
		st = "Open"
	}
	return st
}

// ticketDetail is the full ticket (create/get/update response).
func (c *call) ticketDetail(t *ticket) map[string]any {
	v := c.view(t, true)
	return v.detail()
}

// addIncludes sets on m the keys the include parameter inc adds to t.
func (c *call) addIncludes(m map[string]any, t *ticket, inc map[string]bool) {
	for _, in := range c.includes(t, inc) {
		m[in.key] = in.val
	}
}

func (e *Emulator) getTicket(c *call) {
	inc, ok := c.includeParam("contacts", "products", "assignee", "departments", "contract", "isRead", "team", "skills")
	if !ok {
		return
	}
	t := c.org.tickets[c.vars["id"]]
	if t == nil || e.trashedHidden(t) { // Options.TrashedTickets
		notFound(c.out)
		return
	}
	v := c.view(t, true)
	v.inc = c.includes(t, inc)
	m := v.detail()
	m["createdBy"], m["tagCount"], m["followerCount"], m["isFollowing"], m["sentiment"] = ns(t.CreatedBy), c.org.ticketTagCount(t), "0", false, nil
	v.addIncludes(m)
	c.out.json(http.StatusOK, m)
}

// ticketFilter is the parsed filter set of GET /tickets.
type ticketFilter struct {
	depts, assignees, teams, channels, statuses, priorities []string
	unassigned                                              bool
	since                                                   time.Time
}

func (f *ticketFilter) match(t *ticket) bool {
	if t.Trashed {
		return false
	}
	if len(f.depts) > 0 && !contains(f.depts, t.DepartmentID) {
		return false
	}
	if f.unassigned || len(f.assignees) > 0 {
		if !(f.unassigned && t.AssigneeID == "") && !contains(f.assignees, t.AssigneeID) {
			return false
		}
	}
	if len(f.teams) > 0 && !contains(f.teams, t.TeamID) {
		return false
	}
	if len(f.channels) > 0 && !containsFoldList(f.channels, t.Channel) {
		return false
	}
	if len(f.statuses) > 0 && !containsFoldList(f.statuses, t.Status) {
		return false
	}
	if len(f.priorities) > 0 && !containsFoldList(f.priorities, t.Priority) {
		return false
	}
	if !f.since.IsZero() && t.CustomerResponse.Before(f.since) {
		return false
	}
	return true
}

func containsFoldList(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

var ticketSorts = []string{"dueDate", "createdTime", "recentThread", "responseDueDate", "customerResponseTime", "ticketNumber"}

func (e *Emulator) listTickets(c *call) {
	from, limit, ok := c.paging(25, 100, false) // OAS default 25; max 100 (N-D29)
	if !ok {
		return
	}
	inc, ok := c.includeParam("contacts", "products", "departments", "team", "assignee", "isRead")
	if !ok {
		return
	}
	var f ticketFilter
	if d := c.q.Get("departmentId"); d != "" && d != "0" {
		f.depts = []string{d}
	}
	var oks [7]bool
	var depts []string
	depts, oks[0] = c.listParam("departmentIds", 20)
	f.depts = append(f.depts, depts...)
	var assignees []string
	assignees, oks[1] = c.listParam("assignee", 0)
	for _, a := range assignees {
		if strings.EqualFold(a, "Unassigned") {
			f.unassigned = true
		} else {
			f.assignees = append(f.assignees, a)
		}
	}
	f.teams, oks[2] = c.listParam("teamIds", 0)
	f.channels, oks[3] = c.listParam("channel", 0)
	f.statuses, oks[4] = c.listParam("status", 0)
	f.priorities, oks[5] = c.listParam("priority", 20)
	var fields []string
	fields, oks[6] = c.listParam("fields", 30)
	for _, o := range oks {
		if !o {
			return
		}
	}
	switch v := c.q.Get("receivedInDays"); v {
	case "", "-1":
	case "15", "30", "90":
		n, _ := strconv.Atoi(v)
		f.since = c.now.Add(-time.Duration(n) * 24 * time.Hour)
	default:
		unprocessable(c.out, "The value passed for the 'receivedInDays' query parameter is invalid.")
		return
	}
	sortBy := c.q.Get("sortBy")
	key := strings.TrimPrefix(sortBy, "-")
	if sortBy != "" && !contains(ticketSorts, key) {
		unprocessable(c.out, "The value passed for the 'sortBy' query parameter is invalid.")
		return
	}
	detail := map[string]bool{}
	var probe map[string]any
	if len(fields) > 0 {
		probe = (&ticketView{}).detail()
	}
	for _, fl := range fields {
		_, known := probe[fl]
		if !known && !strings.HasPrefix(fl, "cf_") {
			unprocessable(c.out, "The value passed for the 'fields' query parameter is invalid.")
			return
		}
		detail[fl] = true
	}
	// Without sortBy Zoho lists newest first: a live recording of
	// GET /tickets?from=0&limit=50 (NANGO-REC list-tickets.test.json,
	// audit row 1) returns createdTime descending.
	desc := sortBy == "" || strings.HasPrefix(sortBy, "-")
	page := make([]*ticket, 0, min(limit, 100))
	if key == "" || key == "createdTime" || key == "ticketNumber" {
		// ticketOrder is already sorted by creation (= number): walk it and
		// keep only the page. Memory per request is O(limit).
		skip := from
		n := len(c.org.ticketOrder)
		for i := 0; i < n && len(page) < limit; i++ {
			t := c.org.ticketOrder[i]
			if desc {
				t = c.org.ticketOrder[n-1-i]
			}
			if !f.match(t) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			page = append(page, t)
		}
	} else {
		// Other keys need a sort of the matches: pointers only, in the
		// emulator's reusable scratch slice (handlers run under the state
		// lock), so a request allocates no memory proportional to the
		// ticket count.
		all := e.scratch[:0]
		for _, t := range c.org.ticketOrder {
			if f.match(t) {
				all = append(all, t)
			}
		}
		defer func() { clear(all); e.scratch = all[:0] }()
		get := func(t *ticket) time.Time {
			switch key {
			case "dueDate":
				return t.DueDate
			case "responseDueDate":
				return t.ResponseDueDate
			case "recentThread":
				return t.Modified
			}
			return t.CustomerResponse
		}
		slices.SortStableFunc(all, func(x, y *ticket) int {
			a, b := get(x), get(y)
			switch {
			case a.IsZero() != b.IsZero(): // nulls last either way
				if a.IsZero() {
					return 1
				}
				return -1
			case desc:
				return b.Compare(a)
			}
			return a.Compare(b)
		})
		lo, hi := window(len(all), from, limit)
		page = all[lo:hi]
	}
	// Snapshot the page under the lock; build and encode the rows after
	// it is released, so a list never holds up other requests while it
	// encodes (and a concurrent update cannot tear a row).
	if len(page) == 0 {
		c.out.noContent(http.StatusNoContent)
		return
	}
	full := len(fields) > 0
	views := make([]ticketView, len(page))
	for i, t := range page {
		views[i] = c.view(t, full)
		views[i].inc = c.includes(t, inc)
	}
	c.out.afterUnlock(func(out *resp) {
		if full {
			items := make([]any, 0, len(views))
			for i := range views {
				v := &views[i]
				d := v.detail()
				m := map[string]any{"id": v.t.ID}
				for fl := range detail {
					if strings.HasPrefix(fl, "cf_") {
						m[fl] = v.t.CF[fl]
					} else {
						m[fl] = d[fl]
					}
				}
				v.addIncludes(m)
				items = append(items, m)
			}
			writePage(out, items, nil)
			return
		}
		b := make([]byte, 0, 64+1280*len(views))
		b = append(b, `{"data":[`...)
		for i := range views {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendRow(b, &views[i])
		}
		out.rawJSON(http.StatusOK, append(b, "]}"...))
	})
}

// applyTicketFields reads create/update fields from b into t. create
// enforces required fields; update allows explicit nulls on nullable ones.
func (e *Emulator) applyTicketFields(c *call, b *jsonBody, t *ticket, create bool) (newContact *contact) {
	str := func(name string, max int, dst *string, nullable bool) {
		v, present, null := b.str(name, max)
		switch {
		case !present:
		case null && !nullable:
			b.fail(name, "invalid")
		default:
			*dst = v
		}
	}
	ref := func(name string, dst *string, exists func(string) bool, nullable bool) {
		v, present, null := b.id(name)
		switch {
		case !present:
		case null:
			if !nullable {
				b.fail(name, "invalid")
			} else {
				*dst = ""
			}
		case !exists(v):
			b.fail(name, "invalid")
		default:
			*dst = v
		}
	}
	subj, present, null := b.str("subject", 255)
	if (create && (!present || subj == "")) || (!create && present && (null || subj == "")) {
		b.fail("subject", map[bool]string{true: "missing", false: "invalid"}[create && (!present || null)])
	} else if present {
		t.Subject = subj
	}
	if create && !b.has("departmentId") {
		b.fail("departmentId", "missing")
	}
	ref("departmentId", &t.DepartmentID, func(id string) bool { d := c.org.department(id); return d != nil && d.IsEnabled }, false)
	ref("contactId", &t.ContactID, func(id string) bool { return c.org.contacts[id] != nil }, false)
	if cb, ok := b.object("contact"); ok {
		ct := &contact{}
		c.readContact(cb, ct, false)
		if ct.LastName == "" && ct.Email == "" {
			cb.fail("lastName", "missing")
		}
		cb.rejectUnknown()
		if !b.failed() {
			if ct.Email != "" {
				if existing := c.org.contactByEmail(ct.Email); existing != nil {
					t.ContactID = existing.ID
					ct = nil
				}
			}
			if ct != nil {
				if ct.LastName == "" {
					ct.LastName, _, _ = strings.Cut(ct.Email, "@")
				}
				newContact = ct
			}
		}
	} else if create && t.ContactID == "" && !b.failed() {
		b.fail("contactId", "missing")
	}
	str("email", 150, &t.Email, true)
	str("phone", 120, &t.Phone, true)
	str("description", 65535, &t.Description, true)
	if st, present, null := b.str("status", 120); present {
		if _, ok := c.org.statusType(st); null || !ok {
			b.fail("status", "invalid")
		} else {
			t.Status = st
		}
	}
	str("priority", 120, &t.Priority, true)
	if ch, present, null := b.str("channel", 120); present {
		if !null && !contains(c.org.channels, ch) {
			b.fail("channel", "invalid")
		} else {
			t.Channel = ch
		}
	}
	if cl, present, null := b.str("classification", 300); present {
		if !null && !contains(c.org.classes, cl) {
			b.fail("classification", "invalid")
		} else {
			t.Classification = cl
		}
	}
	str("category", 300, &t.Category, true)
	str("subCategory", 300, &t.SubCategory, true)
	str("language", 120, &t.Language, true)
	str("resolution", 65535, &t.Resolution, true)
	ref("assigneeId", &t.AssigneeID, func(id string) bool { a := c.org.agents[id]; return a != nil && a.Status == "ACTIVE" }, true)
	ref("teamId", &t.TeamID, func(id string) bool { return c.org.team(id) != nil }, true)
	ref("productId", &t.ProductID, func(id string) bool { return c.org.product(id) != nil }, true)
	ref("accountId", &t.AccountID, func(id string) bool { return c.org.liveAccount(id) != nil }, true)
	if d, present, null := b.timeField("dueDate"); present {
		if null {
			t.DueDate = time.Time{}
		} else {
			t.DueDate = d
		}
	}
	if _, present, null := b.str("responseDueDate", 0); present && !null {
		b.fail("responseDueDate", "invalid") // can only be set to null (OAS)
	} else if present {
		t.ResponseDueDate = time.Time{}
	}
	if cf, present := b.anyMap("cf"); present {
		if t.CF == nil {
			t.CF = map[string]any{}
		}
		for k, v := range cf {
			t.CF[k] = v
		}
	}
	if sc, present := b.strList("secondaryContacts", 20); present {
		for i, id := range sc {
			if c.org.contacts[id] == nil {
				b.fail(fmt.Sprintf("secondaryContacts/%d", i), "invalid")
			}
		}
		t.SecondaryContacts = sc
	}
	if sk, present := b.strList("entitySkills", 10); present {
		t.EntitySkills = sk
	}
	if ups, present := b.strList("uploads", 10); present {
		for i, id := range ups {
			if c.org.uploads[id] == nil {
				b.fail(fmt.Sprintf("uploads/%d", i), "invalid")
			}
		}
		if !b.failed() {
			for _, id := range ups {
				u := c.org.uploads[id]
				delete(c.org.uploads, id)
				u.TicketID = t.ID // t.ID may still be empty on create; fixed by caller
				c.org.attachments[t.ID] = append(c.org.attachments[t.ID], u)
				c.org.attByID[u.ID] = u
			}
		}
	}
	// Assignee must belong to the ticket's department.
	if t.AssigneeID != "" && t.DepartmentID != "" && !b.failed() {
		if a := c.org.agents[t.AssigneeID]; a != nil && !contains(a.DepartmentIDs, t.DepartmentID) && b.has("assigneeId") {
			b.fail("assigneeId", "invalid")
		}
	}
	b.rejectUnknown()
	return newContact
}

func (e *Emulator) createTicket(c *call) {
	b, ok := c.readJSON()
	if !ok {
		return
	}
	t := &ticket{Status: "Open", ID: c.org.newID()}
	newContact := e.applyTicketFields(c, b, t, true)
	if b.failed() {
		// Undo attachments that were moved onto the half-built ticket.
		for _, u := range c.org.attachments[t.ID] {
			c.org.uploads[u.ID] = u
			delete(c.org.attByID, u.ID)
		}
		delete(c.org.attachments, t.ID)
		invalidData(c.out, *b.errs)
		return
	}
	if newContact != nil {
		newContact.ID = c.org.newID()
		newContact.Created, newContact.Modified, newContact.OwnerID = c.now, c.now, c.agentID()
		c.org.addContact(newContact)
		e.indexContactCreate(newContact, c.now)
		t.ContactID = newContact.ID
	}
	c.emitContactAdd(newContact)
	if t.Email == "" {
		if ct := c.org.contacts[t.ContactID]; ct != nil {
			t.Email = ct.Email
		}
	}
	c.accountFromContact(b, t)
	c.org.nextNumber++
	t.Number = c.org.nextNumber
	t.Created, t.Modified, t.CustomerResponse = c.now, c.now, c.now
	t.CreatedBy, t.ModifiedBy = c.agentID(), c.agentID()
	c.setStatusTimes(t)
	c.org.addTicket(t)
	e.indexTicketWrite(t, nil, c.now)
	e.counters.TicketsCreated++
	if c.webhooksOn() {
		c.emitWebhookEvent("Ticket_Add", c.ticketDetail(t), nil)
	}
	c.out.json(http.StatusOK, c.ticketDetail(t))
}

// accountFromContact sets t's accountId to its contact's account unless
// the body b sets accountId itself: live Zoho fills a new ticket's
// accountId from the contact (NANGO-REC create-ticket, audit row 26).
func (c *call) accountFromContact(b *jsonBody, t *ticket) {
	if b.has("accountId") {
		return
	}
	t.AccountID = ""
	if ct := c.org.contacts[t.ContactID]; ct != nil {
		t.AccountID = ct.AccountID
	}
}

func (c *call) setStatusTimes(t *ticket) {
	switch c.statusType(t) {
	case "Closed":
		if t.Closed.IsZero() {
			t.Closed = c.now
		}
	case "On Hold":
		t.Closed = time.Time{}
		if t.Onhold.IsZero() {
			t.Onhold = c.now
		}
	default:
		t.Closed, t.Onhold = time.Time{}, time.Time{}
	}
}

func (e *Emulator) updateTicket(c *call) {
	if _, _, ok := c.boolParam("disableClosureNotification"); !ok {
		return
	}
	t := c.org.tickets[c.vars["id"]]
	if t == nil || e.trashedHidden(t) { // Options.TrashedTickets
		notFound(c.out)
		return
	}
	b, ok := c.readJSON()
	if !ok {
		return
	}
	// Work on a copy so a rejected update changes nothing.
	cp := *t
	cp.CF = map[string]any{}
	for k, v := range t.CF {
		cp.CF[k] = v
	}
	newContact := e.applyTicketFields(c, b, &cp, false)
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	if newContact != nil {
		newContact.ID = c.org.newID()
		newContact.Created, newContact.Modified, newContact.OwnerID = c.now, c.now, c.agentID()
		c.org.addContact(newContact)
		e.indexContactCreate(newContact, c.now)
		cp.ContactID = newContact.ID
	}
	c.emitContactAdd(newContact)
	if b.has("contactId") || b.has("contact") {
		c.accountFromContact(b, &cp)
	}
	cp.Modified, cp.ModifiedBy = c.now, c.agentID()
	c.setStatusTimes(&cp)
	before := *t
	e.indexTicketWrite(t, &before, c.now)
	var prev map[string]any
	if c.webhooksOn() {
		prev = c.ticketDetail(t)
	}
	*t = cp
	if prev != nil {
		c.emitWebhookEvent("Ticket_Update", c.ticketDetail(t), prev)
	}
	c.out.json(http.StatusOK, c.ticketDetail(t))
}

func (e *Emulator) moveToTrash(c *call) {
	b, ok := c.readJSON()
	if !ok {
		return
	}
	ids, present := b.strList("ticketIds", 0)
	if !present || len(ids) == 0 {
		b.fail("ticketIds", "missing")
	} else if len(ids) > e.opts.MaxTrashBatch {
		b.fail("ticketIds", "invalid")
	}
	for i, id := range ids {
		if t := c.org.tickets[id]; t == nil || t.Trashed {
			b.fail(fmt.Sprintf("ticketIds/%d", i), "invalid")
		}
	}
	b.rejectUnknown()
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	for _, id := range ids {
		t := c.org.tickets[id]
		if !t.Trashed {
			t.Trashed = true
			c.org.liveTickets--
		}
	}
	c.out.noContent(http.StatusNoContent)
}

var ticketSearchSorts = []string{"relevance", "modifiedTime", "createdTime", "customerResponseTime"}

func (e *Emulator) searchTickets(c *call) {
	from, limit, ok := c.paging(10, 100, false)
	if !ok {
		return
	}
	if from > e.opts.SearchMaxFrom {
		unprocessable(c.out, "The value passed for the 'from' query parameter is invalid.")
		return
	}
	sortBy := c.q.Get("sortBy")
	if sortBy != "" && !contains(ticketSearchSorts, strings.TrimPrefix(sortBy, "-")) {
		unprocessable(c.out, "The value passed for the 'sortBy' query parameter is invalid.")
		return
	}
	for _, p := range []string{"subject", "_all"} {
		if v := c.q.Get(p); v != "" && len(strings.Trim(v, "*")) < 3 {
			unprocessable(c.out, fmt.Sprintf("The value passed for the '%s' query parameter is invalid.", p))
			return
		}
	}
	var ranges [2][2]time.Time
	for i, p := range []string{"createdTimeRange", "modifiedTimeRange"} {
		if v := c.q.Get(p); v != "" {
			a, bb, found := strings.Cut(v, ",")
			ta, err1 := parseZohoTime(a)
			tb, err2 := parseZohoTime(bb)
			if !found || err1 != nil || err2 != nil {
				unprocessable(c.out, fmt.Sprintf("The value passed for the '%s' query parameter is invalid.", p))
				return
			}
			ranges[i] = [2]time.Time{ta, tb}
		}
	}
	match := c.ticketSearchMatcher(ranges)
	// Memory per request stays bounded at any ticket count: the scan makes
	// no per-ticket garbage, relevance order (= creation order) keeps only
	// the page, and the other orders sort pointers in the emulator's
	// reusable scratch slice (safe: handlers run under the state lock).
	var page []*ticket
	count := 0
	if key := strings.TrimPrefix(sortBy, "-"); key == "" || key == "relevance" {
		page = make([]*ticket, 0, min(limit, 100))
		for _, t := range c.org.ticketOrder {
			if t = e.searchedTicket(t, c.now); t == nil || !match(t) { // Options.SearchDelay
				continue
			}
			if count >= from && len(page) < limit {
				page = append(page, t)
			}
			count++
		}
	} else {
		list := e.scratch[:0]
		for _, t := range c.org.ticketOrder {
			if t = e.searchedTicket(t, c.now); t != nil && match(t) { // Options.SearchDelay
				list = append(list, t)
			}
		}
		get := func(t *ticket) time.Time {
			switch key {
			case "modifiedTime":
				return t.Modified
			case "customerResponseTime":
				return t.CustomerResponse
			}
			return t.Created
		}
		desc := strings.HasPrefix(sortBy, "-")
		slices.SortStableFunc(list, func(a, b *ticket) int {
			if desc {
				return get(b).Compare(get(a))
			}
			return get(a).Compare(get(b))
		})
		count = len(list)
		lo, hi := window(len(list), from, limit)
		page = append(make([]*ticket, 0, hi-lo), list[lo:hi]...)
		clear(list) // drop the pointers; keep the capacity
		e.scratch = list[:0]
	}
	items := make([]any, 0, len(page))
	for _, t := range page {
		// A live search row (NANGO-REC tickets.test.json, audit row 24)
		// carries the description and, without any include, the embedded
		// contact (with its account), assignee, department, product and
		// team.
		m := c.ticketDetail(t)
		// Keys of the detail that Zoho's OAS search row does not have.
		for _, k := range []string{"source", "isResponseOverdue", "taskCount", "approvalCount", "isTrashed", "attachmentCount",
			"layoutDetails", "channelCode", "isDeleted", "timeEntryCount", "channelRelatedInfo"} {
			delete(m, k)
		}
		m["lastThread"] = map[string]any{"channel": strings.ToUpper(t.Channel), "isDraft": false, "isForward": false, "direction": t.lastDirection()}
		m["createdBy"], m["relationshipType"], m["isRead"], m["childTicketCount"] = ns(t.CreatedBy), "None", true, "0"
		m["parentTicket"], m["sourceTicket"] = nil, nil
		c.addIncludes(m, t, map[string]bool{"contacts": true, "departments": true, "team": true, "products": true})
		var assignee any
		if a := c.org.agents[t.AssigneeID]; a != nil {
			assignee = map[string]any{"id": a.ID, "firstName": ns(a.FirstName), "lastName": a.LastName, "emailId": a.Email, "photoURL": nil, "zuid": ns(a.ZUID)}
		}
		m["assignee"] = assignee
		items = append(items, m)
	}
	writePage(c.out, items, map[string]any{"count": count}) // a JSON number, as live (audit row 23)
}

// ticketSearchMatcher returns the filter of GET /tickets/search for c's
// query (ranges are the parsed createdTimeRange and modifiedTimeRange). The
// parameters are read once; the returned func allocates nothing per ticket
// (contact and product names are matched once per id and remembered).
func (c *call) ticketSearchMatcher(ranges [2][2]time.Time) func(*ticket) bool {
	fields := []struct {
		name string
		get  func(*ticket) string
	}{
		{"id", func(t *ticket) string { return t.ID }}, {"ticketNumber", (*ticket).number},
		{"subject", func(t *ticket) string { return t.Subject }}, {"description", func(t *ticket) string { return t.Description }},
		{"email", func(t *ticket) string { return t.Email }}, {"phone", func(t *ticket) string { return t.Phone }},
		{"contactId", func(t *ticket) string { return t.ContactID }}, {"productId", func(t *ticket) string { return t.ProductID }},
		{"departmentId", func(t *ticket) string { return t.DepartmentID }}, {"assigneeId", func(t *ticket) string { return t.AssigneeID }},
		{"priority", func(t *ticket) string { return t.Priority }}, {"channel", func(t *ticket) string { return t.Channel }},
		{"category", func(t *ticket) string { return t.Category }},
	}
	var conds []func(*ticket) bool
	for _, f := range fields {
		if v := c.q.Get(f.name); v != "" {
			name, get := f.name, f.get
			conds = append(conds, func(t *ticket) bool { return searchMatch(name, v, get(t)) })
		}
	}
	if v := c.q.Get("contactName"); v != "" {
		conds = append(conds, memoMatch(func(t *ticket) string { return t.ContactID }, func(id string) bool {
			name := ""
			if ct := c.org.contacts[id]; ct != nil {
				name = ct.fullName()
			}
			return searchValue(v, name)
		}))
	}
	if v := c.q.Get("productName"); v != "" {
		conds = append(conds, memoMatch(func(t *ticket) string { return t.ProductID }, func(id string) bool {
			name := ""
			if p := c.org.product(id); p != nil {
				name = p.Name
			}
			return searchValue(v, name)
		}))
	}
	if status := c.q.Get("status"); status != "" {
		conds = append(conds, func(t *ticket) bool { return statusMatch(status, t.Status, c.statusType(t)) })
	}
	if all := c.q.Get("_all"); all != "" {
		conds = append(conds, func(t *ticket) bool { return containsFold(all, t.Subject, t.Description, t.Email, t.number()) })
	}
	for i, r := range ranges {
		if r[0].IsZero() {
			continue
		}
		conds = append(conds, func(t *ticket) bool {
			tt := t.Created
			if i == 1 {
				tt = t.Modified
			}
			return !tt.Before(r[0]) && !tt.After(r[1])
		})
	}
	return func(t *ticket) bool {
		if t.Trashed {
			return false
		}
		for _, cond := range conds {
			if !cond(t) {
				return false
			}
		}
		return true
	}
}

// memoMatch matches tickets by a referenced entity (key(t) is its id),
// deciding once per distinct id.
func memoMatch(key func(*ticket) string, decide func(id string) bool) func(*ticket) bool {
	memo := map[string]bool{}
	return func(t *ticket) bool {
		id := key(t)
		m, ok := memo[id]
		if !ok {
			m = decide(id)
			memo[id] = m
		}
		return m
	}
}

// searchMatch: exact id fields, wildcard strings; commas are OR. It does
// not allocate (called once per ticket).
func searchMatch(name, param, v string) bool {
	if name == "subject" || name == "description" {
		for rest, more := param, true; more; {
			var p string
			p, rest, more = strings.Cut(rest, ",")
			if strings.HasSuffix(p, "*") || strings.HasPrefix(p, "*") {
				p = strings.Trim(p, "*")
			}
			if containsFoldStr(v, p) {
				return true
			}
		}
		return false
	}
	return searchValue(param, v)
}

// statusMatch reports whether a ticket with status (of type typ) matches
// the comma list param (names or ${OPEN} / ${ONHOLD} / ${CLOSED}). It does
// not allocate.
func statusMatch(param, status, typ string) bool {
	for rest, more := param, true; more; {
		var p string
		p, rest, more = strings.Cut(rest, ",")
		switch p {
		case "${OPEN}":
			if typ == "Open" {
				return true
			}
		case "${ONHOLD}":
			if typ == "On Hold" {
				return true
			}
		case "${CLOSED}":
			if typ == "Closed" {
				return true
			}
		default:
			if strings.EqualFold(p, status) {
				return true
			}
		}
	}
	return false
}
