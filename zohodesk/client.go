// Package zohodesk is a typed Go client for the Zoho Desk REST API v1 and the
// Zoho Accounts OAuth 2.0 endpoints it needs.
//
// A Client talks to one Desk API base (one data centre, see Region). Every
// method takes a context and, except for Organizations, the Desk organization
// id, which is sent as the header spelled exactly "orgId". IDs and counts are
// strings, as Zoho sends them. Failed calls return an *APIError (Zoho answered)
// or a *TransportError (Zoho's answer was not received); both work with
// errors.Is and the Err* sentinels of this package.
//
// The client retries reads and idempotent writes (RetryPolicy), limits
// concurrency and rate per organization (Limiter), refreshes a stale access
// token once through its TokenSource, never follows a redirect to another
// host, and treats Zoho's "204 No Content" as an empty list.
//
// Data centres: Regions is the allow-list of Zoho data centres. Pick the
// Desk base with Regions.Desk(location) and check an OAuth callback's
// "accounts-server" with Regions.ByAccountsServer before any secret is sent
// to it. OAuthConfig wraps Zoho Accounts (authorize URL, code exchange,
// refresh, revoke).
//
// Testing: point a Client at any http(s) base, e.g. an httptest server or
// the emulator: New(Config{BaseURL: srv.URL + "/api/v1", Tokens:
// StaticToken("x")}). For the OAuth flow, NewRegions(Region{Location: "us",
// AccountsURL: emu.URL, DeskAPIBase: emu.URL + "/api/v1"}) maps a location
// onto the emulator. Set Config.Retry.MinBackoff to a millisecond to keep
// retry tests fast.
package zohodesk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TokenSource supplies access tokens to the client. Token returns the current
// access token. When Desk answers 401 INVALID_OAUTH for a request, the client
// calls Refresh(ctx, stale) exactly once with the token it used and retries
// that request once with the new token.
//
// Implementations must be safe for concurrent use. Refresh receives the stale
// token so that an implementation shared by many goroutines can tell whether
// another caller has already refreshed it (and then return the newer token
// without calling Zoho again).
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Refresh(ctx context.Context, stale string) (string, error)
}

// ErrCannotRefresh is returned by the Refresh method of StaticToken.
var ErrCannotRefresh = errors.New("zohodesk: static token cannot be refreshed")

// StaticToken returns a TokenSource that always returns tok. Its Refresh
// returns ErrCannotRefresh, so a 401 INVALID_OAUTH is returned to the caller.
func StaticToken(tok string) TokenSource { return staticToken(tok) }

type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }
func (s staticToken) Refresh(context.Context, string) (string, error) {
	return "", ErrCannotRefresh
}

// Config configures a Client. BaseURL and Tokens are required.
type Config struct {
	// BaseURL is the Desk API base including "/api/v1", e.g.
	// "https://desk.zoho.com/api/v1" (Region.DeskAPIBase).
	BaseURL string
	// Tokens supplies the access token for every request.
	Tokens TokenSource
	// HTTPClient is optional. The default has a transport sized for
	// concurrent calls (MaxIdleConnsPerHost 64, not Go's default of 2).
	// The client copies it and installs a CheckRedirect that refuses
	// redirects to another host (the original CheckRedirect, if any, still
	// runs for same-host redirects).
	HTTPClient *http.Client
	// Limiter is optional; the default is NewOrgLimiter(5, 10, 10), the
	// concurrency of Zoho's smallest edition. Share one Limiter between all
	// clients that call the same organizations.
	Limiter Limiter
	// Retry is optional; its zero value means the defaults of RetryPolicy.
	Retry RetryPolicy
	// UserAgent is sent as User-Agent; default "deskconn-zohodesk".
	UserAgent string
	// OnResponse, if set, is called once per HTTP attempt (for metrics).
	// It must be quick and safe for concurrent use.
	OnResponse func(ResponseInfo)
	// AttemptTimeout bounds one attempt of a call other than an upload or
	// a download, from sending it to its answer's last byte; default
	// DefaultAttemptTimeout. See TimeoutError.
	AttemptTimeout time.Duration
	// StallTimeout bounds how long one attempt of an upload or a download
	// may go without a byte moving; its total time is not bounded. Default
	// DefaultStallTimeout. See TimeoutError.
	StallTimeout time.Duration
}

// ResponseInfo describes one HTTP attempt, for metrics and logs. It never
// holds a token or a request body.
type ResponseInfo struct {
	Method string
	// OrgID is the organization the call was made for ("" for calls not
	// tied to one, such as Organizations.List).
	OrgID string
	// PathTemplate is the operation's path template, e.g. "/tickets/{ticketId}".
	PathTemplate string
	// StatusCode is 0 when no response was received.
	StatusCode int
	// ErrorCode is Zoho's errorCode of an error response, or "".
	ErrorCode string
	RequestID string
	RateLimit RateLimit
	Duration  time.Duration
	// Attempt counts from 1.
	Attempt int
	// Err is the transport error of the attempt, if any.
	Err error
}

