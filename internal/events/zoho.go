package events

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// MaxWebhookEvents is how many events one webhook delivery may carry.
// [GAP] Zoho documents no batch size (zoho-desk-api-2.md §1.5: "handle N");
// this bound only keeps one request's work finite.
const MaxWebhookEvents = 1000

// ZohoEvent is one event of a Zoho webhook delivery (zoho-desk-api-2.md
// §1.5): {"eventType", "orgId", "eventTime", "payload", "prevState"}.
type ZohoEvent struct {
	EventType string
	OrgID     string
	EventTime time.Time // zero when Zoho sent none
	Payload   json.RawMessage
	PrevState json.RawMessage // nil unless the webhook asked for includePrevState
}

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed webhook body")

// wireEvent is one event of a delivery as it comes, each member undecoded.
type wireEvent struct {
	EventType json.RawMessage `json:"eventType"`
	OrgID     json.RawMessage `json:"orgId"`
	EventTime json.RawMessage `json:"eventTime"`
	Payload   json.RawMessage `json:"payload"`
	PrevState json.RawMessage `json:"prevState"`
}

// decodeWireEvents splits a delivery into its events in one pass over the
// body. Only when that fails does it decode event by event, to name the
// one that is not an object.
func decodeWireEvents(body []byte) ([]wireEvent, error) {
	if body[0] == '{' {
		var w wireEvent
		if err := json.Unmarshal(body, &w); err != nil {
			return nil, fmt.Errorf("%w: /0: want an object: %v", ErrMalformed, err)
		}
		return []wireEvent{w}, nil
	}
	var ws []wireEvent
	if err := json.Unmarshal(body, &ws); err == nil {
		if len(ws) > MaxWebhookEvents {
			return nil, fmt.Errorf("%w: %d events, at most %d per delivery", ErrMalformed, len(ws), MaxWebhookEvents)
		}
		return ws, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, fmt.Errorf("%w: want a JSON array of events: %v", ErrMalformed, err)
	}
	if len(raws) > MaxWebhookEvents {
		return nil, fmt.Errorf("%w: %d events, at most %d per delivery", ErrMalformed, len(raws), MaxWebhookEvents)
	}
	ws = make([]wireEvent, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &ws[i]); err != nil {
			return nil, fmt.Errorf("%w: /%d: want an object: %v", ErrMalformed, i, err)
		}
	}
	return ws, nil
}

// DecodeWebhook decodes a webhook delivery: a JSON array of events [D
// N-D29, SIM, PD], or a single event object, accepted as well since peers
// disagree on batching [GAP]. Every event needs a non-empty eventType and a
// payload object; errors name the event's index and the field.
func DecodeWebhook(body []byte) ([]ZohoEvent, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	ws, err := decodeWireEvents(body)
	if err != nil {
		return nil, err
	}
	out := make([]ZohoEvent, 0, len(ws))
	for i, w := range ws {
		var ev ZohoEvent
		if err := json.Unmarshal(w.EventType, &ev.EventType); err != nil || ev.EventType == "" {
			return nil, fmt.Errorf("%w: /%d/eventType: want a non-empty string", ErrMalformed, i)
		}
		ev.OrgID = scalarString(w.OrgID)
		t, err := parseZohoTime(w.EventTime)
		if err != nil {
			return nil, fmt.Errorf("%w: /%d/eventTime: %v", ErrMalformed, i, err)
		}
		ev.EventTime = t
		if !isObject(w.Payload) {
			return nil, fmt.Errorf("%w: /%d/payload: want an object", ErrMalformed, i)
		}
		ev.Payload = w.Payload
		switch {
		case len(w.PrevState) == 0 || string(w.PrevState) == "null":
		case isObject(w.PrevState):
			ev.PrevState = w.PrevState
		default:
			return nil, fmt.Errorf("%w: /%d/prevState: want an object or null", ErrMalformed, i)
		}
		out = append(out, ev)
	}
	return out, nil
}

func isObject(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// scalarString returns a JSON string's value or a number's text; "" otherwise.
func scalarString(b json.RawMessage) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(b, &n) == nil {
		return n.String()
	}
	return ""
}

// parseZohoTime reads a time Zoho sent as epoch milliseconds (a string or a
// number) or as an ISO 8601 string; sources conflict on the form of
// eventTime [GAP zoho-desk-api-2.md §1.5], so all are accepted. Absent or
// null is the zero time.
func parseZohoTime(b json.RawMessage) (time.Time, error) {
	if len(b) == 0 || string(b) == "null" {
		return time.Time{}, nil
	}
	s := scalarString(b)
	if s == "" {
		return time.Time{}, errors.New("want epoch milliseconds or an ISO 8601 time")
	}
	return parseTimeString(s)
}

