package emulator

import (
	"net/http"
	"net/mail"
	"strings"
)

func (c *call) contactJSON(ct *contact) map[string]any {
	return map[string]any{
		"id": ct.ID, "firstName": ns(ct.FirstName), "lastName": ct.LastName, "email": ns(ct.Email), "secondaryEmail": ns(ct.SecondaryEmail),
		"phone": ns(ct.Phone), "mobile": ns(ct.Mobile), "accountId": ns(ct.AccountID), "ownerId": ns(ct.OwnerID), "type": ns(ct.Type),
		"photoURL": nil, "webUrl": c.deskBase() + "/support/" + c.org.Portal + "/ShowHomePage.do#Contacts/dv/" + ct.ID,
		"createdTime": ts(ct.Created), "isAnonymous": false, "isEndUser": false, "isSpam": false, "zohoCRMContact": nil,
		"accountCount": accountCount(ct), "customerHappiness": map[string]any{"badPercentage": "0", "okPercentage": "0", "goodPercentage": "0"},
	}
}

// accountRef is the account a contact belongs to, as embedded in a
// contact (search rows, ticket includes): {id, accountName, website}, or
// nil (NANGO-REC tickets.test.json).
func (c *call) accountRef(id string) any {
	a := c.org.liveAccount(id)
	if a == nil {
		return nil
	}
	return map[string]any{"id": a.ID, "accountName": a.Name, "website": ns(a.Website)}
}

// contactDetailJSON is a contact as get and create answer it: the list
// shape plus every key Zoho's OAS requires there (null where the emulator
// keeps no value).
func (c *call) contactDetailJSON(ct *contact) map[string]any {
	m := c.contactJSON(ct)
	for k, v := range c.contactExtraJSON(ct) {
		m[k] = v
	}
	m["customFields"], m["isDeleted"], m["isTrashed"], m["isFollowing"] = map[string]any{}, false, false, false
	m["layoutDetails"] = map[string]any{"id": c.layoutID(), "layoutName": "Standard"}
	return m
}

// contactSearchJSON is a contact as a search row: the OAS search row
// requires the extra keys and has no accountCount, isSpam or isAnonymous.
func (c *call) contactSearchJSON(ct *contact) map[string]any {
	m := c.contactJSON(ct)
	delete(m, "accountCount")
	delete(m, "isSpam")
	delete(m, "isAnonymous")
	for k, v := range c.contactExtraJSON(ct) {
		m[k] = v
	}
	m["customFields"], m["account"], m["owner"] = map[string]any{}, c.contactAccountJSON(ct), nil
	return m
}

// contactExtraJSON are the keys get, create and search rows add to the
// list shape.
func (c *call) contactExtraJSON(ct *contact) map[string]any {
	return map[string]any{
		"title": ns(ct.Title), "description": ns(ct.Description), "modifiedTime": ts(ct.Modified), "cf": mapOrEmpty(ct.CF),
		"street": nil, "city": nil, "state": nil, "zip": nil, "country": nil, "facebook": nil, "twitter": nil,
		"layoutId": c.layoutID(),
	}
}

var contactSorts = []string{"firstName", "lastName", "phone", "email", "account", "createdTime", "modifiedTime"}

func contactField(ct *contact, f string) string {
	switch f {
	case "firstName":
		return strings.ToLower(ct.FirstName)
	case "lastName":
		return strings.ToLower(ct.LastName)
	case "phone":
		return ct.Phone
	case "email":
		return strings.ToLower(ct.Email)
	case "account":
		return ct.AccountID
	case "modifiedTime":
		return ct.Modified.Format("2006-01-02T15:04:05.000000000")
	}
	return ct.Created.Format("2006-01-02T15:04:05.000000000")
}

func (c *call) sortContacts(list []*contact, param string) bool {
	sortBy := c.q.Get(param)
	if sortBy == "" || sortBy == "relevance" {
		return true
	}
	key := strings.TrimPrefix(sortBy, "-")
	if !contains(contactSorts, key) {
		unprocessable(c.out, "The value passed for the 'sortBy' query parameter is invalid.")
		return false
	}
	sortStable(list, func(a, b *contact) bool { return contactField(a, key) < contactField(b, key) }, strings.HasPrefix(sortBy, "-"))
	return true
}

func (e *Emulator) listContacts(c *call) {
	from, limit, ok := c.paging(10, 100, false)
	if !ok {
		return
	}
	inc, ok := c.includeParam("accounts")
	if !ok {
		return
	}
	if c.q.Has("fields") {
		unprocessable(c.out, "The 'fields' parameter is not supported by the emulator.")
		return
	}
	list := liveContacts(c.org.contactOrder)
	if c.q.Get("sortBy") != "" {
		if !c.sortContacts(list, "sortBy") {
			return
		}
	}
	lo, hi := window(len(list), from, limit)
	items := make([]any, 0, hi-lo)
	for _, ct := range list[lo:hi] {
		m := c.contactJSON(ct)
		if inc["accounts"] {
			m["account"] = c.contactAccountJSON(ct)
		}
		items = append(items, m)
	}
	writePage(c.out, items, nil)
}

func (e *Emulator) getContact(c *call) {
	if _, ok := c.includeParam("accounts", "owner"); !ok {
		return
	}
	ct := c.org.liveContact(c.vars["id"])
	if ct == nil {
		notFound(c.out)
		return
	}
	c.out.json(http.StatusOK, c.contactDetailJSON(ct))
}

func mapOrEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// searchValue matches Zoho search values: comma = OR, trailing * wildcard,
// ${empty} / ${notempty}.
func searchValue(param, v string) bool {
	// strings.Cut instead of Split: no allocation per call (search calls
	// this once per ticket).
	for rest, more := param, true; more; {
		var p string
		p, rest, more = strings.Cut(rest, ",")
		p = strings.TrimSpace(p)
		switch p {
		case "${empty}":
			if v == "" {
				return true
			}
		case "${notempty}":
			if v != "" {
				return true
			}
		default:
			if prefix, ok := strings.CutSuffix(p, "*"); ok {
				if hasPrefixFold(v, prefix) {
					return true
				}
			} else if strings.EqualFold(p, v) {
				return true
			}
		}
	}
	return false
}

func (e *Emulator) searchContacts(c *call) {
	from, limit, ok := c.paging(10, 100, false)
	if !ok {
		return
	}
	if from > e.opts.SearchMaxFrom {
		unprocessable(c.out, "The value passed for the 'from' query parameter is invalid.")
		return
	}
	fields := map[string]func(*contact) string{
		"id": func(x *contact) string { return x.ID }, "fullName": (*contact).fullName,
		"firstName": func(x *contact) string { return x.FirstName }, "lastName": func(x *contact) string { return x.LastName },
		"email": func(x *contact) string { return x.Email }, "phone": func(x *contact) string { return x.Phone },
		"mobile": func(x *contact) string { return x.Mobile },
	}
	all := c.q.Get("_all")
	var list []*contact
	for _, ct := range c.org.contactOrder {
		match := !ct.Trashed && e.contactSearchable(ct, c.now) // Options.SearchDelay
		for name, get := range fields {
			if v := c.q.Get(name); v != "" && !searchValue(v, get(ct)) {
				match = false
			}
		}
		if all != "" && !containsFold(all, ct.fullName(), ct.Email, ct.Phone, ct.Mobile) {
			match = false
		}
		if match {
			list = append(list, ct)
		}
	}
	if !c.sortContacts(list, "sortBy") {
		return
	}
	lo, hi := window(len(list), from, limit)
	items := make([]any, 0, hi-lo)
	for _, ct := range list[lo:hi] {
		items = append(items, c.contactSearchJSON(ct))
	}
	writePage(c.out, items, map[string]any{"count": len(list)}) // a JSON number, as live (audit row 23)
}

// containsFold reports whether any of vals contains term (trailing * allowed),
// ignoring case; it does not allocate.
func containsFold(term string, vals ...string) bool {
	t := strings.TrimSuffix(term, "*")
	for _, v := range vals {
		if containsFoldStr(v, t) {
			return true
		}
	}
	return false
}

// readContact validates a contact object (create body or ticket's inline
// contact) into ct.
func (c *call) readContact(b *jsonBody, ct *contact, requireLast bool) {
	var lastPresent bool
	ct.LastName, lastPresent, _ = b.str("lastName", 80)
	ct.FirstName, _, _ = b.str("firstName", 40)
	ct.Email, _, _ = b.str("email", 100)
	if ct.Email != "" {
		if _, err := mail.ParseAddress(ct.Email); err != nil {
			b.fail("email", "invalid")
		}
	}
	ct.Phone, _, _ = b.str("phone", 50)
	ct.Mobile, _, _ = b.str("mobile", 50)
	if requireLast && (!lastPresent || ct.LastName == "") {
		b.fail("lastName", "missing")
	}
}

func (e *Emulator) createContact(c *call) {
	b, ok := c.readJSON()
	if !ok {
		return
	}
	ct := &contact{}
	c.readContact(b, ct, true)
	ct.SecondaryEmail, _, _ = b.str("secondaryEmail", 100)
	ct.Title, _, _ = b.str("title", 100)
	ct.Description, _, _ = b.str("description", 0)
	ct.Type, _, _ = b.str("type", 120)
	ct.AccountID, _, _ = b.id("accountId")
	ct.OwnerID, _, _ = b.id("ownerId")
	ct.CF, _ = b.anyMap("cf")
	b.rejectUnknown()
	if ct.AccountID != "" && c.org.liveAccount(ct.AccountID) == nil {
		b.fail("accountId", "invalid")
	}
	if ct.OwnerID != "" && c.org.agents[ct.OwnerID] == nil {
		b.fail("ownerId", "invalid")
	}
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	// Zoho does not check e-mails for duplicates: a recording shows three
	// contacts created with one address, all 200 [C NREC create-contact].
	ct.ID = c.org.newID()
	ct.Created, ct.Modified = c.now, c.now
	if ct.OwnerID == "" {
		ct.OwnerID = c.agentID()
	}
	c.org.addContact(ct)
	e.indexContactCreate(ct, c.now)
	c.emitContactAdd(ct)
	c.out.json(http.StatusOK, c.contactDetailJSON(ct))
}

// liveContacts returns the contacts of list that are not trashed, in a new
// slice.
func liveContacts(list []*contact) []*contact {
	out := make([]*contact, 0, len(list))
	for _, ct := range list {
		if !ct.Trashed {
			out = append(out, ct)
		}
	}
	return out
}

// contactAccountJSON is the account embedded in a contact.
func (c *call) contactAccountJSON(ct *contact) any { return c.accountRef(ct.AccountID) }

// accountCount is the number of accounts a contact is linked to, as Zoho's
// decimal string: the emulator models the primary account only.
func accountCount(ct *contact) string {
	if ct.AccountID != "" {
		return "1"
	}
	return "0"
}
