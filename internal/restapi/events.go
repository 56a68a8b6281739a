package restapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/events"
	"github.com/deskconn/deskconn/internal/store"
)

// The routes MountEvents registers.
const (
	RouteListEvents         = "GET /v1/connections/{connection}/events"
	RouteStreamEvents       = "GET /v1/connections/{connection}/events/stream"
	RouteEnableEvents       = "POST /v1/connections/{connection}/events/enable"
	RouteCreateSubscription = "POST /v1/connections/{connection}/subscriptions"
	RouteListSubscriptions  = "GET /v1/connections/{connection}/subscriptions"
	RouteDeleteSubscription = "DELETE /v1/connections/{connection}/subscriptions/{id}"
	RouteRedeliver          = "POST /v1/connections/{connection}/subscriptions/{id}/redeliver"
)

// Event API limits.
const (
	MaxEventsWait    = 60 * time.Second // longest ?wait= of a long poll
	MaxEventsLimit   = 500
	sseKeepAlive     = 15 * time.Second
	maxSubscribeBody = 16 << 10
)

// EventList is the body of GET .../events: the envelopes after the cursor
// and the cursor to pass as ?after= next time.
type EventList struct {
	Events []json.RawMessage `json:"events"`
	Next   int64             `json:"next"`
}

// SubscriptionView describes a subscription; Secret is set only in the
// answer that created it.
type SubscriptionView struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Types     []string  `json:"types"`
	CreatedAt time.Time `json:"createdAt"`
	Secret    string    `json:"secret,omitempty"`
}

// EventSourceView is a connection's event intake.
type EventSourceView struct {
	Mode        string     `json:"mode"` // webhook, polling or off
	WebhookID   string     `json:"webhookId,omitempty"`
	LastEventAt *time.Time `json:"lastEventAt,omitempty"`
	LastError   string     `json:"lastError,omitempty"`
}

// MountEvents registers the event endpoints behind the API-key middleware
// and, without it, Zoho's webhook receiver at events.ReceiverPath (it is
// authenticated by its own token and JWT):
//
//   - GET .../events?after=&types=&limit=&wait=: events after the cursor
//     (EventList); with wait (a Go duration up to MaxEventsWait, e.g. 30s)
//     it long-polls until one arrives;
//   - GET .../events/stream: Server-Sent Events, one per event (id = cursor,
//     event = type, data = envelope), resuming after Last-Event-ID (or
//     ?after=), with keep-alive comments;
//   - POST .../events/enable {"mode": "webhook"|"polling"|""}: switch the
//     connection's intake on (EventSourceView);
//   - POST .../subscriptions {"url", "types"}: 201 SubscriptionView with the
//     signing secret, shown only here;
//   - GET .../subscriptions, DELETE .../subscriptions/{id},
//     POST .../subscriptions/{id}/redeliver ({"redelivered": n}).
//
// Call it before the server starts serving.
func (s *Server) MountEvents(p *events.Pipeline) error {
	if p == nil {
		return errors.New("mount events: pipeline is required")
	}
	h := &eventHandlers{s: s, p: p}
	s.mux.Handle(events.ReceiverPath, p.Receiver)
	s.Mount(RouteListEvents, http.HandlerFunc(h.list))
	s.Mount(RouteStreamEvents, http.HandlerFunc(h.stream))
	s.Mount(RouteEnableEvents, http.HandlerFunc(h.enable))
	s.Mount(RouteCreateSubscription, http.HandlerFunc(h.subscribe))
	s.Mount(RouteListSubscriptions, http.HandlerFunc(h.subscriptions))
	s.Mount(RouteDeleteSubscription, http.HandlerFunc(h.unsubscribe))
	s.Mount(RouteRedeliver, http.HandlerFunc(h.redeliver))
	return nil
}

type eventHandlers struct {
	s *Server
	p *events.Pipeline
}

func (h *eventHandlers) conn(r *http.Request) (*store.Connection, error) {
	return h.s.opts.Manager.Get(r.Context(), TenantID(r.Context()), r.PathValue("connection"))
}

