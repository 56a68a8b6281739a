package restapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/store"
)

// The hooks below let the web console (internal/web), a door of its own
// beside the REST API, share this server's middleware, clock, connection
// manager and connect limit without restapi knowing its pages.

// Handle registers h for pattern inside the server's middleware (request
// ids, access log, panic recovery, security headers) but without API-key
// authentication: the web console's pages and the OAuth callback
// authenticate people by their own means. Call it before serving.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Manager returns the connection manager the server was built with.
func (s *Server) Manager() *connection.Manager { return s.opts.Manager }

// APIKeys returns the API-key service the server authenticates with.
func (s *Server) APIKeys() *apikey.Service { return s.opts.APIKeys }

// Store returns the manager's store.
func (s *Server) Store() store.Store { return s.store }

// Now returns the server's clock reading (Options.Now).
func (s *Server) Now() time.Time { return s.opts.Now() }

// Logger returns the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Secure reports whether the base URL is https (cookies are then Secure).
func (s *Server) Secure() bool { return s.secure }

// MaxBodyBytes returns the cap on bodies of the connection endpoints, which
// the web forms share.
func (s *Server) MaxBodyBytes() int64 { return s.opts.MaxBodyBytes }

// AllowConnect takes one OAuth flow of tenantID's budget, shared by REST
// and the web console, or returns a rate_limited error saying when to
// try again.
func (s *Server) AllowConnect(tenantID string) error {
	return s.connects.allow(tenantID, s.opts.Now())
}

// View returns the JSON/page form of c, with its event source when
// withEvents is set.
func (s *Server) View(ctx context.Context, c *store.Connection, withEvents bool) ConnectionView {
	v := s.view(c)
	if withEvents {
		v = s.withEvents(ctx, v)
	}
	return v
}

// Actions returns the action catalogue MountActions mounted (nil before),
// which policies and key scopes are checked against.
func (s *Server) Actions() []*action.Action { return s.actions }

// Connected reports whether the connection holds tokens (it went through
// the connect flow at least once).
func (v ConnectionView) Connected() bool {
	return v.Status == string(store.StatusActive) || v.Status == string(store.StatusChooseOrg) || v.Status == string(store.StatusNeedsReauth)
}