func parseTimeString(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms < 0 || ms > 1<<50 {
			return time.Time{}, fmt.Errorf("epoch milliseconds %d out of range", ms)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither epoch milliseconds nor an ISO 8601 time", s)
}

// zohoTypes maps Zoho's event names to deskconn's type and object kind.
var zohoTypes = map[string]struct{ typ, kind string }{
	"Ticket_Add":         {TicketCreated, "ticket"},
	"Ticket_Update":      {TicketUpdated, "ticket"},
	"Ticket_Thread_Add":  {TicketThreadAdded, "thread"},
	"Ticket_Comment_Add": {TicketCommentAdded, "comment"},
	"Contact_Add":        {ContactCreated, "contact"},
	"Contact_Update":     {ContactUpdated, "contact"},
	"Account_Add":        {AccountCreated, "account"},
	"Account_Update":     {AccountUpdated, "account"},
}

// ZohoEventNames lists the Zoho events deskconn subscribes to.
func ZohoEventNames() []string {
	return []string{"Ticket_Add", "Ticket_Update", "Ticket_Thread_Add", "Ticket_Comment_Add",
		"Contact_Add", "Contact_Update", "Account_Add", "Account_Update"}
}

// ErrUnknownEvent is returned by Normalise for Zoho events deskconn does not
// emit (Ticket_Delete, Agent_Add, …).
var ErrUnknownEvent = errors.New("event type not handled")

// Normalised is an envelope plus the key that de-duplicates it in the log.
type Normalised struct {
	Envelope
	SourceKey string
	// writeKey names the change as deskconn's write marks do
	// (store.WriteKey); "" when it cannot be matched.
	writeKey string
}

// Normalise turns one Zoho event into deskconn's envelope for the
// connection. ID and ReceivedAt are left for the caller. It returns
// ErrUnknownEvent for events deskconn does not emit, and an error naming
// the field when the payload lacks an id.
func Normalise(connectionID string, ev ZohoEvent) (*Normalised, error) {
	m, ok := zohoTypes[ev.EventType]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEvent, ev.EventType)
	}
	// Only the fields read here: a ticket's payload has dozens, and a map
	// of them all is most of this function's cost.
	var fields struct {
		ID           json.RawMessage `json:"id"`
		ModifiedTime json.RawMessage `json:"modifiedTime"`
		CreatedTime  json.RawMessage `json:"createdTime"`
	}
	if err := json.Unmarshal(ev.Payload, &fields); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	id := scalarString(fields.ID)
	if id == "" {
		return nil, fmt.Errorf("%w: payload/id: want the %s's id", ErrMalformed, m.kind)
	}
	n := &Normalised{Envelope: Envelope{
		Connection: connectionID,
		Type:       m.typ,
		OccurredAt: ev.EventTime,
		Object:     Object{Kind: m.kind, ID: id},
		Data:       compact(ev.Payload),
	}}
	modified := scalarString(fields.ModifiedTime)
	if n.OccurredAt.IsZero() {
		for _, f := range []json.RawMessage{fields.ModifiedTime, fields.CreatedTime} {
			if t, err := parseTimeString(scalarString(f)); err == nil {
				n.OccurredAt = t
				break
			}
		}
	}
	switch m.typ {
	case TicketUpdated, ContactUpdated, AccountUpdated:
		if ev.PrevState != nil {
			var current map[string]json.RawMessage
			if err := json.Unmarshal(ev.Payload, &current); err != nil {
				return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
			}
			prev, err := changedFields(current, ev.PrevState)
			if err != nil {
				return nil, err
			}
			n.Previous = prev
		}
		// The same change read twice (webhook redelivery, poller overlap,
		// or both) has the same modifiedTime; without one, the content
		// decides.
		if modified != "" {
			n.SourceKey = m.typ + ":" + id + ":" + modified
			n.writeKey = store.WriteKey(m.kind, id, modified)
		} else {
			h := sha256.New()
			h.Write([]byte(ev.EventTime.String()))
			h.Write(n.Data)
			n.SourceKey = m.typ + ":" + id + ":h" + hex.EncodeToString(h.Sum(nil))[:32]
		}
	default:
		// Creations and additions happen once per object.
		n.SourceKey = m.typ + ":" + id
		n.writeKey = store.WriteKey(m.kind, id, "")
	}
	return n, nil
}

// changedFields returns, as a JSON object, the previous value of every field
// of prevState whose value differs from the current payload.
func changedFields(current map[string]json.RawMessage, prevState json.RawMessage) (json.RawMessage, error) {
	var prev map[string]json.RawMessage
	if err := json.Unmarshal(prevState, &prev); err != nil {
		return nil, fmt.Errorf("%w: prevState: %v", ErrMalformed, err)
	}
	changed := map[string]json.RawMessage{}
	for k, v := range prev {
		if !bytes.Equal(compact(v), compact(current[k])) {
			changed[k] = compact(v)
		}
	}
	b, err := json.Marshal(changed)
	if err != nil {
		return nil, fmt.Errorf("previous values: %w", err)
	}
	return b, nil
}

func compact(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

// jwksURL derives a data centre's JWKS address from its Desk API base URL
// ("https://desk.zoho.eu/api/v1" → "https://desk.zoho.eu/.well-known/jwks.json")
// [D N-D29, SIM: every DC host serves /.well-known/jwks.json].
func jwksURL(deskBaseURL string) (string, error) {
	i := strings.Index(deskBaseURL, "/api/")
	if i < 0 || !strings.HasPrefix(deskBaseURL, "http") {
		return "", fmt.Errorf("desk base URL %q has no /api/ path", deskBaseURL)
	}
	return deskBaseURL[:i] + "/.well-known/jwks.json", nil
}
