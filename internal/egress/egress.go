// Package egress fetches user-supplied URLs (attachment fileData) without
// letting them reach the machine's own network: the server-side request
// forgery guard of DESIGN §7.
//
// A Fetcher accepts only http and https URLs without credentials. It resolves
// each host once with its Resolver, refuses the whole host when ANY resolved
// address is loopback, private, link-local (cloud metadata included), CGNAT,
// IPv6 unique-local, multicast, reserved, or an IPv6 form embedding such an
// IPv4 address, and then dials exactly the address it checked, so DNS cannot
// change the answer between the check and the connection (rebinding). The
// default dialer checks again, at the socket, that the address it connects to
// is the one that was approved. Redirects are followed at most MaxRedirects
// times and each hop is checked the same way. The environment's proxy
// settings are ignored. Bodies are capped at MaxBytes and the whole fetch,
// body included, runs under one deadline.
//
// Hosts that look like numbers in some base ("127.1", "0x7f.1",
// "2130706433", "0177.0.0.1") are refused outright, as is "localhost", so no
// resolver ever interprets them.
package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults used when a Config field is zero.
const (
	// DefaultMaxBytes is Zoho Desk's attachment limit as far as it is known:
	// [GAP] the Desk docs give no number; 20 MB is the common Zoho product
	// limit (reference/zoho-desk-api.md §3.10), so it is the default cap.
	DefaultMaxBytes int64 = 20 << 20
	// DefaultTimeout bounds a whole fetch: resolution, connect, TLS,
	// headers, redirects and reading the body.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxRedirects is how many redirects a fetch follows.
	DefaultMaxRedirects = 3
	// DefaultUserAgent is sent when Config.UserAgent is empty.
	DefaultUserAgent = "deskconn-fetch/1"
)

// Errors a fetch can fail with. Each is wrapped with context naming the host;
// test with errors.Is.
var (
	// ErrForbiddenAddress: the host (or a redirect's host) is or resolves to
	// an address a user-supplied URL may not reach. See *AddressError.
	ErrForbiddenAddress = errors.New("forbidden address")
	// ErrTooLarge: the body is larger than the cap, by Content-Length before
	// any of it is read, or while it is read.
	ErrTooLarge = errors.New("response body too large")
	// ErrTooManyRedirects: more redirects than Config.MaxRedirects.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrScheme: the URL (or a redirect) is not http or https.
	ErrScheme = errors.New("URL scheme must be http or https")
	// ErrInvalidURL: the URL cannot be parsed, has no host, has a bad port or
	// carries credentials (user:password@).
	ErrInvalidURL = errors.New("invalid URL")
	// ErrStatus: the server answered with a status other than 2xx. See
	// *StatusError.
	ErrStatus = errors.New("unexpected HTTP status")
	// ErrUnreachable: the host name did not resolve, or no resolved
	// address accepted the connection. The wrapped cause (a resolver or
	// dial error) names the resolver and the network's answer: log it,
	// never show it to whoever supplied the URL.
	ErrUnreachable = errors.New("host not reachable")
	// ErrTimeout: the fetch's deadline (Config.Timeout) passed. It also
	// matches context.DeadlineExceeded.
	ErrTimeout = fmt.Errorf("fetch deadline exceeded: %w", context.DeadlineExceeded)
)

// AddressError is a refused destination. Its message names the host as the
// user wrote it and the kind of address, never the resolved IP addresses of
// a name (which would map the internal network for the caller).
type AddressError struct {
	Host   string // the host as it appears in the URL
	Reason string // e.g. "private", "loopback", "link-local or cloud metadata"
}

// Error says which host was refused and what kind of address it is.
func (e *AddressError) Error() string {
	return fmt.Sprintf("host %q is refused: it is or resolves to a %s address", e.Host, e.Reason)
}

// Unwrap makes errors.Is(err, ErrForbiddenAddress) true.
func (e *AddressError) Unwrap() error { return ErrForbiddenAddress }

// StatusError is a non-2xx answer from the server.
type StatusError struct {
	Host       string
	StatusCode int
}

