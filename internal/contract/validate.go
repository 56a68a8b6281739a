package contract

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/paths"
)

// Problem is one validation failure that no exception tolerates.
type Problem struct {
	Operation string // "METHOD /spec/route", or "METHOD /request/path" when no route matched
	Kind      string // "request" or "response"
	Status    int    // response status; 0 for requests
	Message   string // the validator's message and reason
	Field     string // JSON path of the failing field, when known
}

// Text is the string exception patterns are matched against.
func (p Problem) Text() string {
	return fmt.Sprintf("%s %d: %s at %s", p.Kind, p.Status, p.Message, p.Field)
}

// String is the problem as shown in a test failure.
func (p Problem) String() string { return p.Operation + ": " + p.Text() }

// Operation returns "METHOD /spec/route" of the spec operation r matches,
// and false when no route of the spec matches r's path and method.
func (s *Spec) Operation(r *http.Request) (string, bool) {
	item, errs, route := paths.FindPath(r, s.model, config.NewValidationOptions())
	if item == nil || len(errs) > 0 {
		return r.Method + " " + r.URL.Path, false
	}
	return r.Method + " " + route, true
}

// ValidateRequest validates r (path, query, headers, body) against its
// operation and returns the problems no exception tolerates. r's body is
// consumed; pass a request whose body can be read.
func (s *Spec) ValidateRequest(r *http.Request) []Problem {
	op, _ := s.Operation(r)
	_, errs := s.validator.ValidateHttpRequestSync(r)
	return s.filter(op, "request", 0, errs)
}

// ValidateResponse validates resp (status, headers, body) against the
// operation of r and returns the problems no exception tolerates.
func (s *Spec) ValidateResponse(r *http.Request, resp *http.Response) []Problem {
	op, _ := s.Operation(r)
	_, errs := s.validator.ValidateHttpResponse(r, resp)
	return s.filter(op, "response", resp.StatusCode, errs)
}

// filter turns validator errors into problems, dropping (and counting) the
// ones an exception tolerates.
func (s *Spec) filter(op, kind string, status int, errs []*verrors.ValidationError) []Problem {
	var out []Problem
	for _, e := range errs {
		var ps []Problem
		base := Problem{Operation: op, Kind: kind, Status: status, Message: strings.TrimSpace(e.Message + ": " + e.Reason)}
		if len(e.SchemaValidationErrors) == 0 {
			ps = append(ps, base)
		}
		for _, f := range e.SchemaValidationErrors {
			p := base
			p.Message = e.Message + ": " + f.Reason
			p.Field = f.FieldPath
			ps = append(ps, p)
		}
		for _, p := range ps {
			if !s.tolerated(p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// tolerated reports whether a message exception covers p, counting the hit.
func (s *Spec) tolerated(p Problem) bool {
	text := p.Text()
	for i, e := range s.exceptions {
		if e.message == nil || (e.Operation != "*" && e.Operation != p.Operation) || !e.message.MatchString(text) {
			continue
		}
		s.mu.Lock()
		s.hits[i]++
		s.mu.Unlock()
		return true
	}
	return false
}

// Mode selects what a Recorder validates.
type Mode int

// Recorder modes.
const (
	// ValidateResponses validates every response against the spec.
	ValidateResponses Mode = 1 << iota
	// ValidateRequests validates every request against the spec too; use it
	// for traffic from a client that must be correct (not for deliberately
	// malformed test requests).
	ValidateRequests
)

// Exchange counts the validated traffic of one operation.
type Exchange struct {
	Requests  int         // requests validated
	Responses map[int]int // responses validated, by status code
}

// Recorder is an http.Handler that passes every request to the wrapped
// handler and validates the exchange against a Spec. It is safe for
// concurrent use. Requests outside /api/v1/ (OAuth, admin) are passed through
// unvalidated.
type Recorder struct {
	spec *Spec
	next http.Handler
	mode Mode

	mu        sync.Mutex
	problems  []Problem
	exchanges map[string]*Exchange
}

// NewRecorder wraps next; mode is ValidateResponses, optionally or-ed with
// ValidateRequests.
func NewRecorder(spec *Spec, next http.Handler, mode Mode) *Recorder {
	return &Recorder{spec: spec, next: next, mode: mode | ValidateResponses, exchanges: map[string]*Exchange{}}
}

// ServeHTTP serves r with the wrapped handler and validates the exchange.
func (rec *Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
		rec.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "contract recorder: read request body", http.StatusBadRequest)
		return
	}
	op, known := rec.spec.Operation(r)
	var problems []Problem
	if !known {
		problems = append(problems, Problem{Operation: op, Kind: "request", Message: "no operation in Zoho's spec matches this method and path"})
	}
	if rec.mode&ValidateRequests != 0 && known {
		vr := r.Clone(r.Context())
		vr.Body = io.NopCloser(bytes.NewReader(body))
		problems = append(problems, rec.spec.ValidateRequest(vr)...)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
	rec.next.ServeHTTP(cw, r)

	if known {
		resp := &http.Response{
			StatusCode: cw.status,
			Header:     cw.Header().Clone(),
			Body:       io.NopCloser(bytes.NewReader(cw.body.Bytes())),
			Request:    r,
		}
		vr := r.Clone(r.Context())
		vr.Body = io.NopCloser(bytes.NewReader(body))
		problems = append(problems, rec.spec.ValidateResponse(vr, resp)...)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.problems = append(rec.problems, problems...)
	x := rec.exchanges[op]
	if x == nil {
		x = &Exchange{Responses: map[int]int{}}
		rec.exchanges[op] = x
	}
	if rec.mode&ValidateRequests != 0 {
		x.Requests++
	}
	x.Responses[cw.status]++
}

// Problems returns the validation failures so far.
func (rec *Recorder) Problems() []Problem {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]Problem(nil), rec.problems...)
}

// Exchanges returns a copy of the validated traffic, by operation.
func (rec *Recorder) Exchanges() map[string]Exchange {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make(map[string]Exchange, len(rec.exchanges))
	for op, x := range rec.exchanges {
		c := Exchange{Requests: x.Requests, Responses: make(map[int]int, len(x.Responses))}
		for s, n := range x.Responses {
			c.Responses[s] = n
		}
		out[op] = c
	}
	return out
}

// Operations returns the operations seen, sorted.
func (rec *Recorder) Operations() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make([]string, 0, len(rec.exchanges))
	for op := range rec.exchanges {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// captureWriter copies the response into a buffer while writing it through.
type captureWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (c *captureWriter) WriteHeader(code int) {
	if !c.wroteHeader {
		c.status, c.wroteHeader = code, true
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(p []byte) (int, error) {
	c.wroteHeader = true
	c.body.Write(p)
	return c.ResponseWriter.Write(p)
}

// Flush passes flushes through, so streaming handlers keep streaming.
func (c *captureWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
