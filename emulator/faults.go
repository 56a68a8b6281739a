package emulator

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind says how a Fault breaks a response.
type FaultKind string

// Fault kinds. Every kind honours Fault.Latency first.
const (
	// FaultLatency only delays the request (Latency).
	FaultLatency FaultKind = "latency"
	// FaultStatus answers Status (default 500) with a Zoho error body
	// (ErrorCode, default INTERNAL_SERVER_ERROR) without running the handler.
	// With Status 429, RetryAfter > 0 adds a Retry-After header.
	FaultStatus FaultKind = "status"
	// FaultResetBeforeBody hijacks and closes the connection before the
	// request is processed: no state changes, no response.
	FaultResetBeforeBody FaultKind = "reset_before"
	// FaultResetAfterBody processes the request (state changes!) and then
	// closes the connection without a response.
	FaultResetAfterBody FaultKind = "reset_after"
	// FaultSlowBody writes the real response body in small chunks, pausing
	// SlowChunkDelay (default 50ms) between chunks, or, when SlowChunkGate
	// is set, until the gate lets the next chunk go.
	FaultSlowBody FaultKind = "slow_body"
	// FaultTruncatedJSON sends only the first half of the real body
	// (no Content-Length, so the response ends cleanly but the JSON is cut).
	FaultTruncatedJSON FaultKind = "truncated_json"
	// FaultWrongContentType answers Status (default 200) with an HTML page,
	// as Zoho's edge does for some 401s and wrong-DC redirects.
	FaultWrongContentType FaultKind = "wrong_content_type"
	// FaultHTML401 answers 401 with an HTML page (<!doctype html>,
	// Content-Type text/html), not a Zoho error body, without running the
	// handler: what Zoho answers when the token belongs to another data
	// centre or organisation (n8n's Zoho Desk node handles "401 +
	// <!doctype html" so; team reference §2.4; audit row 17).
	FaultHTML401 FaultKind = "html_401"
)

// html401Page is the page FaultHTML401 answers with.
const html401Page = `<!doctype html><html><head><meta charset="utf-8"><title>Zoho Desk</title></head>` +
	`<body><h1>Unauthorized</h1><p>You are not authorized to access this portal.</p></body></html>`

// Fault is an injected failure. It applies to requests whose path starts
// with PathPrefix ("" = all, admin paths never) and, if Method is set, whose
// method matches; Times > 0 limits how many requests it breaks (then it is
// removed), Times == 0 means every matching request until cleared.
type Fault struct {
	Kind           FaultKind     `json:"kind"`
	PathPrefix     string        `json:"pathPrefix,omitempty"`
	Method         string        `json:"method,omitempty"`
	Times          int           `json:"times,omitempty"`
	Latency        time.Duration `json:"latency,omitempty"`
	Status         int           `json:"status,omitempty"`
	ErrorCode      string        `json:"errorCode,omitempty"`
	RetryAfter     int           `json:"retryAfter,omitempty"` // seconds
	SlowChunkDelay time.Duration `json:"slowChunkDelay,omitempty"`
	// SlowChunkGate, when set, paces FaultSlowBody by a signal instead of
	// the clock: each chunk after the first waits for a receive from the
	// gate (or the client going away). Tests use it so that a slow body
	// does not depend on how busy the machine is. Not settable over the
	// admin API.
	SlowChunkGate <-chan struct{} `json:"-"`
}

// SetFaults replaces the active faults.
func (e *Emulator) SetFaults(faults ...Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
	for i := range faults {
		f := faults[i]
		e.faults = append(e.faults, &f)
	}
}

// AddFault appends one fault to the active list.
func (e *Emulator) AddFault(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &f)
}

