package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
)

// accountJSON is an account as a list row (NREC list-accounts: id,
// accountName, email, website, phone, createdTime, zohoCRMAccount, webUrl,
// customerHappiness).
func (c *call) accountJSON(a *account) map[string]any {
	return map[string]any{
		"id": a.ID, "accountName": a.Name, "email": ns(a.Email), "website": ns(a.Website), "phone": ns(a.Phone),
		"createdTime": ts(a.Created), "zohoCRMAccount": nil,
		"webUrl":            c.deskBase() + "/support/" + c.org.Portal + "/ShowHomePage.do#Accounts/dv/" + a.ID,
		"customerHappiness": map[string]any{"badPercentage": "0", "okPercentage": "0", "goodPercentage": "0"},
	}
}

// accountFieldsJSON are the keys get, create, update and search rows add
// to the list row (OAS accountjson / accountFields require them).
func (c *call) accountFieldsJSON(a *account) map[string]any {
	return map[string]any{
		"fax": ns(a.Fax), "industry": ns(a.Industry), "description": ns(a.Description), "code": ns(a.Code),
		"street": ns(a.Street), "city": ns(a.City), "state": ns(a.State), "country": ns(a.Country),
		"annualrevenue": ns(a.AnnualRevenue), "ownerId": ns(a.OwnerID), "modifiedTime": ts(a.Modified),
		"layoutId": c.layoutID(),
	}
}

// accountDetailJSON is an account as get, create and update answer it.
func (c *call) accountDetailJSON(a *account) map[string]any {
	m := c.accountJSON(a)
	delete(m, "customerHappiness")
	for k, v := range c.accountFieldsJSON(a) {
		m[k] = v
	}
	m["cf"], m["customFields"] = mapOrEmpty(a.CF), map[string]any{}
	m["associatedSLAIds"], m["isDeleted"], m["isTrashed"], m["isFollowing"] = []any{}, false, false, false
	m["layoutDetails"] = map[string]any{"id": c.layoutID(), "layoutName": "Standard"}
	return m
}

// accountSearchJSON is an account as a search row.
func (c *call) accountSearchJSON(a *account) map[string]any {
	m := c.accountJSON(a)
	delete(m, "customerHappiness")
	delete(m, "zohoCRMAccount")
	for k, v := range c.accountFieldsJSON(a) {
		m[k] = v
	}
	m["cf"], m["customFields"], m["owner"] = mapOrEmpty(a.CF), map[string]any{}, nil
	if ag := c.org.agents[a.OwnerID]; ag != nil {
		m["owner"] = map[string]any{"id": ag.ID, "firstName": ns(ag.FirstName), "lastName": ag.LastName,
			"emailId": ag.Email, "photoURL": nil, "zuid": ns(ag.ZUID)}
	}
	return m
}

// readAccount reads the account fields of a create or update body into a.
// On update (create false) an explicit null clears a field, except
// accountName.
func (c *call) readAccount(b *jsonBody, a *account, create bool) {
	str := func(name string, max int, dst *string) {
		v, present, null := b.str(name, max)
		if present && (!null || !create) {
			*dst = v
		}
	}
	name, present, null := b.str("accountName", 200)
	switch {
	case create && (!present || null || strings.TrimSpace(name) == ""):
		b.fail("accountName", "missing")
	case !create && present && (null || strings.TrimSpace(name) == ""):
		b.fail("accountName", "invalid")
	case present:
		a.Name = name
	}
	str("email", 100, &a.Email)
	if a.Email != "" {
		if _, err := mail.ParseAddress(a.Email); err != nil {
			b.fail("email", "invalid")
		}
	}
	str("website", 120, &a.Website)
	str("phone", 50, &a.Phone)
	str("fax", 50, &a.Fax)
	str("industry", 120, &a.Industry)
	str("description", 0, &a.Description)
	str("code", 50, &a.Code)
	str("street", 250, &a.Street)
	str("city", 100, &a.City)
	str("state", 100, &a.State)
	str("country", 100, &a.Country)
	str("zip", 50, &a.Zip)
	str("annualrevenue", 50, &a.AnnualRevenue)
	owner, present, null := b.id("ownerId")
	if present && !null {
		if c.org.agents[owner] == nil {
			b.fail("ownerId", "invalid")
		}
		a.OwnerID = owner
	}
	if cf, present := b.anyMap("cf"); present {
		if a.CF == nil {
			a.CF = map[string]any{}
		}
		for k, v := range cf {
			a.CF[k] = v
		}
	}
	b.rejectUnknown()
}

