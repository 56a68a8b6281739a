// Package events is deskconn's event pipeline (DESIGN §10): Zoho Desk
// changes come in through a webhook receiver (Receiver) or a poller
// (Poller), are normalised into one Envelope and written to the
// connection's event log in the store before Zoho is acknowledged, and go
// out to long-pollers and SSE clients (Log) and to push subscriptions
// (Worker: signed POSTs through the SSRF-safe egress client, retried with
// backoff for at least a day).
//
// Delivery is at least once. A Zoho event delivered twice, or read twice by
// the poller, becomes one deskconn event: each has a source key in the log.
package events

import (
	"encoding/json"
	"time"
)

// Event types deskconn emits.
const (
	TicketCreated      = "ticket.created"
	TicketUpdated      = "ticket.updated"
	TicketThreadAdded  = "ticket.thread_added"
	TicketCommentAdded = "ticket.comment_added"
	ContactCreated     = "contact.created"
	ContactUpdated     = "contact.updated"
	AccountCreated     = "account.created"
	AccountUpdated     = "account.updated"
)

// Types lists every event type, in documentation order.
var Types = []string{
	TicketCreated, TicketUpdated, TicketThreadAdded, TicketCommentAdded,
	ContactCreated, ContactUpdated, AccountCreated, AccountUpdated,
}

// KnownType reports whether t is one of Types.
func KnownType(t string) bool {
	for _, x := range Types {
		if x == t {
			return true
		}
	}
	return false
}

// Envelope is a normalised event, the JSON every way out carries.
type Envelope struct {
	ID         string    `json:"id"`         // unique; subscribers de-duplicate on it
	Connection string    `json:"connection"` // the connection's id
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurredAt"` // when Zoho says the change happened
	ReceivedAt time.Time `json:"receivedAt"` // when deskconn stored it
	Object     Object    `json:"object"`
	// Data is the object's state as Zoho sent it (for a thread or comment:
	// the thread or comment, with its ticketId).
	Data json.RawMessage `json:"data"`
	// Previous holds, for *.updated events, the previous value of each field
	// that changed (only when Zoho sent the previous state); absent otherwise.
	Previous json.RawMessage `json:"previous,omitempty"`
	// Actor is set when the change was deskconn's own: an action's write
	// whose answer from Zoho names exactly this change (the same object and
	// modifiedTime; for a creation, a thread or a comment, the id Zoho
	// returned). Absent for every other change, a person's or another
	// integration's alike.
	Actor *Actor `json:"actor,omitempty"`
}

// Actor names who made a change through deskconn.
type Actor struct {
	Type   string `json:"type"`   // "deskconn"
	Action string `json:"action"` // the action, e.g. "update_ticket"
	// Key is the API key's id, or the MCP grant's, that called the action
	// (as in the audit log); absent for the CLI and the web console.
	Key string `json:"key,omitempty"`
}

// ActorDeskconn is Actor.Type of deskconn's own writes.
const ActorDeskconn = "deskconn"

// Object names what the event is about.
type Object struct {
	Kind string `json:"kind"` // ticket, thread, comment, contact or account
	ID   string `json:"id"`
}