// takeFault returns a copy of the first matching fault and consumes one of
// its uses.
func (e *Emulator) takeFault(r *http.Request) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.faults {
		if !strings.HasPrefix(r.URL.Path, f.PathPrefix) || (f.Method != "" && !strings.EqualFold(f.Method, r.Method)) {
			continue
		}
		c := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				e.faults = append(e.faults[:i], e.faults[i+1:]...)
			}
		}
		return &c
	}
	return nil
}

// applyBefore runs the parts of the fault that precede the handler. It
// reports whether the handler should still run.
func (f *Fault) applyBefore(w http.ResponseWriter, r *http.Request, out *resp, desk bool) bool {
	// Desk requests sleep inside the handler slot (see serveDesk) so that
	// latency also occupies the org's concurrency limit.
	runs := f.Kind == FaultLatency || f.Kind == FaultResetAfterBody || f.Kind == FaultSlowBody || f.Kind == FaultTruncatedJSON
	if !desk || !runs {
		f.sleep(r)
	}
	switch f.Kind {
	case FaultResetBeforeBody:
		resetConn(w)
		return false
	case FaultStatus:
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		code := f.ErrorCode
		if code == "" {
			code = map[int]string{429: "TOO_MANY_REQUESTS", 401: "INVALID_OAUTH", 503: "INTERNAL_SERVER_ERROR"}[status]
			if code == "" {
				code = "INTERNAL_SERVER_ERROR"
			}
		}
		writeZohoError(out, status, code, "", nil)
		if f.RetryAfter > 0 {
			out.header.Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		writeResp(w, out)
		return false
	case FaultWrongContentType:
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		out.status = status
		out.header.Set("Content-Type", "text/html;charset=UTF-8")
		out.body = []byte("<html><head><title>Zoho Accounts</title></head><body>Sign in to continue</body></html>")
		out.errorCode = "FAULT_HTML"
		writeResp(w, out)
		return false
	case FaultHTML401:
		out.status = http.StatusUnauthorized
		out.header.Set("Content-Type", "text/html;charset=UTF-8")
		out.body = []byte(html401Page)
		out.errorCode = "FAULT_HTML_401"
		writeResp(w, out)
		return false
	}
	return true
}

// sleep waits Latency or until the client goes away.
func (f *Fault) sleep(r *http.Request) {
	if f == nil || f.Latency <= 0 {
		return
	}
	t := time.NewTimer(f.Latency)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// applyAfter writes the handler's response as the fault dictates.
func (f *Fault) applyAfter(w http.ResponseWriter, r *http.Request, out *resp) {
	switch f.Kind {
	case FaultResetAfterBody:
		out.errorCode = "FAULT_RESET"
		resetConn(w)
	case FaultTruncatedJSON:
		for k, v := range out.header {
			w.Header()[k] = v
		}
		w.WriteHeader(out.status)
		_, _ = w.Write(out.body[:len(out.body)/2])
	case FaultSlowBody:
		delay := f.SlowChunkDelay
		if delay <= 0 {
			delay = 50 * time.Millisecond
		}
		for k, v := range out.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(out.body)))
		w.WriteHeader(out.status)
		fl, _ := w.(http.Flusher)
		for b := out.body; len(b) > 0; {
			n := min(16, len(b))
			if _, err := w.Write(b[:n]); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
			b = b[n:]
			if len(b) > 0 && !f.pace(r, delay) {
				return
			}
		}
	default:
		writeResp(w, out)
	}
}

// pace waits before the next chunk of a slow body: for the gate when the
// fault has one, else delay. It reports false when the client went away.
func (f *Fault) pace(r *http.Request, delay time.Duration) bool {
	if f.SlowChunkGate != nil {
		select {
		case <-f.SlowChunkGate:
			return true
		case <-r.Context().Done():
			return false
		}
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// resetConn closes the underlying TCP connection abruptly (RST where the
// platform allows it). Without a hijackable writer it panics with
// http.ErrAbortHandler, which net/http turns into a dropped connection.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
		_ = tc.SetLinger(0) // best effort: RST instead of FIN
	}
	_ = conn.Close()
}
