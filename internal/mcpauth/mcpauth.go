// Package mcpauth is deskconn's OAuth 2.1 authorization server for MCP
// clients (the MCP authorization specification, revision 2025-11-25):
// protected resource metadata (RFC 9728) for each /mcp/{connection}
// endpoint, authorization server metadata (RFC 8414), the authorization
// endpoint with its consent page, the token endpoint (authorization code
// with PKCE S256 only, refresh tokens rotated with reuse detection),
// dynamic client registration (RFC 7591), Client ID Metadata Documents and
// revocation (RFC 7009).
//
// Every token is bound to one resource (RFC 8707), the URL of one MCP
// endpoint, hence to one connection, and issued under a grant: the
// person's consent for one client with a scope (full, read-only, one
// toolset). Codes and tokens are stored as SHA-256 hashes only. The
// restapi server resolves an access token to a tenant, the grant and its
// scope through AuthenticateToken, beside API keys.
//
// This package serves MCP clients; internal/connection is the other side,
// deskconn as an OAuth client of Zoho.
package mcpauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/time/rate"

	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/store"
)

// Token prefixes, so that people and secret scanners can tell them apart
// from API keys ("dk_").
const (
	AccessPrefix  = "dkat_"
	RefreshPrefix = "dkrt_"
	CodePrefix    = "dkac_"
)

// Defaults of Options.
const (
	DefaultCodeTTL    = time.Minute
	DefaultAccessTTL  = time.Hour
	DefaultRefreshTTL = 30 * 24 * time.Hour
	// MaxMetadataDocumentBytes caps a fetched Client ID Metadata Document.
	MaxMetadataDocumentBytes = 5 << 10
	// MaxRegistrationBytes caps a dynamic registration request.
	MaxRegistrationBytes = 16 << 10
	// MetadataDocumentTTL is how long a fetched Client ID Metadata
	// Document is cached.
	MetadataDocumentTTL = 5 * time.Minute
	// RegistrationBurst and RegistrationInterval bound dynamic client
	// registrations per process; more answer 429 with Retry-After.
	RegistrationBurst    = 30
	RegistrationInterval = 2 * time.Second
)

// Session is a signed-in person of the web console.
type Session struct {
	TenantID string
	// CSRF is the session's anti-forgery token; the consent form echoes it.
	CSRF string
}

// Sessions finds the web console's signed-in person of a request. The
// console (internal/web, web.SignedIn) provides it.
type Sessions interface {
	// Current returns the request's live session, or ok false when the
	// request has none. An error means the check could not be made.
	Current(r *http.Request) (s Session, ok bool, err error)
}

// Options configure a Server. Store, BaseURL and Sessions are required.
type Options struct {
	Store    store.Store
	BaseURL  string // public base URL: the issuer and the origin of every resource
	Sessions Sessions
	// SignIn tells a person who is not signed in how to sign in (shown on
	// the consent page), e.g. "Open the login link printed by `deskconn
	// serve`, or run `deskconn login`".
	SignIn string
	// Fetcher fetches Client ID Metadata Documents; nil means a production
	// egress fetcher (public addresses only) capped at
	// MaxMetadataDocumentBytes.
	Fetcher *egress.Fetcher
	// Toolsets are the toolsets a grant may be limited to.
	Toolsets []string
	Logger   *slog.Logger
	Now      func() time.Time

	CodeTTL, AccessTTL, RefreshTTL time.Duration
}

// Server is the authorization server. Register its routes with Routes.
type Server struct {
	opts  Options
	base  *url.URL
	log   *slog.Logger
	fetch *egress.Fetcher

	mu    sync.Mutex
	cimds map[string]cachedClient // Client ID Metadata Documents by URL

	// registrations bounds dynamic registrations, which need no
	// credential: RegistrationBurst at once, then one per
	// RegistrationInterval.
	registrations *rate.Limiter
}

type cachedClient struct {
	c       *client
	expires time.Time
}

// New returns a Server for opts.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Sessions == nil {
		return nil, errors.New("mcpauth: Store and Sessions are required")
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	base, err := url.Parse(opts.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.Path != "" {
		return nil, fmt.Errorf("mcpauth: BaseURL %q is not an absolute http(s) URL without a path", opts.BaseURL)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CodeTTL <= 0 {
		opts.CodeTTL = DefaultCodeTTL
	}
	if opts.AccessTTL <= 0 {
		opts.AccessTTL = DefaultAccessTTL
	}
	if opts.RefreshTTL <= 0 {
		opts.RefreshTTL = DefaultRefreshTTL
	}
	if opts.SignIn == "" {
		opts.SignIn = "Open the login link printed by `deskconn serve` (or run `deskconn login`), then reload this page."
	}
	s := &Server{opts: opts, base: base, log: opts.Logger, fetch: opts.Fetcher, cimds: map[string]cachedClient{},
		registrations: rate.NewLimiter(rate.Every(RegistrationInterval), RegistrationBurst)}
	if s.fetch == nil {
		s.fetch = egress.New(egress.Config{MaxBytes: MaxMetadataDocumentBytes, Timeout: 10 * time.Second, MaxRedirects: -1, Logger: opts.Logger})
	}
	return s, nil
}

// Routes returns the routes to serve without the API-key middleware (they
// authenticate on their own), as net/http ServeMux patterns.
func (s *Server) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /.well-known/oauth-protected-resource/mcp/{connection}": http.HandlerFunc(s.handleResourceMetadata),
		"GET /.well-known/oauth-authorization-server":                http.HandlerFunc(s.handleServerMetadata),
		"GET /oauth/authorize":                                       http.HandlerFunc(s.handleAuthorize),
		"POST /oauth/authorize":                                      http.HandlerFunc(s.handleConsent),
		"POST /oauth/token":                                          http.HandlerFunc(s.handleToken),
		"POST /oauth/register":                                       http.HandlerFunc(s.handleRegister),
		"POST /oauth/revoke":                                         http.HandlerFunc(s.handleRevoke),
	}
}

