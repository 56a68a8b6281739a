// Package metrics holds deskconn's Prometheus collectors: actions by name and
// outcome with their latency, Zoho Desk calls by path template, status and
// errorCode with their latency, token refreshes by result, time spent
// waiting for the per-organisation limiter, the remaining Zoho API credits
// per organisation and the connections that need re-authorisation.
//
// Each Metrics has its own prometheus.Registry (never the global default),
// so several servers in one process, and tests, never share series. Label
// values are bounded: unknown action names, malformed Zoho error codes and
// organisation ids that are not digits are reported as "other". No label or
// value ever carries a token, a secret, an input or a response body.
//
// A nil *Metrics is valid: every method is a no-op, so wiring code can pass
// one around without checks.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// Refresh results passed to ObserveRefresh.
const (
	RefreshOK          = "ok"           // a new access token was stored
	RefreshNeedsReauth = "needs_reauth" // Zoho refused the refresh token
	RefreshThrottled   = "throttled"    // Zoho's token endpoint throttled us
	RefreshBudget      = "budget"       // our own per-window budget refused the call
	RefreshError       = "error"        // timeout, 5xx or another failure
)

// other replaces a label value that is not in its bounded set.
const other = "other"

// Options configure New. The zero value works.
type Options struct {
	// Actions are the names of the registry's actions. When set, an
	// observation for any other name (a caller asking for an action that
	// does not exist) is counted under action="other", so callers cannot
	// create series at will.
	Actions []string
	// Connections, when set, is read at every scrape to export how many
	// connections are in each status, and how many need re-authorisation.
	Connections ConnectionLister
	// Logger receives a warning when Connections cannot be read at scrape
	// time (default: discard).
	Logger *slog.Logger
	// GoCollectors adds the Go runtime and process collectors.
	GoCollectors bool
}

// ConnectionLister lists connections; store.Store satisfies it. The empty
// tenant id means every tenant.
type ConnectionLister interface {
	ListConnections(ctx context.Context, tenantID string) ([]*store.Connection, error)
}

// Metrics records deskconn's metrics in its own registry. It is safe for
// concurrent use.
type Metrics struct {
	reg   *prometheus.Registry
	known map[string]bool
	// lastCredits maps organisation id to the last remaining-credits
	// reading (creditsReading), for the console's health.
	lastCredits sync.Map

	actions        *prometheus.CounterVec
	actionDuration *prometheus.HistogramVec
	zohoCalls      *prometheus.CounterVec
	zohoDuration   *prometheus.HistogramVec
	refreshes      *prometheus.CounterVec
	limiterWait    prometheus.Histogram
	limiterWaits   prometheus.Counter
	credits        *prometheus.GaugeVec
}