// createAccount: accountName is required (OAS accountjson). [GAP] Zoho's
// duplicate-name handling is undocumented; given that contacts accept
// duplicate e-mails [C NREC], accounts accept duplicate names [I].
func (e *Emulator) createAccount(c *call) {
	b, ok := c.readJSON()
	if !ok {
		return
	}
	a := &account{}
	c.readAccount(b, a, true)
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	a.ID = c.org.newID()
	a.Created, a.Modified = c.now, c.now
	if a.OwnerID == "" {
		a.OwnerID = c.agentID()
	}
	c.org.addAccount(a)
	e.indexAccountCreate(a, c.now)
	if c.webhooksOn() {
		c.emitWebhookEvent("Account_Add", c.accountDetailJSON(a), nil)
	}
	c.out.json(http.StatusOK, c.accountDetailJSON(a))
}

func (e *Emulator) getAccount(c *call) {
	if _, ok := c.includeParam("owner"); !ok {
		return
	}
	a := c.org.liveAccount(c.vars["id"])
	if a == nil {
		notFound(c.out)
		return
	}
	c.out.json(http.StatusOK, c.accountDetailJSON(a))
}

func (e *Emulator) updateAccount(c *call) {
	a := c.org.liveAccount(c.vars["id"])
	if a == nil {
		notFound(c.out)
		return
	}
	b, ok := c.readJSON()
	if !ok {
		return
	}
	next := *a
	next.CF = copyJSONMap(a.CF)
	c.readAccount(b, &next, false)
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	next.Modified = c.now
	var prev map[string]any
	if c.webhooksOn() {
		prev = c.accountDetailJSON(a)
	}
	*a = next
	if prev != nil {
		c.emitWebhookEvent("Account_Update", c.accountDetailJSON(a), prev)
	}
	c.out.json(http.StatusOK, c.accountDetailJSON(a))
}

var accountSorts = []string{"website", "email", "phone", "accountName", "createdTime", "modifiedTime"}

func accountField(a *account, f string) string {
	switch f {
	case "website":
		return strings.ToLower(a.Website)
	case "email":
		return strings.ToLower(a.Email)
	case "phone":
		return a.Phone
	case "accountName":
		return strings.ToLower(a.Name)
	case "modifiedTime":
		return a.Modified.Format("2006-01-02T15:04:05.000000000")
	}
	return a.Created.Format("2006-01-02T15:04:05.000000000")
}

// sortAccounts sorts list by the sortBy parameter among allowed keys
// ("relevance" and none keep the order).
func (c *call) sortAccounts(list []*account, allowed []string) bool {
	sortBy := c.q.Get("sortBy")
	if sortBy == "" || sortBy == "relevance" {
		return true
	}
	key := strings.TrimPrefix(sortBy, "-")
	if !contains(allowed, key) {
		unprocessable(c.out, "The value passed for the 'sortBy' query parameter is invalid.")
		return false
	}
	sortStable(list, func(a, b *account) bool { return accountField(a, key) < accountField(b, key) }, strings.HasPrefix(sortBy, "-"))
	return true
}

// pagingFrom1 reads paging on the endpoints whose OAS makes from 1-based
// (default 1). [C NREC] from=0 also returned the first row of /accounts,
// so 0 and 1 both mean the first row. It returns a 0-based offset.
func (c *call) pagingFrom1(def, maxLimit int) (from, limit int, ok bool) {
	from, limit, ok = c.paging(def, maxLimit, false)
	if ok && from > 0 {
		from--
	}
	return from, limit, ok
}

func (e *Emulator) listAccounts(c *call) {
	from, limit, ok := c.pagingFrom1(10, 100)
	if !ok {
		return
	}
	list := make([]*account, 0, len(c.org.accountOrder))
	for _, a := range c.org.accountOrder {
		if !a.Trashed {
			list = append(list, a)
		}
	}
	if !c.sortAccounts(list, accountSorts) {
		return
	}
	lo, hi := window(len(list), from, limit)
	items := make([]any, 0, hi-lo)
	for _, a := range list[lo:hi] {
		items = append(items, c.accountJSON(a))
	}
	writePage(c.out, items, nil)
}