// Error names the host and the status.
func (e *StatusError) Error() string {
	return fmt.Sprintf("host %q answered HTTP %d %s", e.Host, e.StatusCode, http.StatusText(e.StatusCode))
}

// Unwrap makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Unwrap() error { return ErrStatus }

// Resolver resolves host names; *net.Resolver implements it. network is
// "ip" for both address families.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DialContextFunc connects to address, which is always a literal checked
// "ip:port" (never a host name). (*net.Dialer).DialContext has this type.
type DialContextFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Config configures a Fetcher. The zero value is a safe production fetcher.
type Config struct {
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Dialer connects to checked addresses; nil means a net.Dialer whose
	// Control hook refuses any address that was not approved for the dial.
	Dialer DialContextFunc
	// MaxBytes caps the body; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Timeout is the deadline of the whole fetch, body included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed: 0 means
	// DefaultMaxRedirects, a negative value means none.
	MaxRedirects int
	// UnsafeAllowLoopback lets URLs reach these loopback destinations, for
	// tests and the demo only. Each entry is "host" or "host:port" where host
	// is the URL's host name ("localhost") or a loopback IP ("127.0.0.1",
	// "::1"); without a port every port matches. It unlocks loopback
	// addresses only: private, link-local and the rest stay refused.
	UnsafeAllowLoopback []string
	// UserAgent is sent with every request; "" means DefaultUserAgent.
	UserAgent string
	// Logger receives a warning from New when UnsafeAllowLoopback is set,
	// and every failed fetch with its detailed cause (Open's errors are
	// meant for logs too; callers show users less); nil means no logging.
	Logger *slog.Logger
	// TLSClientConfig is used for https (tests set RootCAs to trust an
	// httptest server); nil means Go's defaults.
	TLSClientConfig *tls.Config
	// KeepAlive keeps connections open between requests to the same
	// scheme, host and port, for a fetcher that calls the same hosts again
	// and again (webhook deliveries: without it each delivery is a new TCP
	// connection and TLS handshake). A kept connection goes to the address
	// checked when it was dialled, whatever the host name resolves to
	// later; a new connection is checked as ever. Default off: a fetch of
	// a user's URL is a one-off.
	KeepAlive bool
}

// keptPerHost is how many idle connections a KeepAlive fetcher keeps per
// host: more than the event worker's deliveries in flight to one
// subscriber.
const keptPerHost = 16

// Fetcher fetches user-supplied URLs safely. It is safe for concurrent use.
type Fetcher struct {
	resolver     Resolver
	dial         DialContextFunc
	maxBytes     int64
	timeout      time.Duration
	maxRedirects int
	allow        []allowEntry
	userAgent    string
	client       *http.Client
	log          *slog.Logger
}

type allowEntry struct {
	host string // lower case, no brackets, no trailing dot
	port string // "" matches every port
}