// latencyBuckets span a loopback call (sub-millisecond) to a slow Zoho call
// with retries (tens of seconds), in seconds.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// New returns a Metrics with every collector registered in a new registry.
func New(opts Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	if len(opts.Actions) > 0 {
		m.known = make(map[string]bool, len(opts.Actions))
		for _, n := range opts.Actions {
			m.known[n] = true
		}
	}
	m.actions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "deskconn_actions_total",
		Help: "Finished action invocations by action and outcome (ok, dry_run, or the error code).",
	}, []string{"action", "outcome"})
	m.actionDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "deskconn_action_duration_seconds",
		Help:    "Duration of action invocations, Zoho calls included.",
		Buckets: latencyBuckets,
	}, []string{"action"})
	m.zohoCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "deskconn_zoho_requests_total",
		Help: "HTTP attempts to Zoho Desk by method, path template, status (0: no response) and Zoho errorCode.",
	}, []string{"method", "path", "status", "error_code"})
	m.zohoDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "deskconn_zoho_request_duration_seconds",
		Help:    "Duration of HTTP attempts to Zoho Desk by method and path template.",
		Buckets: latencyBuckets,
	}, []string{"method", "path"})
	m.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "deskconn_token_refreshes_total",
		Help: "Access-token refreshes attempted by result (ok, needs_reauth, throttled, budget, error).",
	}, []string{"result"})
	m.limiterWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "deskconn_ratelimit_wait_seconds",
		Help:    "Time Zoho Desk calls waited for the per-organisation concurrency and rate limiter.",
		Buckets: latencyBuckets,
	})
	m.limiterWaits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "deskconn_ratelimit_waited_total",
		Help: "Zoho Desk calls that had to wait (more than 1 ms) for the per-organisation limiter.",
	})
	m.credits = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "deskconn_zoho_credits_remaining",
		Help: "Zoho Desk API credits left today per organisation, from the last X-Rate-Limit-Remaining-v3 header.",
	}, []string{"org"})
	m.reg.MustRegister(m.actions, m.actionDuration, m.zohoCalls, m.zohoDuration, m.refreshes, m.limiterWait, m.limiterWaits, m.credits)
	if opts.Connections != nil {
		log := opts.Logger
		m.reg.MustRegister(ConnectionsCollector(opts.Connections, log))
	}
	if opts.GoCollectors {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Registry returns the registry the collectors are in (for tests and for
// adding collectors).
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus text format. A nil Metrics
// answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveAction records one finished Invoke; use it as
// action.Options.Observer.
func (m *Metrics) ObserveAction(o action.Observation) {
	if m == nil {
		return
	}
	name := o.Action
	if m.known != nil && !m.known[name] {
		name = other
	}
	m.actions.WithLabelValues(name, boundedCode(o.Outcome)).Inc()
	m.actionDuration.WithLabelValues(name).Observe(o.Duration.Seconds())
}

// ObserveZoho records one HTTP attempt to Zoho Desk and the organisation's
// remaining credits; use it as zohodesk.Config.OnResponse.
func (m *Metrics) ObserveZoho(info zohodesk.ResponseInfo) {
	if m == nil {
		return
	}
	path := info.PathTemplate
	if path == "" {
		path = other
	}
	m.zohoCalls.WithLabelValues(info.Method, path, strconv.Itoa(info.StatusCode), boundedCode(info.ErrorCode)).Inc()
	m.zohoDuration.WithLabelValues(info.Method, path).Observe(info.Duration.Seconds())
	if info.RateLimit.HasRemaining && info.OrgID != "" {
		m.credits.WithLabelValues(boundedOrg(info.OrgID)).Set(float64(info.RateLimit.Remaining))
		if orgRE.MatchString(info.OrgID) {
			m.lastCredits.Store(info.OrgID, creditsReading{remaining: info.RateLimit.Remaining, at: time.Now()})
		}
	}
}

type creditsReading struct {
	remaining int
	at        time.Time
}

// CreditsRemaining returns the Zoho Desk API credits orgID had left today
// by the last X-Rate-Limit-Remaining-v3 header this process saw, and when
// it saw it; ok is false before any (or on nil Metrics).
func (m *Metrics) CreditsRemaining(orgID string) (remaining int, at time.Time, ok bool) {
	if m == nil {
		return 0, time.Time{}, false
	}
	v, ok := m.lastCredits.Load(orgID)
	if !ok {
		return 0, time.Time{}, false
	}
	r := v.(creditsReading)
	return r.remaining, r.at, true
}

// ObserveRefresh records one token refresh with its result (the Refresh*
// constants; anything else counts as RefreshError).
func (m *Metrics) ObserveRefresh(result string) {
	if m == nil {
		return
	}
	switch result {
	case RefreshOK, RefreshNeedsReauth, RefreshThrottled, RefreshBudget:
	default:
		result = RefreshError
	}
	m.refreshes.WithLabelValues(result).Inc()
}

// Limiter returns a zohodesk.Limiter that acquires from inner and records
// how long each call waited. With a nil Metrics it returns inner.
func (m *Metrics) Limiter(inner zohodesk.Limiter) zohodesk.Limiter {
	if m == nil {
		return inner
	}
	return &timedLimiter{inner: inner, m: m}
}

type timedLimiter struct {
	inner zohodesk.Limiter
	m     *Metrics
}

// Acquire implements zohodesk.Limiter.
func (l *timedLimiter) Acquire(ctx context.Context, orgID string) (func(), error) {
	start := time.Now()
	release, err := l.inner.Acquire(ctx, orgID)
	waited := time.Since(start)
	l.m.limiterWait.Observe(waited.Seconds())
	if waited > time.Millisecond {
		l.m.limiterWaits.Inc()
	}
	return release, err
}

var (
	codeRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
	orgRE  = regexp.MustCompile(`^[0-9]{1,32}$`)
)

// boundedCode keeps an error code or outcome that looks like one ("" stays
// ""), and maps anything else to "other": Zoho's errorCode comes from the
// network.
func boundedCode(s string) string {
	if s == "" || codeRE.MatchString(s) {
		return s
	}
	return other
}

func boundedOrg(s string) string {
	if orgRE.MatchString(s) {
		return s
	}
	return other
}

// ConnectionsCollector returns a collector that lists conns at every scrape
// and exports deskconn_connections{status}, deskconn_connections_needs_reauth
// and deskconn_connections_scrape_ok (0 when the store did not answer, and
// then no count). Options.Connections registers one; register it yourself
// when the store is opened after New. log may be nil.
func ConnectionsCollector(conns ConnectionLister, log *slog.Logger) prometheus.Collector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &connCollector{conns: conns, log: log}
}

// connCollector reads the connections at scrape time.
type connCollector struct {
	conns ConnectionLister
	log   *slog.Logger
}

var (
	connsDesc = prometheus.NewDesc("deskconn_connections",
		"Connections by status (pending, choose_org, active, needs_reauth).", []string{"status"}, nil)
	reauthDesc = prometheus.NewDesc("deskconn_connections_needs_reauth",
		"Connections that need re-authorisation: Zoho refused their refresh token and a person must reconnect them.", nil, nil)
	connsUpDesc = prometheus.NewDesc("deskconn_connections_scrape_ok",
		"1 if the store answered the connection count at this scrape, else 0.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *connCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connsDesc
	ch <- reauthDesc
	ch <- connsUpDesc
}

// Collect implements prometheus.Collector.
func (c *connCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := c.conns.ListConnections(ctx, "")
	if err != nil {
		c.log.Warn("metrics: list connections", "err", err)
		ch <- prometheus.MustNewConstMetric(connsUpDesc, prometheus.GaugeValue, 0)
		return
	}
	counts := map[store.ConnectionStatus]int{
		store.StatusPending: 0, store.StatusChooseOrg: 0, store.StatusActive: 0, store.StatusNeedsReauth: 0,
	}
	for _, conn := range list {
		counts[conn.Status]++
	}
	for status, n := range counts {
		ch <- prometheus.MustNewConstMetric(connsDesc, prometheus.GaugeValue, float64(n), boundedCode(string(status)))
	}
	ch <- prometheus.MustNewConstMetric(reauthDesc, prometheus.GaugeValue, float64(counts[store.StatusNeedsReauth]))
	ch <- prometheus.MustNewConstMetric(connsUpDesc, prometheus.GaugeValue, 1)
}