// eventFilter reads after, types and limit; after may also come from
// Last-Event-ID (SSE reconnects).
func eventFilter(r *http.Request, connID string) (store.EventFilter, error) {
	q := r.URL.Query()
	f := store.EventFilter{ConnectionID: connID, Limit: 100}
	var fields []deskconn.FieldError
	after := q.Get("after")
	if after == "" {
		after = r.Header.Get("Last-Event-ID")
	}
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil || n < 0 {
			fields = append(fields, deskconn.FieldError{Pointer: "/after", Code: "invalid", Message: "after is the cursor of the last event seen: a whole number, 0 for the start"})
		}
		f.After = n
	}
	if v := q.Get("types"); v != "" {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if !events.KnownType(t) {
				fields = append(fields, deskconn.FieldError{Pointer: "/types", Code: "invalid",
					Message: fmt.Sprintf("unknown event type %q; use a comma list of %s", t, strings.Join(events.Types, ", "))})
				continue
			}
			f.Types = append(f.Types, t)
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxEventsLimit {
			fields = append(fields, deskconn.FieldError{Pointer: "/limit", Code: "invalid", Message: fmt.Sprintf("limit is a whole number from 1 to %d", MaxEventsLimit)})
		}
		f.Limit = n
	}
	if len(fields) > 0 {
		return f, deskconn.Invalid("fix the query parameters", fields...)
	}
	return f, nil
}

func (h *eventHandlers) list(w http.ResponseWriter, r *http.Request) {
	c, err := h.conn(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	f, err := eventFilter(r, c.ID)
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" && err == nil {
		d, perr := time.ParseDuration(v)
		if perr != nil || d < 0 || d > MaxEventsWait {
			err = deskconn.Invalid("fix the query parameters", deskconn.FieldError{Pointer: "/wait", Code: "invalid",
				Message: "wait is a duration up to " + MaxEventsWait.String() + ", e.g. 30s"})
		}
		wait = d
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	evs, err := h.p.Log.Wait(r.Context(), f, wait)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client left
		}
		WriteError(w, r, err)
		return
	}
	out := EventList{Events: []json.RawMessage{}, Next: f.After}
	for _, e := range evs {
		out.Events = append(out.Events, e.Body)
		out.Next = e.Seq
	}
	WriteJSON(w, http.StatusOK, out)
}

func (h *eventHandlers) stream(w http.ResponseWriter, r *http.Request) {
	c, err := h.conn(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	f, err := eventFilter(r, c.ID)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, ": deskconn events\n\n")
	_ = rc.Flush()
	ctx := r.Context()
	for {
		evs, err := h.p.Log.Wait(ctx, f, sseKeepAlive)
		if err != nil {
			return // the client left, or the store failed: the client resumes with Last-Event-ID
		}
		if len(evs) == 0 {
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		}
		for _, e := range evs {
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, e.Body); err != nil {
				return
			}
			f.After = e.Seq
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

func (h *eventHandlers) enable(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Mode string `json:"mode"`
	}
	if err := decodeSmallJSON(w, r, &in); err != nil {
		WriteError(w, r, err)
		return
	}
	mode := store.EventSourceMode(in.Mode)
	if mode != "" && mode != store.SourceWebhook && mode != store.SourcePolling {
		WriteError(w, r, deskconn.Invalid("fix the body", deskconn.FieldError{Pointer: "/mode", Code: "invalid", Message: `mode is "webhook", "polling" or "" (the best available)`}))
		return
	}
	src, err := h.p.Sources.Enable(r.Context(), TenantID(r.Context()), r.PathValue("connection"), mode)
	if err != nil {
		WriteError(w, r, deskconn.AsError(err))
		return
	}
	WriteJSON(w, http.StatusOK, SourceView(src))
}

// SourceView renders an event source.
func SourceView(src *store.EventSource) EventSourceView {
	v := EventSourceView{Mode: string(src.Mode), WebhookID: src.WebhookID, LastError: src.LastError}
	if !src.LastEventAt.IsZero() {
		t := src.LastEventAt
		v.LastEventAt = &t
	}
	return v
}

// decodeSmallJSON decodes a small JSON body into v (an empty body leaves v
// as is); unknown fields are refused.
func decodeSmallJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSubscribeBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return deskconn.Invalid("the body must be a small JSON object: " + err.Error())
	}
	return nil
}