// searchAccounts: accountName and id take Zoho's search values (comma =
// OR, trailing * = prefix); _all is a substring of name, e-mail, website
// or phone. count is a JSON number, as recorded live [C NREC].
func (e *Emulator) searchAccounts(c *call) {
	from, limit, ok := c.paging(10, 100, false)
	if !ok {
		return
	}
	if from > e.opts.SearchMaxFrom {
		unprocessable(c.out, "The value passed for the 'from' query parameter is invalid.")
		return
	}
	name, all, id := c.q.Get("accountName"), c.q.Get("_all"), c.q.Get("id")
	var list []*account
	for _, a := range c.org.accountOrder {
		switch {
		case a.Trashed, !e.accountSearchable(a, c.now), // Options.SearchDelay
			name != "" && !searchValue(name, a.Name),
			id != "" && !searchValue(id, a.ID),
			all != "" && !containsFold(all, a.Name, a.Email, a.Website, a.Phone):
			continue
		}
		list = append(list, a)
	}
	if !c.sortAccounts(list, []string{"modifiedTime", "createdTime", "accountName"}) {
		return
	}
	lo, hi := window(len(list), from, limit)
	items := make([]any, 0, hi-lo)
	for _, a := range list[lo:hi] {
		items = append(items, c.accountSearchJSON(a))
	}
	writePage(c.out, items, map[string]any{"count": len(list)})
}

var accountContactSorts = []string{"firstName", "lastName", "phone", "fullName", "email", "createdTime", "modifiedTime"}

// listAccountContacts lists the live contacts whose primary account is the
// account. [I] Rows carry mappingInfo (OAS) describing the link.
func (e *Emulator) listAccountContacts(c *call) {
	from, limit, ok := c.paging(10, 100, false)
	if !ok {
		return
	}
	if _, _, ok := c.boolParam("isSpam"); !ok {
		return
	}
	a := c.org.liveAccount(c.vars["id"])
	if a == nil {
		notFound(c.out)
		return
	}
	var list []*contact
	for _, ct := range c.org.contactOrder {
		if !ct.Trashed && ct.AccountID == a.ID {
			list = append(list, ct)
		}
	}
	sortBy := c.q.Get("sortBy")
	if key := strings.TrimPrefix(sortBy, "-"); sortBy != "" {
		if !contains(accountContactSorts, key) {
			unprocessable(c.out, "The value passed for the 'sortBy' query parameter is invalid.")
			return
		}
		get := func(x *contact) string {
			if key == "fullName" {
				return strings.ToLower(x.fullName())
			}
			return contactField(x, key)
		}
		sortStable(list, func(x, y *contact) bool { return get(x) < get(y) }, strings.HasPrefix(sortBy, "-"))
	}
	lo, hi := window(len(list), from, limit)
	items := make([]any, 0, hi-lo)
	for _, ct := range list[lo:hi] {
		m := c.contactJSON(ct)
		m["mappingInfo"] = map[string]any{"isAccountTicketsViewable": false, "mappingType": "PRIMARY", "mappingId": ct.ID + a.ID[len(a.ID)-4:]}
		items = append(items, m)
	}
	writePage(c.out, items, nil)
}

// ---- contacts: update, trash, tickets ---------------------------------

// updateContact applies a partial body. lastName cannot be cleared; other
// fields take null to clear. accountId must name a live account (null
// unlinks the contact).
func (e *Emulator) updateContact(c *call) {
	ct := c.org.liveContact(c.vars["id"])
	if ct == nil {
		notFound(c.out)
		return
	}
	b, ok := c.readJSON()
	if !ok {
		return
	}
	next := *ct
	next.CF = copyJSONMap(ct.CF)
	str := func(name string, max int, dst *string) {
		if v, present, _ := b.str(name, max); present {
			*dst = v
		}
	}
	if v, present, null := b.str("lastName", 80); present {
		if null || strings.TrimSpace(v) == "" {
			b.fail("lastName", "invalid")
		}
		next.LastName = v
	}
	str("firstName", 40, &next.FirstName)
	str("email", 100, &next.Email)
	if next.Email != "" && next.Email != ct.Email {
		if _, err := mail.ParseAddress(next.Email); err != nil {
			b.fail("email", "invalid")
		}
	}
	str("secondaryEmail", 100, &next.SecondaryEmail)
	str("phone", 50, &next.Phone)
	str("mobile", 50, &next.Mobile)
	str("title", 100, &next.Title)
	str("description", 0, &next.Description)
	str("type", 120, &next.Type)
	if v, present, null := b.id("accountId"); present {
		if !null && c.org.liveAccount(v) == nil {
			b.fail("accountId", "invalid")
		}
		next.AccountID = v
	}
	if v, present, null := b.id("ownerId"); present && !null {
		if c.org.agents[v] == nil {
			b.fail("ownerId", "invalid")
		}
		next.OwnerID = v
	}
	if cf, present := b.anyMap("cf"); present {
		if next.CF == nil {
			next.CF = map[string]any{}
		}
		for k, v := range cf {
			next.CF[k] = v
		}
	}
	b.rejectUnknown()
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	next.Modified = c.now
	var prev map[string]any
	if c.webhooksOn() {
		prev = c.contactDetailJSON(ct)
	}
	*ct = next
	if prev != nil {
		c.emitWebhookEvent("Contact_Update", c.contactDetailJSON(ct), prev)
	}
	c.out.json(http.StatusOK, c.contactDetailJSON(ct))
}