// Response describes the HTTP response behind a successful call.
type Response struct {
	StatusCode int
	RequestID  string
	RateLimit  RateLimit
}

// Client is a Zoho Desk API client. It is safe for concurrent use.
type Client struct {
	base       *url.URL // always ends in "/"
	tokens     TokenSource
	hc         *http.Client
	limiter    Limiter
	retry      RetryPolicy
	userAgent  string
	onResponse func(ResponseInfo)

	attemptTimeout time.Duration
	stallTimeout   time.Duration

	common service

	Organizations     *OrganizationsService
	Departments       *DepartmentsService
	Teams             *TeamsService
	Webhooks          *WebhooksService
	Products          *ProductsService
	Contacts          *ContactsService
	Roles             *RolesService
	Profiles          *ProfilesService
	Agents            *AgentsService
	Tickets           *TicketsService
	Uploads           *UploadsService
	TicketAttachments *TicketAttachmentsService

	Threads               *ThreadsService
	Conversations         *ConversationsService
	Replies               *RepliesService
	Drafts                *DraftsService
	Comments              *CommentsService
	Tags                  *TagsService
	TimeEntries           *TimeEntriesService
	History               *HistoryService
	SupportEmailAddresses *SupportEmailAddressesService

	Accounts *AccountsService
	Articles *ArticlesService
	KB       *KBService
}

type service struct{ client *Client }

// New returns a Client for cfg. It fails if BaseURL is not an absolute
// http(s) URL or Tokens is nil.
func New(cfg Config) (*Client, error) {
	if cfg.Tokens == nil {
		return nil, errors.New("zohodesk: new client: Tokens is required")
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("zohodesk: new client: BaseURL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	base.RawQuery, base.Fragment = "", ""
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	base.RawPath = ""
	c := &Client{
		base:       base,
		tokens:     cfg.Tokens,
		limiter:    cfg.Limiter,
		retry:      cfg.Retry.withDefaults(),
		userAgent:  cfg.UserAgent,
		onResponse: cfg.OnResponse,

		attemptTimeout: cfg.AttemptTimeout,
		stallTimeout:   cfg.StallTimeout,
	}
	if c.attemptTimeout <= 0 {
		c.attemptTimeout = DefaultAttemptTimeout
	}
	if c.stallTimeout <= 0 {
		c.stallTimeout = DefaultStallTimeout
	}
	if c.limiter == nil {
		c.limiter = NewOrgLimiter(5, 10, 10)
	}
	if c.userAgent == "" {
		c.userAgent = "deskconn-zohodesk"
	}
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc = http.Client{Transport: NewTransport()}
	}
	hc.CheckRedirect = sameHostRedirects(hc.CheckRedirect)
	c.hc = &hc

	c.common.client = c
	c.Organizations = (*OrganizationsService)(&c.common)
	c.Departments = (*DepartmentsService)(&c.common)
	c.Teams = (*TeamsService)(&c.common)
	c.Webhooks = (*WebhooksService)(&c.common)
	c.Products = (*ProductsService)(&c.common)
	c.Contacts = (*ContactsService)(&c.common)
	c.Roles = (*RolesService)(&c.common)
	c.Profiles = (*ProfilesService)(&c.common)
	c.Agents = (*AgentsService)(&c.common)
	c.Tickets = (*TicketsService)(&c.common)
	c.Uploads = (*UploadsService)(&c.common)
	c.TicketAttachments = (*TicketAttachmentsService)(&c.common)
	c.Threads = (*ThreadsService)(&c.common)
	c.Conversations = (*ConversationsService)(&c.common)
	c.Replies = (*RepliesService)(&c.common)
	c.Drafts = (*DraftsService)(&c.common)
	c.Comments = (*CommentsService)(&c.common)
	c.Tags = (*TagsService)(&c.common)
	c.TimeEntries = (*TimeEntriesService)(&c.common)
	c.History = (*HistoryService)(&c.common)
	c.SupportEmailAddresses = (*SupportEmailAddressesService)(&c.common)
	c.Accounts = (*AccountsService)(&c.common)
	c.Articles = (*ArticlesService)(&c.common)
	c.KB = (*KBService)(&c.common)
	return c, nil
}

// BaseURL returns the Desk API base the client calls, with a trailing slash.
func (c *Client) BaseURL() string { return c.base.String() }

// NewTransport returns the transport a Client uses when Config.HTTPClient
// is nil: connections kept for concurrent calls (64 idle per host, where
// Go's http.DefaultTransport keeps 2 and closes the rest after every burst,
// so that calls past the second reconnect, a TLS handshake each), and
// bounded dials, handshakes and waits for response headers. An
// http.Client given in Config should use one like it.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// sameHostRedirects refuses redirects to another host: the client then sees
// the 3xx response itself and returns an *APIError. Desk redirects to a
// sign-in page on another host when the data centre is wrong.
func sameHostRedirects(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return nil
	}
}