func (h *eventHandlers) subscribe(w http.ResponseWriter, r *http.Request) {
	c, err := h.conn(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	var in struct {
		URL   string   `json:"url"`
		Types []string `json:"types"`
	}
	if err := decodeSmallJSON(w, r, &in); err != nil {
		WriteError(w, r, err)
		return
	}
	if in.URL == "" {
		WriteError(w, r, deskconn.Invalid("fix the body", deskconn.FieldError{Pointer: "/url", Code: "missing", Message: "url is the https address deliveries are POSTed to"}))
		return
	}
	sub, secret, err := events.NewSubscription(r.Context(), h.p.Store, h.p.Keyring, h.p.URLs, c.TenantID, c.ID, in.URL, in.Types)
	if err != nil {
		WriteError(w, r, subscriptionError(err))
		return
	}
	v := subscriptionView(sub)
	v.Secret = secret
	WriteJSON(w, http.StatusCreated, v)
}

// subscriptionError maps NewSubscription's validation errors ("url: …",
// "types/N: …") to field problems.
func subscriptionError(err error) error {
	msg := err.Error()
	for _, field := range []string{"url", "types/"} {
		if strings.HasPrefix(msg, field) {
			ptr, rest, _ := strings.Cut(msg, ": ")
			return deskconn.Invalid("fix the subscription", deskconn.FieldError{Pointer: "/" + ptr, Code: "invalid", Message: rest})
		}
	}
	return err
}

func subscriptionView(sub *store.Subscription) SubscriptionView {
	types := sub.Types
	if types == nil {
		types = []string{}
	}
	return SubscriptionView{ID: sub.ID, URL: sub.URL, Types: types, CreatedAt: sub.CreatedAt}
}

func (h *eventHandlers) subscriptions(w http.ResponseWriter, r *http.Request) {
	c, err := h.conn(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	subs, err := h.p.Store.ListSubscriptions(r.Context(), c.TenantID, c.ID)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := struct {
		Subscriptions []SubscriptionView `json:"subscriptions"`
	}{Subscriptions: []SubscriptionView{}}
	for _, s := range subs {
		out.Subscriptions = append(out.Subscriptions, subscriptionView(s))
	}
	WriteJSON(w, http.StatusOK, out)
}

// ownSubscription finds {id} among the connection's subscriptions.
func (h *eventHandlers) ownSubscription(r *http.Request) (*store.Subscription, error) {
	c, err := h.conn(r)
	if err != nil {
		return nil, err
	}
	sub, err := h.p.Store.GetSubscription(r.Context(), c.TenantID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && sub.ConnectionID != c.ID) {
		return nil, deskconn.Errorf(deskconn.CodeNotFound, "connection %s has no subscription %q", c.Name, r.PathValue("id"))
	}
	return sub, err
}

func (h *eventHandlers) unsubscribe(w http.ResponseWriter, r *http.Request) {
	sub, err := h.ownSubscription(r)
	if err == nil {
		err = h.p.Store.DeleteSubscription(r.Context(), sub.TenantID, sub.ID)
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *eventHandlers) redeliver(w http.ResponseWriter, r *http.Request) {
	sub, err := h.ownSubscription(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	n, err := h.p.Store.RedeliverFailed(r.Context(), sub.ID, time.Now())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	h.p.Log.Notify(sub.ConnectionID)
	WriteJSON(w, http.StatusOK, map[string]int64{"redelivered": n})
}

// RunInBackground registers fn to run, with the serving context, while
// Serve runs; Serve waits for it after shutdown.
func (s *Server) RunInBackground(fn func(ctx context.Context)) {
	s.background = append(s.background, fn)
}

// withEvents adds the connection's event source to v, when it has one. A
// store failure leaves it out: the connection itself was read.
func (s *Server) withEvents(ctx context.Context, v ConnectionView) ConnectionView {
	if src, err := s.store.GetEventSource(ctx, v.ID); err == nil {
		ev := SourceView(src)
		v.Events = &ev
	}
	return v
}
