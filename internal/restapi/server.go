// Package restapi is deskconn's HTTP server: the REST API (API-key
// authenticated, errors as RFC 9457 problem details), /healthz, /readyz and
// /metrics. The web console (internal/web: the connect page, login links,
// sessions and the OAuth callback) mounts its pages on it with Handle.
//
// Other packages add authenticated routes with Server.Mount and read the
// caller's tenant and API key from the request context with TenantID and
// APIKeyID.
package restapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/metrics"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/usage"
	"github.com/deskconn/deskconn/zohodesk"
)

// DefaultMaxBodyBytes caps request bodies of the connection endpoints and
// the web forms.
const DefaultMaxBodyBytes = 64 << 10

// Options configure a Server. Manager, APIKeys and BaseURL are required.
type Options struct {
	Manager *connection.Manager
	APIKeys *apikey.Service
	// BaseURL is the public base URL (scheme, host, port); it decides the
	// OAuth callback and whether cookies are Secure.
	BaseURL string
	Logger  *slog.Logger
	Now     func() time.Time
	// MaxBodyBytes caps bodies of this package's endpoints; default 64 KiB.
	MaxBodyBytes int64
	// ConnectPerMinute is how many OAuth flows a tenant may start per
	// minute (REST and the connect page together); default
	// DefaultConnectPerMinute. More answer rate_limited (429, Retry-After).
	ConnectPerMinute int
	// Metrics, when set, is served at GET /metrics (Prometheus text
	// format, no API key, like /healthz) and returned by Server.Metrics for
	// the code that mounts actions and MCP.
	Metrics *metrics.Metrics
	// Limits bound what clients can make the server hold: a read timeout
	// for bodies, a budget of body bytes in flight, and per-API-key
	// concurrency and rate limits (see Limits for the defaults).
	Limits Limits
	// Usage counts every action call per connection for the health
	// report (Server.Health); nil makes one on the Manager's store. Serve
	// flushes it every minute and on shutdown.
	Usage *usage.Counter
}

// Server is the HTTP server. Build it with New, add routes with Mount
// before serving, then use it as an http.Handler or call Serve.
type Server struct {
	opts     Options
	log      *slog.Logger
	mux      *http.ServeMux
	store    store.Store
	secure   bool
	connects *connectLimiter
	adm      *admission
	tokens   BearerTokens // SetBearerTokens (tokens.go)
	health   *usage.Reporter

	background []func(ctx context.Context) // RunInBackground (events.go)
	actions    []*action.Action            // the catalogue MountActions mounted
}

// New returns a Server with its routes registered.
func New(opts Options) (*Server, error) {
	if opts.Manager == nil || opts.APIKeys == nil {
		return nil, errors.New("new server: Manager and APIKeys are required")
	}
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("new server: BaseURL %q is not an absolute http(s) URL", opts.BaseURL)
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.ConnectPerMinute <= 0 {
		opts.ConnectPerMinute = DefaultConnectPerMinute
	}
	opts.Limits = opts.Limits.withDefaults()
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		mux:      http.NewServeMux(),
		store:    opts.Manager.Store(),
		secure:   u.Scheme == "https",
		connects: newConnectLimiter(opts.ConnectPerMinute),
		adm:      newAdmission(opts.Limits, opts.Now),
	}
	if opts.Usage == nil {
		opts.Usage = usage.NewCounter(s.store, opts.Now, opts.Logger)
		s.opts.Usage = opts.Usage
	}
	s.health = NewHealthReporter(opts.Manager, opts.Usage, opts.Metrics, opts.Now)
	s.RunInBackground(func(ctx context.Context) { opts.Usage.Run(ctx, nil) })
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
	if opts.Metrics != nil {
		s.mux.Handle("GET /metrics", opts.Metrics.Handler())
	}
	s.Mount("POST /v1/connections", http.HandlerFunc(s.apiCreate))
	s.Mount("GET /v1/connections", http.HandlerFunc(s.apiList))
	s.Mount("GET /v1/connections/{connection}", http.HandlerFunc(s.apiGet))
	s.Mount("DELETE /v1/connections/{connection}", http.HandlerFunc(s.apiDelete))
	s.Mount("POST /v1/connections/{connection}/connect", http.HandlerFunc(s.apiConnect))
	s.Mount("POST /v1/connections/{connection}/org", http.HandlerFunc(s.apiChooseOrg))
	s.Mount(RouteAudit, http.HandlerFunc(s.apiAudit))
	s.mux.HandleFunc("/v1/", s.noRoute)
	return s, nil
}

