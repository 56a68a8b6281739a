package emulator

import "strconv"

// TicketCount returns the number of live (not trashed) tickets in orgID.
func (e *Emulator) TicketCount(orgID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if o := e.st.orgs[orgID]; o != nil {
		return o.liveTickets
	}
	return 0
}

// TicketInfo is a test view of a stored ticket.
type TicketInfo struct {
	ID, Number, Subject, Status, DepartmentID, ContactID, AssigneeID, Resolution string
	Trashed                                                                      bool
	Attachments                                                                  int
}

// GetTicket returns a ticket of orgID (trashed ones too) and whether it exists.
func (e *Emulator) GetTicket(orgID, ticketID string) (TicketInfo, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.st.orgs[orgID]
	if o == nil {
		return TicketInfo{}, false
	}
	t := o.tickets[ticketID]
	if t == nil {
		return TicketInfo{}, false
	}
	return TicketInfo{ID: t.ID, Number: strconv.FormatInt(t.Number, 10), Subject: t.Subject, Status: t.Status, DepartmentID: t.DepartmentID,
		ContactID: t.ContactID, AssigneeID: t.AssigneeID, Resolution: t.Resolution, Trashed: t.Trashed, Attachments: len(o.attachments[t.ID])}, true
}

// AgentInfo is a test view of a stored agent.
type AgentInfo struct {
	ID, ZUID, Email, Status, RolePermissionType string
	IsConfirmed                                 bool
}

// AgentByEmail returns the agent of orgID with that email.
func (e *Emulator) AgentByEmail(orgID, email string) (AgentInfo, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.st.orgs[orgID]
	if o == nil {
		return AgentInfo{}, false
	}
	a := o.agentByEmail(email)
	if a == nil {
		return AgentInfo{}, false
	}
	return AgentInfo{ID: a.ID, ZUID: a.ZUID, Email: a.Email, Status: a.Status, RolePermissionType: a.RolePermissionType, IsConfirmed: a.IsConfirmed}, true
}

// ContactCount returns the number of contacts in orgID.
func (e *Emulator) ContactCount(orgID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if o := e.st.orgs[orgID]; o != nil {
		return len(o.contactOrder)
	}
	return 0
}

// RefreshTokenCount returns how many live refresh tokens user holds for clientID.
func (e *Emulator) RefreshTokenCount(clientID, user string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, rt := range e.st.refresh {
		if rt.ClientID == clientID && rt.User == user {
			n++
		}
	}
	return n
}

// ContactsWithEmail returns how many live (not trashed) contacts of orgID
// have the primary e-mail email, ignoring case. Zoho allows several.
func (e *Emulator) ContactsWithEmail(orgID, email string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	if o := e.st.orgs[orgID]; o != nil {
		for _, c := range o.contactOrder {
			if !c.Trashed && equalFold(c.Email, email) {
				n++
			}
		}
	}
	return n
}