// moveContactsToTrash trashes contacts (204). Unknown or already trashed
// ids are 422 INVALID_DATA on their index, like tickets; at most
// Options.MaxTrashBatch ids [GAP].
func (e *Emulator) moveContactsToTrash(c *call) {
	b, ok := c.readJSON()
	if !ok {
		return
	}
	ids, present := b.strList("contactIds", 0)
	if !present || len(ids) == 0 {
		b.fail("contactIds", "missing")
	} else if len(ids) > e.opts.MaxTrashBatch {
		b.fail("contactIds", "invalid")
	}
	for i, id := range ids {
		if c.org.liveContact(id) == nil {
			b.fail(fmt.Sprintf("contactIds/%d", i), "invalid")
		}
	}
	b.rejectUnknown()
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	for _, id := range ids {
		c.org.contacts[id].Trashed = true
	}
	c.out.noContent(http.StatusNoContent)
}

// listContactTickets lists a contact's live tickets, newest first unless
// sortBy says otherwise (OAS default limit 25; max 100 [GAP]).
func (e *Emulator) listContactTickets(c *call) {
	from, limit, ok := c.paging(25, 100, false)
	if !ok {
		return
	}
	inc, ok := c.includeParam("departments", "team", "assignee", "products")
	if !ok {
		return
	}
	if _, _, ok := c.boolParam("isSpam"); !ok {
		return
	}
	sortBy, ok := c.enumParam("sortBy", "createdTime", "-createdTime", "modifiedTime", "-modifiedTime")
	if !ok {
		return
	}
	ct := c.org.liveContact(c.vars["id"])
	if ct == nil {
		notFound(c.out)
		return
	}
	dept := c.q.Get("departmentId")
	var list []*ticket
	for i := len(c.org.ticketOrder) - 1; i >= 0; i-- { // newest first
		t := c.org.ticketOrder[i]
		if !t.Trashed && t.ContactID == ct.ID && (dept == "" || dept == t.DepartmentID) {
			list = append(list, t)
		}
	}
	if sortBy != "" {
		key := strings.TrimPrefix(sortBy, "-")
		sortStable(list, func(x, y *ticket) bool {
			if key == "modifiedTime" {
				return x.Modified.Before(y.Modified)
			}
			return x.Created.Before(y.Created)
		}, strings.HasPrefix(sortBy, "-"))
	}
	lo, hi := window(len(list), from, limit)
	if lo == hi {
		c.out.noContent(http.StatusNoContent)
		return
	}
	// Rows have the ticket list's shape less the keys OAS
	// listviewCommonJson lacks here (category, subCategory, layoutId);
	// they are built after the state lock is released, like GET /tickets.
	views := make([]ticketView, 0, hi-lo)
	for _, t := range list[lo:hi] {
		v := c.view(t, false)
		v.inc = c.includes(t, inc)
		views = append(views, v)
	}
	c.out.afterUnlock(func(out *resp) {
		items := make([]any, 0, len(views))
		for i := range views {
			var m map[string]any
			if err := json.Unmarshal(appendRow(nil, &views[i]), &m); err != nil {
				panic("emulator: ticket row is not JSON: " + err.Error())
			}
			delete(m, "category")
			delete(m, "subCategory")
			delete(m, "layoutId")
			items = append(items, m)
		}
		writePage(out, items, nil)
	})
}
