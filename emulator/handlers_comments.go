package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// boolean reads an optional JSON boolean (a "true"/"false" string is
// accepted too, as Zoho's form-style clients send it [C PD]).
func (b *jsonBody) boolean(name string) bool {
	b.seen[name] = true
	raw, ok := b.fields[name]
	if !ok || b.isNull(name) {
		return false
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err == nil {
		return v
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil && (s == "true" || s == "false") {
		return s == "true"
	}
	b.fail(name, "invalid")
	return false
}

var mentionRE = regexp.MustCompile(`zsu\[@user:([0-9]+)\]zsu`)

func (c *call) commenter(id string) map[string]any {
	if a := c.org.agents[id]; a != nil {
		roleName := ""
		if r := c.org.role(a.RoleID); r != nil {
			roleName = r.Name
		}
		return map[string]any{"id": a.ID, "name": a.name(), "firstName": ns(a.FirstName), "lastName": a.LastName,
			"email": a.Email, "photoURL": nil, "roleName": ns(roleName), "type": "AGENT"}
	}
	return map[string]any{"id": ns(id), "name": "", "firstName": nil, "lastName": "", "email": nil, "photoURL": nil, "roleName": nil, "type": "AGENT"}
}

// commentPlainText is the comment as text, with each mention written
// "@First Last" (the offsets of mentions point into it).
func (c *call) commentPlainText(cm *comment) (string, []any) {
	text := cm.Content
	if cm.ContentType == "html" {
		text = summaryOfFull(text)
	}
	var mentions []any
	var b strings.Builder
	last := 0
	for _, m := range mentionRE.FindAllStringSubmatchIndex(text, -1) {
		b.WriteString(text[last:m[0]])
		zuid := text[m[2]:m[3]]
		name := zuid
		var ag *agent
		for _, a := range c.org.agentOrder {
			if a.ZUID == zuid {
				ag, name = a, a.name()
				break
			}
		}
		at := "@" + name
		mention := map[string]any{"id": nil, "type": "AGENT", "offSet": strconv.Itoa(len([]rune(b.String()))), "length": strconv.Itoa(len([]rune(at))),
			"zuid": zuid, "firstName": nil, "lastName": name, "email": nil, "photoURL": nil}
		if ag != nil {
			mention["id"], mention["firstName"], mention["lastName"], mention["email"] = ag.ID, ns(ag.FirstName), ag.LastName, ag.Email
		}
		mentions = append(mentions, mention)
		b.WriteString(at)
		last = m[1]
	}
	b.WriteString(text[last:])
	return b.String(), mentions
}

// commentJSON renders a comment (OAS commentResponse); lists add
// plainText, and mentions when asked.
func (c *call) commentJSON(cm *comment, withMentions bool) map[string]any {
	m := map[string]any{"id": cm.ID, "content": cm.Content, "contentType": cm.ContentType, "isPublic": cm.IsPublic,
		"commentedTime": ts(cm.Commented), "modifiedTime": ts(cm.Modified), "commenterId": cm.CommenterID,
		"commenter": c.commenter(cm.CommenterID), "attachments": []any{}, "encodedContent": cm.Content, "impersonatedUser": nil}
	text, mentions := c.commentPlainText(cm)
	m["plainText"] = text
	if withMentions {
		if mentions == nil {
			mentions = []any{}
		}
		m["mention"] = mentions
	}
	return m
}

func (e *Emulator) listComments(c *call) {
	from, limit, ok := c.paging(50, 100, false) // OAS: limit 1-100, default 50
	if !ok {
		return
	}
	sortBy, ok := c.enumParam("sortBy", "commentedTime", "-commentedTime")
	if !ok {
		return
	}
	inc, ok := c.includeParam("mentions")
	if !ok {
		return
	}
	t := c.liveTicket()
	if t == nil {
		return
	}
	list := slices.Clone(c.org.ticketWork(t).comments)
	if sortBy == "-commentedTime" { // [GAP] default order: oldest first
		slices.Reverse(list)
	}
	lo, hi := window(len(list), from, limit)
	items := make([]any, 0, hi-lo)
	for _, cm := range list[lo:hi] {
		items = append(items, c.commentJSON(cm, inc["mentions"]))
	}
	writePage(c.out, items, nil)
}

// readComment parses a comment body (OAS addCommentPayload).
func (c *call) readComment() (content, contentType string, isPublic bool, ok bool) {
	b, ok := c.readJSON()
	if !ok {
		return "", "", false, false
	}
	content, present, _ := b.str("content", 32000)
	if !present || strings.TrimSpace(content) == "" {
		b.fail("content", "missing")
	}
	contentType, _, _ = b.str("contentType", 0)
	if contentType == "" {
		contentType = "plainText"
	} else if contentType != "html" && contentType != "plainText" {
		b.fail("contentType", "invalid")
	}
	isPublic = b.boolean("isPublic")
	ids, _ := b.strList("attachmentIds", 10)
	for i, id := range ids {
		if c.org.uploads[id] == nil {
			b.fail(fmt.Sprintf("attachmentIds/%d", i), "invalid")
		}
	}
	b.rejectUnknown()
	if b.failed() {
		invalidData(c.out, *b.errs)
		return "", "", false, false
	}
	return content, contentType, isPublic, true
}

func (e *Emulator) createComment(c *call) {
	t := c.liveTicket()
	if t == nil {
		return
	}
	content, ct, public, ok := c.readComment()
	if !ok {
		return
	}
	cm := &comment{ID: c.org.newID(), TicketID: t.ID, Content: content, ContentType: ct, IsPublic: public, CommenterID: c.agentID(), Commented: c.now}
	w := c.org.ticketWork(t)
	w.comments = append(w.comments, cm)
	t.CommentCount++
	w.history = append(w.history, c.agentEvent("CommentAdded"))
	m := c.commentJSON(cm, false)
	delete(m, "plainText")
	c.out.json(http.StatusOK, m)
	if c.webhooksOn() {
		ev := c.commentJSON(cm, false)
		delete(ev, "plainText")
		ev["ticketId"], ev["departmentId"] = t.ID, t.DepartmentID
		c.emitWebhookEvent("Ticket_Comment_Add", ev, nil)
	}
}

func (c *call) agentEvent(name string) *historyEvent {
	ev := &historyEvent{Name: name, ActorType: "Agent", Time: c.now}
	if a := c.org.agents[c.agentID()]; a != nil {
		ev.ActorID, ev.ActorName = a.ID, a.name()
	}
	return ev
}

func (c *call) findComment(t *ticket) (*ticketWork, int) {
	w := c.org.ticketWork(t)
	for i, cm := range w.comments {
		if cm.ID == c.vars["comment"] {
			return w, i
		}
	}
	notFound(c.out)
	return nil, -1
}

func (e *Emulator) updateComment(c *call) {
	t := c.liveTicket()
	if t == nil {
		return
	}
	w, i := c.findComment(t)
	if w == nil {
		return
	}
	cm := w.comments[i]
	if cm.CommenterID != c.agentID() {
		// [I] only the author may edit a comment (OAS lists 403).
		writeZohoError(c.out, http.StatusForbidden, "FORBIDDEN", "", nil)
		return
	}
	content, ct, public, ok := c.readComment()
	if !ok {
		return
	}
	cm.Content, cm.ContentType, cm.IsPublic, cm.Modified = content, ct, public, c.now
	w.history = append(w.history, c.agentEvent("CommentEdited"))
	m := c.commentJSON(cm, false)
	delete(m, "plainText")
	c.out.json(http.StatusOK, m)
}

func (e *Emulator) deleteComment(c *call) {
	t := c.liveTicket()
	if t == nil {
		return
	}
	w, i := c.findComment(t)
	if w == nil {
		return
	}
	w.comments = slices.Delete(w.comments, i, i+1)
	t.CommentCount--
	w.history = append(w.history, c.agentEvent("CommentDeleted"))
	c.out.noContent(http.StatusOK) // OAS: 200 with an empty body
}

func (c *call) tagJSON(tg *tagDef) map[string]any {
	return map[string]any{"id": tg.ID, "name": tg.Name, "tagType": tg.Type}
}

func (e *Emulator) listTicketTags(c *call) {
	t := c.liveTicket()
	if t == nil {
		return
	}
	ws := c.org.workState()
	tags := []any{}
	for _, id := range c.org.ticketWork(t).tagIDs {
		tags = append(tags, c.tagJSON(ws.tags[id]))
	}
	c.out.json(http.StatusOK, map[string]any{"tags": tags}) // wrapper "tags", not "data" [C OAS]
}

// readTagNames parses {"tags": [...]}: 1-51 names of 3-50 allowed
// characters, not "null" (OAS TicketTag).
func (c *call) readTagNames() ([]string, bool) {
	b, ok := c.readJSON()
	if !ok {
		return nil, false
	}
	names, present := b.strList("tags", 51)
	if !present || len(names) == 0 {
		b.fail("tags", "missing")
	}
	for i, n := range names {
		if !validTagName(n) {
			b.fail(fmt.Sprintf("tags/%d", i), "invalid")
		}
	}
	b.rejectUnknown()
	if b.failed() {
		invalidData(c.out, *b.errs)
		return nil, false
	}
	return names, true
}

func validTagName(n string) bool {
	if l := len([]rune(n)); l < 3 || l > 50 || strings.EqualFold(n, "null") {
		return false
	}
	for _, r := range n {
		if !(r >= 0x80 || r == ' ' || r == '_' || r == '.' || r == '-' || r == '+' || r == '%' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

func (e *Emulator) associateTags(c *call) {
	t := c.liveTicket()
	if t == nil {
		return
	}
	names, ok := c.readTagNames()
	if !ok {
		return
	}
	w := c.org.ticketWork(t)
	data := []any{}
	var added []string
	for _, n := range names {
		tg := c.org.ensureTag(t.DepartmentID, n) // unknown names become tags [I]
		if !slices.Contains(w.tagIDs, tg.ID) {
			w.tagIDs = append(w.tagIDs, tg.ID)
			added = append(added, tg.Name)
		}
		data = append(data, c.tagJSON(tg))
	}
	if len(added) > 0 {
		ev := c.agentEvent("TagsAdded")
		ev.Info = []historyInfo{{Name: "Tags", Updated: strings.Join(added, ", ")}}
		w.history = append(w.history, ev)
		t.Modified = c.now
	}
	c.out.json(http.StatusOK, map[string]any{"data": data})
}

func (e *Emulator) dissociateTags(c *call) {
	t := c.liveTicket()
	if t == nil {
		return
	}
	names, ok := c.readTagNames()
	if !ok {
		return
	}
	w := c.org.ticketWork(t)
	ws := c.org.workState()
	var removed []string
	w.tagIDs = slices.DeleteFunc(w.tagIDs, func(id string) bool {
		for _, n := range names {
			if strings.EqualFold(ws.tags[id].Name, n) {
				removed = append(removed, ws.tags[id].Name)
				return true
			}
		}
		return false
	})
	if len(removed) > 0 {
		ev := c.agentEvent("TagsRemoved")
		ev.Info = []historyInfo{{Name: "Tags", Previous: strings.Join(removed, ", ")}}
		w.history = append(w.history, ev)
	}
	c.out.noContent(http.StatusOK) // OAS: 200, empty
}

// timeEntryJSON renders a time entry (OAS ticketTimeEntryResponse).
func (c *call) timeEntryJSON(t *ticket, te *timeEntry, owner bool) map[string]any {
	cost := "0.0"
	m := map[string]any{"id": te.ID, "executedTime": ts(te.Executed), "createdTime": ts(te.Created), "createdBy": te.CreatedBy,
		"hoursSpent": itoa(te.Hours), "minutesSpent": itoa(te.Minutes), "secondsSpent": itoa(te.Seconds),
		"description": ns(te.Description), "ownerId": te.OwnerID, "isBillable": te.IsBillable, "mode": "MANUAL", "isTrashed": false,
		"requestId": t.ID, "departmentId": t.DepartmentID, "taskId": nil, "invoiceId": nil, "layoutId": nil, "layoutDetails": nil,
		"requestChargeType": nil, "agentCostPerHour": nil, "additionalCost": nil, "fixedCost": nil, "totalCost": cost,
		"cf": map[string]any{}, "customFields": map[string]any{},
		"parent": map[string]any{"id": t.ID, "ticketNumber": t.number(), "subject": t.Subject, "type": "TICKETS"}}
	if owner {
		var o any
		if a := c.org.agents[te.OwnerID]; a != nil {
			o = map[string]any{"id": a.ID, "name": a.name(), "firstName": ns(a.FirstName), "lastName": a.LastName, "photoURL": nil}
		}
		m["owner"] = o
	}
	return m
}

func (e *Emulator) listTimeEntries(c *call) {
	from, limit, ok := c.paging(50, 100, false)
	if !ok {
		return
	}
	bill, ok := c.enumParam("billStatus", "nonBillable", "billable", "billed")
	if !ok {
		return
	}
	order, ok := c.enumParam("orderBy", "ASC", "DESC")
	if !ok {
		return
	}
	if _, ok := c.enumParam("module", "tickets", "tasks", "calls", "events"); !ok {
		return
	}
	inc, ok := c.includeParam("owner")
	if !ok {
		return
	}
	t := c.liveTicket()
	if t == nil {
		return
	}
	var list []*timeEntry
	for _, te := range c.org.ticketWork(t).time {
		if bill == "" || (bill == "billable") == te.IsBillable && bill != "billed" {
			list = append(list, te)
		}
	}
	slices.SortStableFunc(list, func(a, b *timeEntry) int { return a.Executed.Compare(b.Executed) })
	if order == "DESC" {
		slices.Reverse(list)
	}
	lo, hi := window(len(list), from, limit)
	items := make([]any, 0, hi-lo)
	for _, te := range list[lo:hi] {
		m := c.timeEntryJSON(t, te, inc["owner"])
		m["billingType"] = nil // list rows add billingType [C OAS]
		items = append(items, m)
	}
	writePage(c.out, items, nil)
}

// intField reads a non-negative integer sent as a number or a string.
func (b *jsonBody) intField(name string, maxV int) int {
	v, present, null := b.str(name, 0)
	if !present || null || v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxV {
		b.fail(name, "invalid")
		return 0
	}
	return n
}

func (e *Emulator) createTimeEntry(c *call) {
	t := c.liveTicket()
	if t == nil {
		return
	}
	b, ok := c.readJSON()
	if !ok {
		return
	}
	te := &timeEntry{ID: c.org.newID(), TicketID: t.ID, CreatedBy: c.agentID(), Created: c.now}
	var present bool
	te.Executed, present, _ = b.timeField("executedTime")
	if !present {
		b.fail("executedTime", "missing")
	}
	te.Hours, te.Minutes, te.Seconds = b.intField("hoursSpent", 100000), b.intField("minutesSpent", 59), b.intField("secondsSpent", 59)
	te.Description, _, _ = b.str("description", 65535)
	te.IsBillable = b.boolean("isBillable")
	te.OwnerID, present, _ = b.id("ownerId")
	if !present || te.OwnerID == "" {
		te.OwnerID = c.agentID()
	} else if c.org.agents[te.OwnerID] == nil {
		b.fail("ownerId", "invalid")
	}
	for _, k := range []string{"billingType", "requestChargeType", "mode", "invoiceId", "layoutId"} {
		b.str(k, 0)
	}
	for _, k := range []string{"agentCostPerHour", "additionalCost", "fixedCost"} {
		b.str(k, 0)
	}
	b.anyMap("cf")
	b.anyMap("customFields")
	b.rejectUnknown()
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	w := c.org.ticketWork(t)
	w.time = append(w.time, te)
	w.history = append(w.history, c.agentEvent("TimeEntryAdded"))
	c.out.json(http.StatusOK, c.timeEntryJSON(t, te, false))
}

func (e *Emulator) listHistory(c *call) {
	from, limit, ok := c.paging(50, 50, false) // [D] N-D29: limit ≤ 50
	if !ok {
		return
	}
	field := strings.ToLower(c.q.Get("fieldName"))
	t := c.liveTicket()
	if t == nil {
		return
	}
	var list []*historyEvent
	for _, ev := range c.org.ticketWork(t).history {
		if field == "" || slices.ContainsFunc(ev.Info, func(i historyInfo) bool { return strings.ToLower(i.Name) == field }) {
			list = append(list, ev)
		}
	}
	// [GAP] order undocumented: newest first, like the Desk UI's history.
	list = slices.Clone(list)
	slices.Reverse(list)
	lo, hi := window(len(list), from, limit)
	items := make([]any, 0, hi-lo)
	for _, ev := range list[lo:hi] {
		info := []any{}
		for _, in := range ev.Info {
			info = append(info, map[string]any{"propertyName": in.Name, "propertyType": "Text", "systemProperty": true,
				"propertyValue": map[string]any{"previousValue": ns(in.Previous), "updatedValue": ns(in.Updated)}})
		}
		items = append(items, map[string]any{"eventName": ev.Name, "eventTime": ev.Time.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05.000Z"),
			"source": ns(ev.Source), "actor": map[string]any{"id": ns(ev.ActorID), "name": ev.ActorName, "type": ev.ActorType},
			"eventInfo": info, "actorInfo": []any{}})
	}
	writePage(c.out, items, nil)
}
