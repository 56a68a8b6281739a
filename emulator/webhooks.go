package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Webhooks (zoho-desk-api-2.md §1): the management API under
// /api/v1/webhooks, URL validation at creation (a GET, then a POST; one
// must answer 200 [C OAS-Webhook]), the JWKS at /.well-known/jwks.json,
// and delivery of a JSON array of events, signed with an RS256 JWT in
// X-ZDesk-JWT (iss "orgId:<org>", aud "webhookId:<id>") for changes made
// through this API. Only a 200 within WebhookAckTimeout counts; a 410
// deletes the webhook [C WH]. Zoho's retry policy is unknown [GAP], so
// failed deliveries are not retried: they are recorded (WebhookDeliveries).
//
// Choices where Zoho is silent: a failed URL validation answers 422
// INVALID_DATA on /url [GAP, as SIM maps it]; enabling more webhooks than
// the edition allows answers 403 LICENSE_ACCESS_LIMITED and more than 20
// configured answers 422 [GAP]; isEnabled defaults to true [GAP].

// WebhookFaults disturb webhook deliveries, for tests of receivers.
type WebhookFaults struct {
	Delay     time.Duration // wait before each delivery
	Duplicate bool          // send every delivery twice
	Reorder   bool          // hold each delivery until the next one has been sent
	DropEvery int           // drop every Nth delivery (1 drops all); 0 drops none
}

// WebhookDelivery is one delivery attempt, for inspection.
type WebhookDelivery struct {
	WebhookID string `json:"webhookId"`
	EventType string `json:"eventType"`
	URL       string `json:"url"`
	Status    int    `json:"status"`            // 0 when no answer came
	Err       string `json:"error,omitempty"`   // transport error or timeout
	Dropped   bool   `json:"dropped,omitempty"` // dropped by a fault, never sent
}