// New returns a Fetcher for cfg. It logs a warning through cfg.Logger when
// cfg.UnsafeAllowLoopback is not empty.
func New(cfg Config) *Fetcher {
	f := &Fetcher{
		resolver:     cfg.Resolver,
		dial:         cfg.Dialer,
		maxBytes:     cfg.MaxBytes,
		timeout:      cfg.Timeout,
		maxRedirects: cfg.MaxRedirects,
		userAgent:    cfg.UserAgent,
		log:          cfg.Logger,
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.resolver == nil {
		f.resolver = net.DefaultResolver
	}
	if f.dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second, ControlContext: controlApproved}
		f.dial = d.DialContext
	}
	if f.maxBytes <= 0 {
		f.maxBytes = DefaultMaxBytes
	}
	f.maxBytes = min(f.maxBytes, math.MaxInt64-1)
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	switch {
	case f.maxRedirects == 0:
		f.maxRedirects = DefaultMaxRedirects
	case f.maxRedirects < 0:
		f.maxRedirects = 0
	}
	if f.userAgent == "" {
		f.userAgent = DefaultUserAgent
	}
	for _, e := range cfg.UnsafeAllowLoopback {
		e = strings.ToLower(strings.TrimSpace(e))
		host, port, err := net.SplitHostPort(e)
		if err != nil {
			host, port = strings.Trim(e, "[]"), ""
		}
		f.allow = append(f.allow, allowEntry{host: strings.TrimSuffix(host, "."), port: port})
	}
	if len(f.allow) > 0 && cfg.Logger != nil {
		cfg.Logger.Warn("egress: UnsafeAllowLoopback is set: user-supplied URLs can reach these loopback destinations; never use this in production",
			"unsafeAllowLoopback", cfg.UnsafeAllowLoopback)
	}
	var tlsCfg *tls.Config
	if cfg.TLSClientConfig != nil {
		tlsCfg = cfg.TLSClientConfig.Clone()
	}
	f.client = &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil, // never HTTP(S)_PROXY: the proxy's address would be checked, not the target's
			DialContext:            f.dialContext,
			TLSClientConfig:        tlsCfg,
			TLSHandshakeTimeout:    15 * time.Second,
			DisableKeepAlives:      !cfg.KeepAlive, // by default each fetch is a one-off to a user's host
			MaxIdleConnsPerHost:    keptPerHost,
			IdleConnTimeout:        90 * time.Second,
			DisableCompression:     true, // bytes as served, and Content-Length stays exact
			MaxResponseHeaderBytes: 64 << 10,
			ForceAttemptHTTP2:      true,
		},
		CheckRedirect: f.checkRedirect,
	}
	return f
}

// MaxBytes returns the body cap in force.
func (f *Fetcher) MaxBytes() int64 { return f.maxBytes }

// Response is a successful (2xx) fetch whose body has not been read yet.
type Response struct {
	// Body streams the content. Reading past the cap fails with an error
	// matching ErrTooLarge; reading past the deadline with ErrTimeout. The
	// caller must Close it, which also releases the fetch's deadline.
	Body io.ReadCloser
	// ContentLength is the announced size, or -1 when unknown.
	ContentLength int64
	// ContentType is the Content-Type header as served ("" when absent).
	ContentType string
	// FileName comes from Content-Disposition's filename, else the last
	// segment of the final URL's path; "" when neither gives one. It never
	// contains a path separator or control character.
	FileName string
	// FinalURL is the URL after redirects. It may carry a signed query
	// string: do not log it.
	FinalURL string
}

// CheckURL reports whether rawURL is acceptable before any network access:
// http or https, no credentials, a valid port, and a host that is not a
// refused literal address, a numeric spelling of one, or "localhost". Host
// names that need resolving are checked again, address by address, by Open.
func (f *Fetcher) CheckURL(rawURL string) error {
	_, err := f.parse(rawURL)
	return err
}

// Open fetches rawURL with GET and returns the response once its headers
// have arrived. Errors match ErrForbiddenAddress, ErrUnreachable,
// ErrTooLarge, ErrTooManyRedirects, ErrScheme, ErrInvalidURL, ErrStatus or
// ErrTimeout, or are other network errors wrapped with the host; none
// contains the URL's path or query (which may carry a signature). Every
// failure is logged with its cause, at warning level for a refused address.
// The messages are detailed (a resolver's address, refused versus unknown
// host): show users a uniform text for ErrForbiddenAddress, ErrUnreachable
// and other network errors.
func (f *Fetcher) Open(ctx context.Context, rawURL string) (*Response, error) {
	resp, host, err := f.open(ctx, rawURL)
	if err != nil {
		level := slog.LevelInfo
		if errors.Is(err, ErrForbiddenAddress) {
			level = slog.LevelWarn
		}
		f.log.LogAttrs(ctx, level, "egress: fetch failed", slog.String("host", host), slog.String("err", err.Error()))
	}
	return resp, err
}

// open is Open without the logging; it also returns the URL's host ("" when
// the URL does not parse).
func (f *Fetcher) open(ctx context.Context, rawURL string) (*Response, string, error) {
	u, err := f.parse(rawURL)
	if err != nil {
		return nil, "", err
	}
	host := u.Hostname()
	resp, err := f.do(ctx, u)
	return resp, host, err
}