// routeMethods are the methods noRoute probes for an Allow header.
var routeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// noRoute answers what no /v1/ route matched: 405 with Allow when the path
// is served for other methods (e.g. GET on an action, which is POST only),
// else 404. The catch-all would otherwise hide the mux's own 405.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range routeMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/v1/" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		WriteError(w, r, deskconn.Errorf(deskconn.CodeNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	status := http.StatusMethodNotAllowed
	p := Problem{
		Type:      "https://deskconn.dev/problems/method_not_allowed",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    fmt.Sprintf("%s is not served at %s: use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")),
		Code:      deskconn.CodeInvalid,
		RequestID: RequestID(r.Context()),
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// BaseURL returns the server's public base URL, without a trailing slash.
func (s *Server) BaseURL() string { return s.opts.BaseURL }

// Metrics returns Options.Metrics, possibly nil (a nil *metrics.Metrics
// records nothing).
func (s *Server) Metrics() *metrics.Metrics { return s.opts.Metrics }

// ObserveAction records one finished action call in the metrics and the
// per-connection call counts. Code that builds the action registry for
// this server sets action.Options.Observer to it.
func (s *Server) ObserveAction(o action.Observation) {
	s.opts.Metrics.ObserveAction(o)
	s.opts.Usage.Observe(o)
}

// Health reports a connection's health (see usage.Reporter.Health).
func (s *Server) Health(ctx context.Context, c *store.Connection) usage.Health {
	return s.health.Health(ctx, c)
}

// NewHealthReporter returns the health reporter of connections managed by
// m: calls counted by counter, remaining credits as met last saw them
// (nil: unknown), the organisation's edition and agents fetched with the
// connection's own client at most once an hour per organisation.
func NewHealthReporter(m *connection.Manager, counter *usage.Counter, met *metrics.Metrics, now func() time.Time) *usage.Reporter {
	client := func(ctx context.Context, tenantID, connID string) (*zohodesk.Client, error) {
		cl, _, err := m.Client(ctx, tenantID, connID)
		return cl, err
	}
	return &usage.Reporter{Counter: counter, Orgs: usage.NewOrgCache(usage.FetchFromDesk(client), now), Credits: met.CreditsRemaining, Now: now}
}

// Mount registers h for pattern (a net/http ServeMux pattern such as
// "POST /v1/connections/{connection}/actions/{action}") behind the API-key
// middleware: h runs only for a valid "Authorization: Bearer <key>", and
// finds the caller with TenantID and APIKeyID. A bad or missing key gets a
// 401 problem; a key over its rate or concurrency limit a 429, and a
// request whose body does not fit the budget of bodies in flight a 503
// (Options.Limits), both with Retry-After. Call Mount before the server
// starts serving.
func (s *Server) Mount(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.authenticate(h))
}

// Handler returns the server's root handler: request ids, access logs,
// panic recovery and security headers around every route.
func (s *Server) Handler() http.Handler { return s.middleware(s.mux) }

// ServeHTTP implements http.Handler (same as Handler()).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.Handler().ServeHTTP(w, r) }

// Serve serves on ln until ctx ends, then shuts down gracefully, giving
// in-flight requests up to 10 seconds. It returns nil after a clean
// shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	bctx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	for _, fn := range s.background {
		bg.Go(func() { fn(bctx) })
	}
	defer bg.Wait()
	defer stopBackground()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

type ctxKey int

const (
	keyTenant ctxKey = iota
	keyAPIKey
	keyRequestID
	keyAccessLog
	keyScope
)

// accessLogAuth lets the API-key middleware, which runs inside the access
// log's middleware, tell it who the caller was: request contexts only flow
// inward.
type accessLogAuth struct{ tenantID, apiKeyID string }