// putWebhookFaults sets WebhookFaults from a JSON body (admin API).
func (e *Emulator) putWebhookFaults(out *resp, r *http.Request) {
	var in struct {
		Delay     string `json:"delay"`
		Duplicate bool   `json:"duplicate"`
		Reorder   bool   `json:"reorder"`
		DropEvery int    `json:"dropEvery"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<12))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeZohoError(out, http.StatusBadRequest, "BAD_REQUEST", "The body must be {delay, duplicate, reorder, dropEvery}: "+err.Error(), nil)
		return
	}
	f := WebhookFaults{Duplicate: in.Duplicate, Reorder: in.Reorder, DropEvery: in.DropEvery}
	if in.Delay != "" {
		d, err := time.ParseDuration(in.Delay)
		if err != nil || d < 0 || d > time.Minute {
			writeZohoError(out, http.StatusBadRequest, "BAD_REQUEST", "delay is a duration up to 1m, e.g. \"250ms\"", nil)
			return
		}
		f.Delay = d
	}
	if f.DropEvery < 0 {
		writeZohoError(out, http.StatusBadRequest, "BAD_REQUEST", "dropEvery is 0 (none) or N (every Nth delivery)", nil)
		return
	}
	e.SetWebhookFaults(f)
	out.noContent(http.StatusNoContent)
}

// maxWebhooksConfigured is Zoho's per-portal cap on configured webhooks [C WH].
const maxWebhooksConfigured = 20

// enabledWebhookLimit is how many enabled webhooks an edition allows [C WH:
// Free 0, Standard 0, Professional 5, Enterprise 10; D N-D29]. Express is
// not listed [GAP]: 0. Zoho One is treated as Enterprise [I].
var enabledWebhookLimit = map[string]int{
	"FREE": 0, "EXPRESS": 0, "STANDARD": 0, "PROFESSIONAL": 5, "ENTERPRISE": 10, "ZOHOONE": 10,
}

// webhookFilters lists every event of the catalogue with the filter keys it
// accepts [C OAS-Webhook WA].
var webhookFilters = func() map[string][]string {
	dept := []string{"departmentIds"}
	deptOld := []string{"departmentId", "departmentIds"}
	prev := []string{"includePrevState"}
	deptPrev := []string{"departmentIds", "includePrevState"}
	m := map[string][]string{
		"Ticket_Add": deptOld, "Ticket_Update": {"departmentId", "departmentIds", "fields", "includePrevState"},
		"Ticket_Delete": nil, "Ticket_Thread_Add": {"departmentId", "departmentIds", "direction"},
		"Ticket_Comment_Add": deptOld, "Ticket_Comment_Update": deptOld,
		"Ticket_Attachment_Add": nil, "Ticket_Attachment_Update": nil,
		"Ticket_Attachment_Delete": dept, "Ticket_Attachment_Trashed": dept, "Ticket_Attachment_Restored": dept,
		"Ticket_Comment_Attachment_Add": nil, "Ticket_Comment_Attachment_Delete": nil,
		"Ticket_Approval_Add": nil, "Ticket_Approval_Update": prev,
		"Contact_Add": nil, "Contact_Delete": nil, "Contact_Update": prev,
		"Account_Add": nil, "Account_Delete": nil, "Account_Update": prev,
		"Agent_Add": nil, "Agent_Delete": nil, "Agent_Presence_Update": nil, "Agent_Channel_Preference_Update": nil, "Agent_Update": prev,
		"Department_Add": nil, "Department_Update": prev,
		"Task_Add": dept, "Task_Update": deptPrev, "Task_Delete": nil,
		"Call_Add": dept, "Call_Update": deptPrev, "Call_Delete": nil,
		"Event_Add": dept, "Event_Update": deptPrev, "Event_Delete": nil,
		"TimeEntry_Add": nil, "TimeEntry_Delete": nil, "TimeEntry_Update": prev,
		"Article_Add": nil, "Article_Delete": nil, "Article_Feedback_Add": nil, "Article_Translation_Add": nil,
		"Article_Translation_Delete": nil, "Article_Update": prev, "Article_Translation_Update": prev,
		"KBRootCategory_Add": nil, "KBRootCategory_Delete": nil, "KBRootCategory_Update": prev,
		"KBSection_Add": nil, "KBSection_Delete": nil, "KBSection_Update": prev,
		"IM_Message_Add": dept, "IM_Message_Status": dept, "IM_Session_Status": deptOld,
	}
	return m
}()

type webhook struct {
	ID, Name, Description, URL, IgnoreSourceID, CreatedBy string
	Subscriptions                                         map[string]json.RawMessage
	IncludeEventsFrom                                     []string
	Enabled                                               bool
	Created, Modified                                     time.Time
}

func (w *webhook) json() map[string]any {
	subs := map[string]any{}
	for k, v := range w.Subscriptions {
		subs[k] = v
	}
	inc := w.IncludeEventsFrom
	if inc == nil {
		inc = []string{}
	}
	return map[string]any{
		"id": w.ID, "name": w.Name, "description": w.Description, "url": w.URL, "subscriptions": subs,
		"isEnabled": w.Enabled, "ignoreSourceId": w.IgnoreSourceID, "includeEventsFrom": inc,
		"createdBy": w.CreatedBy, "createdTime": ts(w.Created), "modifiedTime": ts(w.Modified), "type": "CUSTOMER_WEBHOOK",
	}
}

// webhookState is the emulator's webhook machinery. hooks is guarded by
// the emulator's state lock; the delivery queue by its own mutex.
type webhookState struct {
	hooks map[string][]*webhook // org id → webhooks, creation order

	keyOnce sync.Once
	key     *rsa.PrivateKey

	mu         sync.Mutex
	queue      []webhookJob
	running    int           // delivery goroutines
	idle       chan struct{} // closed when the queue is drained
	faults     WebhookFaults
	held       *webhookJob // held back by the Reorder fault until the next delivery
	sent       int
	deliveries []WebhookDelivery

	// tokens caches each webhook's last JWT: its claims change only with
	// the second of iat, and RS256 (PKCS #1 v1.5) signing is deterministic,
	// so within a second a new signature would be the same bytes.
	tokens map[string]signedToken // org id + "/" + webhook id
}

type signedToken struct {
	iat   int64
	token string
}

type webhookJob struct {
	orgID, webhookID, url, eventType string
	body                             []byte
	flush                            bool // a held delivery released by WaitWebhooks
}

// webhookKeyID names the emulator's signing key in its JWKS.
const webhookKeyID = "emulator-1"

func (e *Emulator) webhookKey() *rsa.PrivateKey {
	e.wh.keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(fmt.Sprintf("emulator: generate webhook signing key: %v", err))
		}
		e.wh.key = k
	})
	return e.wh.key
}

// serveJWKS answers GET /.well-known/jwks.json with the signing key.
func (e *Emulator) serveJWKS(out *resp) {
	pub := &e.webhookKey().PublicKey
	out.json(http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": webhookKeyID, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// SetWebhookFaults installs faults for the webhook deliveries that follow.
func (e *Emulator) SetWebhookFaults(f WebhookFaults) {
	e.wh.mu.Lock()
	defer e.wh.mu.Unlock()
	e.wh.faults = f
}

// WebhookDeliveries returns every delivery attempt so far.
func (e *Emulator) WebhookDeliveries() []WebhookDelivery {
	e.wh.mu.Lock()
	defer e.wh.mu.Unlock()
	return append([]WebhookDelivery(nil), e.wh.deliveries...)
}

// WaitWebhooks blocks until every queued webhook delivery has been
// attempted, or ctx ends. A delivery held back by the Reorder fault is
// released by the next one when one is queued; when nothing is left to
// release it, it is sent last. (Releasing it while a delivery was still
// queued put it ahead of that one, which was then held in its place: the
// order came out unchanged.)
func (e *Emulator) WaitWebhooks(ctx context.Context) error {
	for {
		e.wh.mu.Lock()
		if e.wh.running == 0 { // nothing queued or being sent
			h := e.wh.held
			if h == nil {
				e.wh.mu.Unlock()
				return nil
			}
			e.wh.held = nil
			h.flush = true
			e.enqueueLocked(*h)
		}
		idle := e.wh.idle // closed when the running deliverers are done
		e.wh.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (e *Emulator) webhookRoutes() []route {
	read := [][]string{anyOf("Desk.events.READ", "Desk.settings.READ", "Desk.webhooks.READ")}
	create := [][]string{anyOf("Desk.events.CREATE", "Desk.settings.CREATE", "Desk.webhooks.CREATE")}
	update := [][]string{anyOf("Desk.events.UPDATE", "Desk.settings.UPDATE", "Desk.webhooks.UPDATE")}
	del := [][]string{anyOf("Desk.events.DELETE", "Desk.settings.DELETE", "Desk.webhooks.DELETE")}
	return []route{
		rt("GET", "webhooks", read, "", e.listWebhooks),
		rt("POST", "webhooks", create, "", e.createWebhook),
		rt("GET", "webhooks/{id}", read, "", e.getWebhook),
		rt("PATCH", "webhooks/{id}", update, "", e.updateWebhook),
		rt("DELETE", "webhooks/{id}", del, "", e.deleteWebhook),
	}
}

func (e *Emulator) findWebhook(orgID, id string) *webhook {
	for _, w := range e.wh.hooks[orgID] {
		if w.ID == id {
			return w
		}
	}
	return nil
}

func (e *Emulator) listWebhooks(c *call) {
	hooks := e.wh.hooks[c.org.ID]
	if len(hooks) == 0 {
		c.out.noContent(http.StatusNoContent)
		return
	}
	data := make([]map[string]any, 0, len(hooks))
	for _, w := range hooks {
		data = append(data, w.json())
	}
	c.out.json(http.StatusOK, map[string]any{"data": data})
}

func (e *Emulator) getWebhook(c *call) {
	w := e.findWebhook(c.org.ID, c.vars["id"])
	if w == nil {
		notFound(c.out)
		return
	}
	c.out.json(http.StatusOK, w.json())
}

func (e *Emulator) deleteWebhook(c *call) {
	hooks := e.wh.hooks[c.org.ID]
	for i, w := range hooks {
		if w.ID == c.vars["id"] {
			e.wh.hooks[c.org.ID] = append(hooks[:i:i], hooks[i+1:]...)
			c.out.noContent(http.StatusOK)
			return
		}
	}
	notFound(c.out)
}

// readWebhook applies the body's fields to w; create requires url and
// subscriptions, and so does update (WA lists subscriptions as required on
// PATCH [C OAS-Webhook]).
func (c *call) readWebhook(b *jsonBody, w *webhook, create bool) {
	if u, present, _ := b.str("url", 500); present {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			b.fail("url", "invalid")
		}
		w.URL = u
	} else if create {
		b.fail("url", "missing")
	}
	if raw, ok := b.fields["subscriptions"]; ok {
		b.seen["subscriptions"] = true
		var subs map[string]json.RawMessage
		if err := json.Unmarshal(raw, &subs); err != nil || subs == nil || len(subs) == 0 {
			b.fail("subscriptions", "invalid")
		} else {
			for name, filter := range subs {
				keys, known := webhookFilters[name]
				if !known {
					b.fail("subscriptions/"+name, "invalid")
					continue
				}
				if string(bytes.TrimSpace(filter)) == "null" {
					continue
				}
				var f map[string]json.RawMessage
				if err := json.Unmarshal(filter, &f); err != nil {
					b.fail("subscriptions/"+name, "invalid")
					continue
				}
				for k := range f {
					if !contains(keys, k) {
						b.fail("subscriptions/"+name+"/"+k, "invalid")
					}
				}
			}
			w.Subscriptions = subs
		}
	} else {
		b.fail("subscriptions", "missing")
	}
	if v, present, _ := b.str("name", 100); present {
		w.Name = v
	}
	if v, present, _ := b.str("description", 3000); present {
		w.Description = v
	}
	if v, present, _ := b.str("ignoreSourceId", 100); present {
		w.IgnoreSourceID = v
	}
	if v, set := webhookBool(b, "isEnabled"); set {
		w.Enabled = v
	}
	if list, present := b.strList("includeEventsFrom", 1); present {
		for i, v := range list {
			if v != "AUTOMATION" {
				b.fail(fmt.Sprintf("includeEventsFrom/%d", i), "invalid")
			}
		}
		w.IncludeEventsFrom = list
	}
	b.rejectUnknown()
}

func (e *Emulator) checkWebhookLimits(c *call, w *webhook) bool {
	hooks := e.wh.hooks[c.org.ID]
	if e.findWebhook(c.org.ID, w.ID) == nil && len(hooks) >= maxWebhooksConfigured {
		unprocessable(c.out, fmt.Sprintf("At most %d webhooks can be configured.", maxWebhooksConfigured))
		return false
	}
	if !w.Enabled {
		return true
	}
	enabled := 0
	for _, h := range hooks {
		if h.Enabled && h.ID != w.ID {
			enabled++
		}
	}
	if limit := enabledWebhookLimit[c.org.Edition]; enabled >= limit {
		c.out.json(http.StatusForbidden, zohoError{ErrorCode: "LICENSE_ACCESS_LIMITED",
			Message: "Your edition allows " + strconv.Itoa(limit) + " enabled webhooks.", Feature: "WEBHOOKS",
			MaxAllowedEntity: strconv.Itoa(limit), EditionType: c.org.Edition})
		c.out.errorCode = "LICENSE_ACCESS_LIMITED"
		return false
	}
	return true
}

func (e *Emulator) createWebhook(c *call) {
	b, ok := c.readJSON()
	if !ok {
		return
	}
	w := &webhook{Enabled: true}
	c.readWebhook(b, w, true)
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	if !e.checkWebhookLimits(c, w) {
		return
	}
	w.ID = c.org.newID()
	w.CreatedBy = c.agentID()
	w.Created, w.Modified = c.now, c.now
	orgID := c.org.ID
	// Validation is network I/O: it runs after the state lock is released,
	// then the webhook is stored under the lock again.
	c.out.afterUnlock(func(out *resp) {
		// Zoho's signing key exists long before a delivery: make it now,
		// not on the first delivery (RSA key generation takes a while).
		e.webhookKey()
		if !e.validateWebhookURL(c.r.Context(), w.URL) {
			invalidData(out, []fieldError{{FieldName: "/url", ErrorType: "invalid",
				ErrorMessage: "The URL did not answer 200 OK to the validation GET or POST."}})
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.st.orgs[orgID] == nil {
			notFound(out)
			return
		}
		e.wh.hooks[orgID] = append(e.wh.hooks[orgID], w)
		out.json(http.StatusOK, w.json())
	})
}

func (e *Emulator) updateWebhook(c *call) {
	cur := e.findWebhook(c.org.ID, c.vars["id"])
	if cur == nil {
		notFound(c.out)
		return
	}
	b, ok := c.readJSON()
	if !ok {
		return
	}
	cp := *cur
	c.readWebhook(b, &cp, false)
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	if !e.checkWebhookLimits(c, &cp) {
		return
	}
	cp.Modified = c.now
	if cp.URL == cur.URL {
		*cur = cp
		c.out.json(http.StatusOK, cur.json())
		return
	}
	// A changed URL is validated like a new one [C OAS-Webhook].
	c.out.afterUnlock(func(out *resp) {
		if !e.validateWebhookURL(c.r.Context(), cp.URL) {
			invalidData(out, []fieldError{{FieldName: "/url", ErrorType: "invalid"}})
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		*cur = cp
		out.json(http.StatusOK, cur.json())
	})
}

func (e *Emulator) webhookClient() *http.Client {
	if e.opts.WebhookClient != nil {
		return e.opts.WebhookClient
	}
	return http.DefaultClient
}

func (e *Emulator) ackTimeout() time.Duration {
	if e.opts.WebhookAckTimeout > 0 {
		return e.opts.WebhookAckTimeout
	}
	return 5 * time.Second
}

// validateWebhookURL sends Zoho's validation GET, then a POST when the GET
// did not answer 200; it reports whether one of them did [C OAS-Webhook].
// The validation requests carry no JWT [GAP; D RCV "unsigned GET handshake"].
func (e *Emulator) validateWebhookURL(ctx context.Context, u string) bool {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		if e.send(ctx, method, u, nil, "") == http.StatusOK {
			return true
		}
	}
	return false
}

// send makes one request with the acknowledgement timeout and returns the
// status (0 on a transport error or timeout).
func (e *Emulator) send(ctx context.Context, method, u string, body []byte, token string) int {
	status, _ := e.sendErr(ctx, method, u, body, token)
	return status
}

func (e *Emulator) sendErr(ctx context.Context, method, u string, body []byte, token string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, e.ackTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-ZDesk-JWT", token)
	}
	res, err := e.webhookClient().Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	res.Body.Close()
	return res.StatusCode, nil
}

// emitWebhookEvent queues delivery of one event to every enabled webhook of
// c's org subscribed to it. payload and prev (nil unless an update) are
// the resource's JSON views now and before the change. It runs under the
// state lock and does no I/O.
func (c *call) emitWebhookEvent(eventType string, payload, prev map[string]any) {
	e := c.e
	for _, w := range e.wh.hooks[c.org.ID] {
		filter, subscribed := w.Subscriptions[eventType]
		if !w.Enabled || !subscribed {
			continue
		}
		var f struct {
			IncludePrevState bool     `json:"includePrevState"`
			Fields           []string `json:"fields"`
			DepartmentIDs    []string `json:"departmentIds"`
			Direction        string   `json:"direction"`
		}
		_ = json.Unmarshal(filter, &f) // validated at creation; null leaves f empty
		if len(f.DepartmentIDs) > 0 {
			if d, _ := payload["departmentId"].(string); !contains(f.DepartmentIDs, d) {
				continue
			}
		}
		if f.Direction != "" {
			if d, _ := payload["direction"].(string); d != f.Direction {
				continue
			}
		}
		if len(f.Fields) > 0 && prev != nil {
			changed := false
			for _, name := range f.Fields {
				a, _ := json.Marshal(payload[name])
				b, _ := json.Marshal(prev[name])
				if !bytes.Equal(a, b) {
					changed = true
				}
			}
			if !changed {
				continue
			}
		}
		ev := map[string]any{
			"eventType": eventType, "orgId": c.org.ID,
			"eventTime": strconv.FormatInt(c.now.UnixMilli(), 10), "payload": payload,
		}
		if f.IncludePrevState && prev != nil {
			ev["prevState"] = prev
		}
		body, err := json.Marshal([]any{ev})
		if err != nil {
			continue
		}
		e.enqueueWebhook(webhookJob{orgID: c.org.ID, webhookID: w.ID, url: w.URL, eventType: eventType, body: body})
	}
}

func (e *Emulator) enqueueWebhook(j webhookJob) {
	e.wh.mu.Lock()
	defer e.wh.mu.Unlock()
	e.enqueueLocked(j)
}

func (e *Emulator) enqueueLocked(j webhookJob) {
	e.wh.queue = append(e.wh.queue, j)
	if e.wh.running == 0 {
		e.wh.idle = make(chan struct{})
	}
	if e.wh.running < max(e.opts.WebhookConcurrency, 1) {
		e.wh.running++
		go e.deliverWebhooks()
	}
}

// deliverWebhooks sends queued deliveries until the queue is empty. With
// the default WebhookConcurrency of 1 one goroutine runs, so deliveries go
// one at a time, in order (Zoho preserves order within a module when
// nothing fails [D N-D29]); with more, up to that many run at once. Under
// the Reorder fault a delivery is held back and sent right after the next
// one.
func (e *Emulator) deliverWebhooks() {
	for {
		e.wh.mu.Lock()
		if len(e.wh.queue) == 0 {
			e.wh.running--
			if e.wh.running == 0 {
				close(e.wh.idle)
			}
			e.wh.mu.Unlock()
			return
		}
		j := e.wh.queue[0]
		e.wh.queue = e.wh.queue[1:]
		if e.wh.faults.Reorder && e.wh.held == nil && !j.flush {
			e.wh.held = &j
			e.wh.mu.Unlock()
			continue
		}
		held := e.wh.held
		e.wh.held = nil
		e.wh.mu.Unlock()
		e.deliverOne(j)
		if held != nil {
			e.deliverOne(*held)
		}
	}
}

func (e *Emulator) deliverOne(j webhookJob) {
	e.wh.mu.Lock()
	f := e.wh.faults
	e.wh.sent++
	drop := f.DropEvery > 0 && e.wh.sent%f.DropEvery == 0
	if drop {
		e.wh.deliveries = append(e.wh.deliveries, WebhookDelivery{WebhookID: j.webhookID, EventType: j.eventType, URL: j.url, Dropped: true})
	}
	e.wh.mu.Unlock()
	if drop {
		return
	}
	if f.Delay > 0 {
		time.Sleep(f.Delay)
	}
	times := 1
	if f.Duplicate {
		times = 2
	}
	for range times {
		token, err := e.signWebhookJWT(j.orgID, j.webhookID)
		d := WebhookDelivery{WebhookID: j.webhookID, EventType: j.eventType, URL: j.url}
		if err == nil {
			d.Status, err = e.sendErr(context.Background(), http.MethodPost, j.url, j.body, token)
		}
		if err != nil {
			d.Err = err.Error()
		}
		e.wh.mu.Lock()
		e.wh.deliveries = append(e.wh.deliveries, d)
		e.wh.mu.Unlock()
		if d.Status == http.StatusGone {
			// The receiver is gone: Zoho deletes the webhook [C WH].
			e.mu.Lock()
			hooks := e.wh.hooks[j.orgID]
			for i, w := range hooks {
				if w.ID == j.webhookID {
					e.wh.hooks[j.orgID] = append(hooks[:i:i], hooks[i+1:]...)
					break
				}
			}
			e.mu.Unlock()
			return
		}
	}
}

// signWebhookJWT returns the X-ZDesk-JWT of a delivery: RS256 with a kid,
// iss "orgId:<org>", aud "webhookId:<id>", iat and a short exp, in seconds
// (the doc's text says ms and its example seconds [D N-D29]).
func (e *Emulator) signWebhookJWT(orgID, webhookID string) (string, error) {
	e.mu.Lock()
	now := e.now()
	e.mu.Unlock()
	key := orgID + "/" + webhookID
	e.wh.mu.Lock()
	cached, ok := e.wh.tokens[key]
	e.wh.mu.Unlock()
	if ok && cached.iat == now.Unix() {
		return cached.token, nil
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": "orgId:" + orgID, "aud": "webhookId:" + webhookID,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	})
	tok.Header["kid"] = webhookKeyID
	signed, err := tok.SignedString(e.webhookKey())
	if err != nil {
		return "", err
	}
	e.wh.mu.Lock()
	if e.wh.tokens == nil {
		e.wh.tokens = map[string]signedToken{}
	}
	e.wh.tokens[key] = signedToken{iat: now.Unix(), token: signed}
	e.wh.mu.Unlock()
	return signed, nil
}

// webhookBool reads an optional boolean field; null counts as absent.
func webhookBool(b *jsonBody, name string) (v, set bool) {
	b.seen[name] = true
	raw, ok := b.fields[name]
	if !ok || b.isNull(name) {
		return false, false
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		b.fail(name, "invalid")
		return false, false
	}
	return v, true
}

// webhooksOn reports whether c's org has any webhook, so writes skip
// building event payloads when nobody listens.
func (c *call) webhooksOn() bool { return len(c.e.wh.hooks[c.org.ID]) > 0 }

// emitContactAdd emits Contact_Add for a contact just created (nil: none).
func (c *call) emitContactAdd(ct *contact) {
	if ct != nil && c.webhooksOn() {
		c.emitWebhookEvent("Contact_Add", c.contactDetailJSON(ct), nil)
	}
}