// do fetches the checked URL u.
func (f *Fetcher) do(ctx context.Context, u *url.URL) (*Response, error) {
	host := u.Hostname()
	ctx, cancel := context.WithTimeoutCause(ctx, f.timeout, ErrTimeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: build request for host %q", ErrInvalidURL, host)
	}
	req.Header.Set("User-Agent", f.userAgent)
	req.Header.Set("Accept", "*/*")
	resp, err := f.client.Do(req)
	if err != nil {
		cancel()
		return nil, fetchError(ctx, host, err)
	}
	final := resp.Request.URL
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		cancel()
		return nil, &StatusError{Host: final.Hostname(), StatusCode: resp.StatusCode}
	}
	if resp.ContentLength > f.maxBytes {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("fetch from host %q: %w: %d bytes announced, the limit is %d",
			final.Hostname(), ErrTooLarge, resp.ContentLength, f.maxBytes)
	}
	return &Response{
		Body: &cappedBody{
			rc: resp.Body, remaining: f.maxBytes, max: f.maxBytes,
			ctx: ctx, cancel: cancel, host: final.Hostname(),
		},
		ContentLength: resp.ContentLength,
		ContentType:   resp.Header.Get("Content-Type"),
		FileName:      fileName(resp.Header.Get("Content-Disposition"), final),
		FinalURL:      final.String(),
	}, nil
}

// fetchError turns a client error into one that names the host but not the
// URL (url.Error's message would include the whole URL).
func fetchError(ctx context.Context, host string, err error) error {
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrTimeout) {
		return fmt.Errorf("fetch from host %q: %w", host, ErrTimeout)
	}
	var ae *AddressError
	if errors.As(err, &ae) {
		return ae
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("fetch from host %q: %w", host, err)
}

// parse parses rawURL and applies checkURL.
func (f *Fetcher) parse(rawURL string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	if err := f.checkURL(u); err != nil {
		return nil, err
	}
	return u, nil
}

// checkURL checks what can be checked without the network.
func (f *Fetcher) checkURL(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return fmt.Errorf("%w, not %q", ErrScheme, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: credentials (user:password@) are not allowed in the URL", ErrInvalidURL)
	}
	if u.Opaque != "" {
		return fmt.Errorf("%w: %s: must be followed by //host", ErrInvalidURL, u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: no host", ErrInvalidURL)
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if strings.EqualFold(u.Scheme, "https") {
			port = "443"
		}
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%w: port %q is out of range", ErrInvalidURL, port)
	}
	_, _, err := f.checkHost(host, port)
	return err
}

// checkHost applies every rule that needs no resolution. It returns the
// addresses of a literal IP host, or the normalised name to resolve.
func (f *Fetcher) checkHost(host, port string) (literal []netip.Addr, name string, err error) {
	name = strings.TrimSuffix(strings.ToLower(host), ".")
	if name == "" {
		return nil, "", &AddressError{Host: host, Reason: "empty"}
	}
	if ip, perr := netip.ParseAddr(name); perr == nil {
		if reason := f.refusal(name, ip, port); reason != "" {
			return nil, "", &AddressError{Host: host, Reason: reason}
		}
		return []netip.Addr{ip.Unmap()}, "", nil
	}
	if endsInNumber(name) {
		return nil, "", &AddressError{Host: host, Reason: "non-canonical IP (numeric host name)"}
	}
	if isLocalhostName(name) && !f.allowedName(name, port) {
		return nil, "", &AddressError{Host: host, Reason: reasonLoopback}
	}
	return nil, name, nil
}

// resolve returns the checked addresses of host: all of them pass, or the
// host is refused.
func (f *Fetcher) resolve(ctx context.Context, host, port string) ([]netip.Addr, error) {
	literal, name, err := f.checkHost(host, port)
	if err != nil || literal != nil {
		return literal, err
	}
	addrs, err := f.resolver.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil, fmt.Errorf("resolve host %q: %w: %w", host, ErrUnreachable, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve host %q: %w: no addresses", host, ErrUnreachable)
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if reason := f.refusal(name, a, port); reason != "" {
			return nil, &AddressError{Host: host, Reason: reason}
		}
		out = append(out, a.Unmap())
	}
	return out, nil
}

// refusal returns why ip may not be dialled, or "" when it is public, or
// loopback and allow-listed for name (the normalised URL host) and port.
func (f *Fetcher) refusal(name string, ip netip.Addr, port string) string {
	reason := classify(ip)
	if reason != "" && isLoopback(ip) && f.allowedAddr(name, ip, port) {
		return ""
	}
	return reason
}

func (f *Fetcher) allowedName(name, port string) bool {
	for _, e := range f.allow {
		if (e.port == "" || e.port == port) && e.host == name {
			return true
		}
	}
	return false
}

func (f *Fetcher) allowedAddr(name string, ip netip.Addr, port string) bool {
	if f.allowedName(name, port) {
		return true
	}
	for _, e := range f.allow {
		if e.port != "" && e.port != port {
			continue
		}
		if eip, err := netip.ParseAddr(e.host); err == nil && eip.Unmap() == ip.Unmap() {
			return true
		}
	}
	return false
}

// dialContext is the transport's only way out: it resolves once, checks
// every address, and dials only checked literal addresses.
func (f *Fetcher) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w: %v", ErrInvalidURL, err)
	}
	addrs, err := f.resolve(ctx, host, port)
	if err != nil {
		return nil, err
	}
	var first error
	for _, a := range addrs {
		target := net.JoinHostPort(a.String(), port)
		conn, err := f.dial(context.WithValue(ctx, approvedKey{}, target), network, target)
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("connect to host %q: %w", host, first)
	}
	return nil, fmt.Errorf("connect to host %q: %w: %w", host, ErrUnreachable, first)
}