// TenantID returns the authenticated tenant of a request that passed the
// API-key middleware (Mount), or "" elsewhere.
func TenantID(ctx context.Context) string { v, _ := ctx.Value(keyTenant).(string); return v }

// APIKeyID returns the id of the API key that authenticated the request,
// or "" elsewhere.
func APIKeyID(ctx context.Context) string { v, _ := ctx.Value(keyAPIKey).(string); return v }

// RequestID returns the request's id (also sent as X-Request-Id).
func RequestID(ctx context.Context) string { v, _ := ctx.Value(keyRequestID).(string); return v }

// WithAuth returns ctx carrying a tenant and API key id, as the middleware
// sets them (for handlers tested without the server).
func WithAuth(ctx context.Context, tenantID, apiKeyID string) context.Context {
	return context.WithValue(context.WithValue(ctx, keyTenant, tenantID), keyAPIKey, apiKeyID)
}

func (s *Server) authenticate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, key, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
			w.Header().Set("WWW-Authenticate", s.challenge(r, false))
			WriteError(w, r, deskconn.Errorf(deskconn.CodeUnauthenticated, "send an API key as \"Authorization: Bearer dk_...\" (create one with `deskconn apikeys create`)"))
			return
		}
		key = strings.TrimSpace(key)
		tenantID, keyID, scope, err := s.credential(r, key)
		if err != nil {
			if deskconn.ErrorCode(err) == deskconn.CodeUnauthenticated {
				w.Header().Set("WWW-Authenticate", s.challenge(r, true))
			}
			WriteError(w, r, err)
			return
		}
		if note, ok := r.Context().Value(keyAccessLog).(*accessLogAuth); ok {
			note.tenantID, note.apiKeyID = tenantID, keyID
		}
		release, err := s.adm.admit(r, keyID)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		defer release()
		h.ServeHTTP(w, r.WithContext(WithScope(WithAuth(r.Context(), tenantID, keyID), scope)))
	})
}

// credential resolves a bearer credential: an API key, or a token of
// SetBearerTokens.
func (s *Server) credential(r *http.Request, key string) (tenantID, keyID string, scope action.KeyScope, err error) {
	if s.tokens != nil && s.tokens.Owns(key) {
		id, err := s.tokens.AuthenticateToken(r.Context(), key, r)
		if err != nil {
			return "", "", scope, err
		}
		return id.TenantID, id.CredentialID, id.Scope, nil
	}
	k, err := s.opts.APIKeys.AuthenticateKey(r.Context(), key)
	if err != nil {
		return "", "", scope, err
	}
	scope, err = s.scopeOf(r.Context(), k)
	return k.TenantID, k.ID, scope, err
}

// statusWriter records the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers (MCP) flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.opts.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		note := &accessLogAuth{}
		r = r.WithContext(context.WithValue(context.WithValue(r.Context(), keyRequestID, id), keyAccessLog, note))
		sw := &statusWriter{ResponseWriter: w}
		if idle := s.opts.Limits.BodyReadTimeout; idle > 0 && r.Body != nil && r.Body != http.NoBody {
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(sw), idle: idle}
		}
		h := sw.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "request_id", id, "method", r.Method, "route", r.Pattern, "panic", fmt.Sprint(p))
				if sw.status == 0 {
					WriteError(sw, r, deskconn.Errorf(deskconn.CodeInternal, "internal error"))
				}
			}
			// The path only, never the query: the callback's carries a code.
			s.log.Info("request", "request_id", id, "method", r.Method, "route", r.Pattern, "path", r.URL.Path,
				"status", sw.status, "bytes", sw.bytes, "duration_ms", s.opts.Now().Sub(start).Milliseconds(),
				"tenant", note.tenantID, "api_key", note.apiKeyID)
		}()
		next.ServeHTTP(sw, r)
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// Problem is an RFC 9457 problem details object with deskconn's extensions.
type Problem struct {
	Type       string                `json:"type"`
	Title      string                `json:"title"`
	Status     int                   `json:"status"`
	Detail     string                `json:"detail"`
	Code       deskconn.Code         `json:"code"`
	Errors     []deskconn.FieldError `json:"errors,omitempty"`
	Candidates []deskconn.Candidate  `json:"candidates,omitempty"`
	Upstream   *deskconn.Upstream    `json:"upstream,omitempty"`
	RetryAfter int                   `json:"retryAfter,omitempty"` // seconds
	RequestID  string                `json:"requestId,omitempty"`
}

