package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
)

// DefaultSessionTTL is how long a web session lasts unless
// Options.SessionTTL says otherwise.
const DefaultSessionTTL = 12 * time.Hour

// Options configure the console.
type Options struct {
	// SessionTTL is how long a web session lasts; default DefaultSessionTTL.
	SessionTTL time.Duration
	// LoginTTL is how long a login link stays valid; default
	// DefaultLoginTTL.
	LoginTTL time.Duration
}

// Console is the web console mounted on a restapi.Server.
type Console struct {
	srv  *restapi.Server
	m    *connection.Manager
	st   store.Store
	log  *slog.Logger
	opts Options
}

// Mount registers the console's pages, the OAuth callback and the static
// assets on srv, which must not be serving yet.
func Mount(srv *restapi.Server, opts Options) (*Console, error) {
	if srv == nil {
		return nil, errors.New("mount web console: a server is required")
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.LoginTTL <= 0 {
		opts.LoginTTL = DefaultLoginTTL
	}
	s := &Console{srv: srv, m: srv.Manager(), st: srv.Store(), log: srv.Logger(), opts: opts}
	s.registerWeb()
	s.registerConsole()
	return s, nil
}

func (s *Console) handle(pattern string, h http.HandlerFunc) { s.srv.Handle(pattern, h) }

// Session is who is signed in on a request of the console: a person of
// TenantID, by the session whose CSRF token forms must carry.
type Session struct {
	TenantID  string
	CSRF      string
	ExpiresAt time.Time
	// ID identifies the session without revealing its cookie (a hex
	// prefix of the cookie's hash), as the sessions list shows it.
	ID string
}

// SessionChecker answers who is signed in on a request; *Console
// implements it. A page of another package (the OAuth consent page for
// MCP clients) takes one instead of reading the cookie itself.
type SessionChecker interface {
	// SignedIn returns the request's live session, or nil when nobody is
	// signed in (no cookie, unknown, expired or signed out). An error
	// means the store could not be asked.
	SignedIn(r *http.Request) (*Session, error)
}

var _ SessionChecker = (*Console)(nil)

// SignedIn implements SessionChecker on the console's store and clock.
func (s *Console) SignedIn(r *http.Request) (*Session, error) {
	return SignedIn(r, s.st, s.srv.Now())
}

// SignedIn returns who is signed in on r by the console's session cookie,
// looked up in st at now; nil when nobody is.
func SignedIn(r *http.Request, st store.Store, now time.Time) (*Session, error) {
	sess, err := lookupSession(r, st, now)
	if sess == nil || err != nil {
		return nil, err
	}
	return publicSession(sess), nil
}

func publicSession(sess *store.Session) *Session {
	return &Session{TenantID: sess.TenantID, CSRF: sess.CSRF, ExpiresAt: sess.ExpiresAt, ID: sessionID(sess.Hash)}
}

// CreateLoginURL returns a one-time login link for tenantID's console (as
// Jupyter prints one): opening it on any replica sharing this store sets
// an HttpOnly session cookie and redirects to the page. It works once and
// expires after LoginTTL. Only the hash of its token is stored. The tenant
// must exist.
func (s *Console) CreateLoginURL(ctx context.Context, tenantID string) (string, error) {
	return CreateLoginURL(ctx, s.st, s.srv.BaseURL(), tenantID, s.srv.Now().Add(s.opts.LoginTTL))
}