// approvedKey carries the one "ip:port" a dial may connect to.
type approvedKey struct{}

// controlApproved is the default dialer's Control hook: the socket may
// connect only to the address dialContext approved for this dial.
func controlApproved(ctx context.Context, network, address string, _ syscall.RawConn) error {
	if approved, _ := ctx.Value(approvedKey{}).(string); approved != "" && approved == address {
		return nil
	}
	return fmt.Errorf("dial %s %s: %w: the address was not checked before dialling", network, address, ErrForbiddenAddress)
}

// checkRedirect caps the hops and checks each target like the first URL
// (its addresses are checked again when it is dialled).
func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.maxRedirects {
		return fmt.Errorf("%w: the limit is %d", ErrTooManyRedirects, f.maxRedirects)
	}
	return f.checkURL(req.URL)
}

// cappedBody enforces the byte cap and maps the deadline to ErrTimeout.
type cappedBody struct {
	rc        io.ReadCloser
	remaining int64
	max       int64
	ctx       context.Context
	cancel    context.CancelFunc
	host      string
	err       error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.remaining+1 {
		p = p[:b.remaining+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.remaining {
		n = int(b.remaining)
		b.remaining = 0
		b.err = fmt.Errorf("read body from host %q: %w: the limit is %d bytes", b.host, ErrTooLarge, b.max)
		return n, b.err
	}
	b.remaining -= int64(n)
	if err != nil && err != io.EOF {
		if b.ctx.Err() != nil && errors.Is(context.Cause(b.ctx), ErrTimeout) {
			err = ErrTimeout
		}
		b.err = fmt.Errorf("read body from host %q: %w", b.host, err)
		return n, b.err
	}
	return n, err
}

func (b *cappedBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}

// fileName picks a safe file name from Content-Disposition or the URL path.
func fileName(contentDisposition string, u *url.URL) string {
	if contentDisposition != "" {
		if _, params, err := mime.ParseMediaType(contentDisposition); err == nil {
			if n := cleanName(params["filename"]); n != "" {
				return n
			}
		}
	}
	return cleanName(u.Path)
}

// cleanName keeps the last path element of n without control characters.
func cleanName(n string) string {
	n = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ReplaceAll(n, `\`, "/"))
	n = strings.TrimSpace(path.Base(n))
	if n == "." || n == "/" || n == ".." {
		return ""
	}
	return n
}