// StatusOf maps a domain error code to its HTTP status.
func StatusOf(code deskconn.Code) int {
	switch code {
	case deskconn.CodeInvalid:
		return http.StatusBadRequest
	case deskconn.CodeAmbiguous, deskconn.CodeConflict:
		return http.StatusConflict
	case deskconn.CodeOutcomeUnknown:
		// Not 503: retrying does not help, a person must check Zoho Desk.
		return http.StatusConflict
	case deskconn.CodeNotFound:
		return http.StatusNotFound
	case deskconn.CodeUnauthenticated:
		return http.StatusUnauthorized
	case deskconn.CodeNeedsReauth:
		// The caller is fine; the connection is not: 424 Failed Dependency.
		return http.StatusFailedDependency
	case deskconn.CodeForbidden:
		return http.StatusForbidden
	case deskconn.CodeRateLimited:
		return http.StatusTooManyRequests
	case deskconn.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// WriteError renders err once, as application/problem+json with the status
// of its code (StatusOf) and a Retry-After header when the error says when
// to retry (rate_limited; conflict while an idempotency key settles). A
// non-domain error becomes a generic internal error and is logged by the
// caller's access log only as "internal": its text is never sent.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	de := deskconn.AsError(err)
	status := StatusOf(de.Code)
	p := Problem{
		Type:       "https://deskconn.dev/problems/" + string(de.Code),
		Title:      http.StatusText(status),
		Status:     status,
		Detail:     de.Message,
		Code:       de.Code,
		Errors:     de.Fields,
		Candidates: de.Candidates,
		Upstream:   de.Upstream,
		RequestID:  RequestID(r.Context()),
	}
	if de.RetryAfter > 0 {
		secs := int((de.RetryAfter + time.Second - 1) / time.Second)
		p.RetryAfter = secs
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// DecodeJSON reads one JSON object of at most max bytes from r's body into
// v, refusing unknown fields, trailing data and other content types. Its
// errors are invalid *deskconn.Errors that say what is wrong.
func DecodeJSON(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return deskconn.Errorf(deskconn.CodeInvalid, "send the body as application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return deskconn.Errorf(deskconn.CodeInvalid, "the body is larger than %d bytes", max)
		case errors.Is(err, io.EOF):
			return deskconn.Errorf(deskconn.CodeInvalid, "the body is empty: send a JSON object")
		case errors.As(err, &se):
			return deskconn.Errorf(deskconn.CodeInvalid, "the body is not valid JSON (at byte %d)", se.Offset)
		case errors.As(err, &te):
			ptr := "/" + strings.ReplaceAll(te.Field, ".", "/")
			return deskconn.Invalid("a field has the wrong type", deskconn.FieldError{Pointer: ptr, Code: "invalid", Message: "expected " + te.Type.String()})
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return deskconn.Invalid("the body has an unknown field", deskconn.FieldError{Pointer: "/" + name, Code: "unknown", Message: "remove this field"})
		default:
			return deskconn.Errorf(deskconn.CodeInvalid, "the body is not a valid JSON object")
		}
	}
	if dec.More() {
		return deskconn.Errorf(deskconn.CodeInvalid, "the body has data after the JSON object")
	}
	return nil
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz pings the store and reports how many connections need re-auth.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Error("readyz: store ping failed", "err", err)
		WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "store": "unreachable"})
		return
	}
	conns, err := s.store.ListConnections(ctx, "")
	if err != nil {
		s.log.Error("readyz: list connections", "err", err)
		WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "store": "error"})
		return
	}
	counts := map[store.ConnectionStatus]int{}
	for _, c := range conns {
		counts[c.Status]++
	}
	WriteJSON(w, http.StatusOK, map[string]any{
		"status":      "ready",
		"store":       "ok",
		"connections": len(conns),
		"needsReauth": counts[store.StatusNeedsReauth],
		"chooseOrg":   counts[store.StatusChooseOrg],
		"pending":     counts[store.StatusPending],
	})
}