// Issuer returns the authorization server's issuer identifier.
func (s *Server) Issuer() string { return s.opts.BaseURL }

// ResourceURL returns the resource identifier of the MCP endpoint of
// connection (its name or id as written in the endpoint's path).
func (s *Server) ResourceURL(connection string) string {
	return s.opts.BaseURL + "/mcp/" + connection
}

// ResourceMetadataURL returns where the protected resource metadata of the
// MCP endpoint of connection is served.
func (s *Server) ResourceMetadataURL(connection string) string {
	return s.opts.BaseURL + "/.well-known/oauth-protected-resource/mcp/" + connection
}

// validSegment reports whether seg may name a connection in an MCP
// endpoint's path: a connection name or id (letters, digits, '.', '_',
// '-', at most 100).
func validSegment(seg string) bool {
	if seg == "" || len(seg) > 100 {
		return false
	}
	for _, c := range seg {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return seg != "." && seg != ".."
}

// ParseResource checks a resource indicator (RFC 8707) against base: it
// must be base + "/mcp/" + a connection name or id, without query or
// fragment. It returns the connection segment and the canonical resource
// (the scheme and host in lower case).
func ParseResource(base, resource string) (connection, canonical string, err error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", "", errors.New("the server's base URL does not parse")
	}
	u, err := url.Parse(resource)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return "", "", errors.New("resource is not an absolute URL")
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(resource, "#") {
		return "", "", errors.New("resource must not carry credentials, a query or a fragment")
	}
	if !strings.EqualFold(u.Scheme, b.Scheme) || !strings.EqualFold(u.Host, b.Host) {
		return "", "", fmt.Errorf("resource must be on this server (%s)", b.Scheme+"://"+b.Host)
	}
	seg, ok := strings.CutPrefix(u.EscapedPath(), "/mcp/")
	if !ok || !validSegment(seg) {
		return "", "", errors.New("resource must be the URL of an MCP endpoint, " + strings.TrimRight(base, "/") + "/mcp/{connection}")
	}
	return seg, strings.ToLower(b.Scheme) + "://" + strings.ToLower(b.Host) + "/mcp/" + seg, nil
}

func (s *Server) handleResourceMetadata(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("connection")
	if !validSegment(seg) {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, &oauthex.ProtectedResourceMetadata{
		Resource:               s.ResourceURL(seg),
		AuthorizationServers:   []string{s.Issuer()},
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "deskconn MCP (connection " + seg + ")",
	})
}

// serverMetadata is RFC 8414 authorization server metadata. (The SDK's
// oauthex.AuthServerMeta always writes jwks_uri, which must be absent
// here: deskconn issues opaque tokens and has no keys.)
type serverMetadata struct {
	Issuer                                 string   `json:"issuer"`
	AuthorizationEndpoint                  string   `json:"authorization_endpoint"`
	TokenEndpoint                          string   `json:"token_endpoint"`
	RegistrationEndpoint                   string   `json:"registration_endpoint"`
	RevocationEndpoint                     string   `json:"revocation_endpoint"`
	ResponseTypesSupported                 []string `json:"response_types_supported"`
	ResponseModesSupported                 []string `json:"response_modes_supported"`
	GrantTypesSupported                    []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported"`
	ClientIDMetadataDocumentSupported      bool     `json:"client_id_metadata_document_supported"`
	AuthorizationResponseIssParameter      bool     `json:"authorization_response_iss_parameter_supported"`
}

func (s *Server) handleServerMetadata(w http.ResponseWriter, r *http.Request) {
	b := s.opts.BaseURL
	writeJSON(w, http.StatusOK, &serverMetadata{
		Issuer:                                 b,
		AuthorizationEndpoint:                  b + "/oauth/authorize",
		TokenEndpoint:                          b + "/oauth/token",
		RegistrationEndpoint:                   b + "/oauth/register",
		RevocationEndpoint:                     b + "/oauth/revoke",
		ResponseTypesSupported:                 []string{"code"},
		ResponseModesSupported:                 []string{"query"},
		GrantTypesSupported:                    []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethodsSupported:      []string{"none"},
		RevocationEndpointAuthMethodsSupported: []string{"none"},
		CodeChallengeMethodsSupported:          []string{"S256"},
		ClientIDMetadataDocumentSupported:      true,
		AuthorizationResponseIssParameter:      true,
	})
}

// newToken returns a fresh random token with prefix and its hash.
func newToken(prefix string) (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	tok := prefix + base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok)
}

// hashToken is the only form in which codes and tokens are stored.
func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// s256 is the PKCE S256 transformation of a code verifier.
func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// validPKCE reports whether v is a PKCE code verifier or S256 challenge:
// 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1).
func validPKCE(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = jsonEncode(w, v)
}

// oauthError is an OAuth error response (RFC 6749 §5.2).
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	status      int
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func errorf(status int, code, format string, args ...any) *oauthError {
	return &oauthError{Code: code, Description: fmt.Sprintf(format, args...), status: status}
}

func (s *Server) writeOAuthError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *oauthError
	if !errors.As(err, &oe) {
		s.log.Error("mcpauth: internal error", "path", r.URL.Path, "err", err)
		oe = errorf(http.StatusInternalServerError, "server_error", "internal error")
	}
	if oe.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="deskconn"`)
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, oe.status, oe)
}

// ctxNow is the server's clock.
func (s *Server) now() time.Time { return s.opts.Now() }

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
