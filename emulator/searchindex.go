package emulator

import "time"

// searchIndex models Zoho's search indexing delay (Options.SearchDelay): a
// ticket's create or update, and a contact's or account's create, reach the search
// endpoints only SearchDelay after the write. Until then search sees the
// version indexed before, so a changed subject is still found by its old
// value and a new ticket or contact not at all. GET and list see every
// write at once. Trashing hides a ticket from search at once (it is not
// delayed). With SearchDelay 0 nothing is recorded.
//
// Zoho documents no figure: new and changed tickets are reported to show up
// in /tickets/search only after a delay (fidelity audit row 2; team
// reference §3.9.7 [C DEX]).
type searchIndex struct {
	// tickets holds, per ticket, the writes search does not see yet,
	// oldest first.
	tickets map[*ticket][]pendingWrite
	// contacts and accounts hold when search starts to see a new contact
	// or account.
	contacts map[*contact]time.Time
	accounts map[*account]time.Time
}

// pendingWrite is one write of a ticket not yet visible to search: before
// is the ticket as it was before the write (nil for its creation).
type pendingWrite struct {
	visibleAt time.Time
	before    *ticket
}

func newSearchIndex() *searchIndex {
	return &searchIndex{tickets: map[*ticket][]pendingWrite{}, contacts: map[*contact]time.Time{}, accounts: map[*account]time.Time{}}
}

// indexTicketWrite records a write of t at now; before is a copy of t as it
// was before the write (nil when t was just created). Callers hold e.mu.
func (e *Emulator) indexTicketWrite(t, before *ticket, now time.Time) {
	if e.opts.SearchDelay <= 0 {
		return
	}
	pend := e.search.tickets[t]
	// Writes already indexed are forgotten here too, so a ticket written
	// often but never searched keeps only the writes within the delay.
	i := 0
	for i < len(pend) && !now.Before(pend[i].visibleAt) {
		i++
	}
	pend = append(pend[i:], pendingWrite{visibleAt: now.Add(e.opts.SearchDelay), before: before})
	e.search.tickets[t] = pend
}

// indexContactCreate records the creation of ct at now. Callers hold e.mu.
func (e *Emulator) indexContactCreate(ct *contact, now time.Time) {
	if e.opts.SearchDelay <= 0 {
		return
	}
	e.search.contacts[ct] = now.Add(e.opts.SearchDelay)
}

// searchedTicket is the version of t search sees at now: t itself once
// every write is indexed (or when t is trashed, which search filters out at
// once), the version before the oldest write not yet indexed, or nil while
// t's creation is not indexed. Writes already indexed are forgotten.
// Callers hold e.mu.
func (e *Emulator) searchedTicket(t *ticket, now time.Time) *ticket {
	pend, ok := e.search.tickets[t]
	if !ok || t.Trashed {
		return t
	}
	i := 0
	for i < len(pend) && !now.Before(pend[i].visibleAt) {
		i++
	}
	if i == len(pend) {
		delete(e.search.tickets, t)
		return t
	}
	if i > 0 {
		pend = append(pend[:0], pend[i:]...)
		e.search.tickets[t] = pend
	}
	return pend[0].before
}

// contactSearchable reports whether search sees ct at now. Callers hold
// e.mu.
func (e *Emulator) contactSearchable(ct *contact, now time.Time) bool {
	at, ok := e.search.contacts[ct]
	if !ok {
		return true
	}
	if now.Before(at) {
		return false
	}
	delete(e.search.contacts, ct)
	return true
}

// indexAccountCreate records the creation of a at now. Callers hold e.mu.
func (e *Emulator) indexAccountCreate(a *account, now time.Time) {
	if e.opts.SearchDelay <= 0 {
		return
	}
	e.search.accounts[a] = now.Add(e.opts.SearchDelay)
}

// accountSearchable reports whether search sees a at now. Callers hold
// e.mu.
func (e *Emulator) accountSearchable(a *account, now time.Time) bool {
	at, ok := e.search.accounts[a]
	if !ok {
		return true
	}
	if now.Before(at) {
		return false
	}
	delete(e.search.accounts, a)
	return true
}
