// Package web is deskconn's web console, a door of its own beside the REST
// API (internal/restapi), mounted on the same server: the connect page,
// one-time login links, sessions (cookie + CSRF token, both kept in the
// store as hashes so that every replica honours them) and Zoho's OAuth
// callback.
//
// Other doors that need to know who is signed in on a request (the OAuth
// consent page for MCP clients) use Console.SignedIn or the package-level
// SignedIn.
package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/htmlpage"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"join": strings.Join,
	"pick": func(c restapi.ConnectionView, csrf string) connectedData {
		return connectedData{C: c, SignedIn: true, CSRF: csrf}
	},
}).ParseFS(templateFS, "templates/*.html"))

const sessionCookie = "deskconn_session"

// Login links and sessions live in the store (only hashes of their tokens
// and ids), so every replica on one database honours a link printed by any
// of them and a session cookie set by any of them.

// hashToken returns the SHA-256 of a login token or session id, the only
// form in which the store keeps them.
func hashToken(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DefaultLoginTTL is how long a login link stays valid unless
// Options.LoginTTL says otherwise.
const DefaultLoginTTL = 24 * time.Hour

// CreateLoginURL stores a one-time login link for tenantID's connect page,
// valid until expires, and returns it on baseURL. A server on the same store
// honours it without a restart (`deskconn login` uses it); only the hash
// of its token is stored.
func CreateLoginURL(ctx context.Context, st store.Store, baseURL, tenantID string, expires time.Time) (string, error) {
	tok := randomString(32)
	l := &store.LoginLink{Hash: hashToken(tok), TenantID: tenantID, ExpiresAt: expires}
	if err := st.CreateLoginLink(ctx, l); err != nil {
		return "", fmt.Errorf("create login link: %w", err)
	}
	return strings.TrimRight(baseURL, "/") + "/login?token=" + tok, nil
}

// LoginURL is CreateLoginURL for callers that cannot handle an error: when
// the store refuses the link it logs why and returns "".
func (s *Console) LoginURL(tenantID string) string {
	u, err := s.CreateLoginURL(context.Background(), tenantID)
	if err != nil {
		s.log.Error("create login link", "tenant", tenantID, "err", err)
		return ""
	}
	return u
}

func (s *Console) registerWeb() {
	s.handle("GET /{$}", s.webIndex)
	s.handle("GET /login", s.webLogin)
	s.handle("POST /logout", s.webLogout)
	s.handle("GET /oauth/callback", s.webCallback)
	s.handle("GET /connected/{connection}", s.webConnected)
	s.handle("POST /connections", s.webCreate)
	s.handle("POST /connections/{connection}/connect", s.webConnect)
	s.handle("POST /connections/{connection}/delete", s.webDelete)
	s.handle("POST /connections/{connection}/org", s.webChooseOrg)
	static, _ := fs.Sub(staticFS, "static")
	s.srv.Handle("GET /static/", http.StripPrefix("/static/", filesOnly(static)))
}

// currentSession returns the request's live session, or nil when it has
// none (no cookie, unknown, expired or signed out). An error means the
// store could not be asked.
func (s *Console) currentSession(r *http.Request) (*store.Session, error) {
	return lookupSession(r, s.st, s.srv.Now())
}

func lookupSession(r *http.Request, st store.Store, now time.Time) (*store.Session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return nil, nil
	}
	sess, err := st.GetSession(r.Context(), hashToken(ck.Value), now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	return sess, nil
}

// sessionID names a session by a prefix of its hash, never the cookie.
func sessionID(hash []byte) string { return hex.EncodeToString(hash)[:16] }

// filesOnly serves the files of fsys and answers 404 for a directory, so
// that no listing of the static assets is ever served.
func filesOnly(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(r.URL.Path, "/")
		if name == "" {
			name = "."
		}
		if fi, err := fs.Stat(fsys, name); err != nil || fi.IsDir() || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}

func (s *Console) renderStoreError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("web session", "request_id", restapi.RequestID(r.Context()), "err", err)
	s.renderError(w, r, http.StatusInternalServerError, "Something went wrong",
		"Your sign-in could not be checked.", "Reload the page; if it persists, check the server's log.")
}

func (s *Console) webLogin(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	now := s.srv.Now()
	var link *store.LoginLink
	if tok != "" && len(tok) <= 128 {
		var err error
		link, err = s.st.ConsumeLoginLink(r.Context(), hashToken(tok), now) // single use
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.renderStoreError(w, r, err)
			return
		}
	}
	if link == nil {
		s.renderError(w, r, http.StatusUnauthorized, "This login link does not work",
			"The link was already used, has expired, or was mistyped.",
			"Ask a signed-in admin for a new link (Admins page), or run `deskconn login` to print one; no restart is needed.")
		return
	}
	id := randomString(32)
	sess := &store.Session{Hash: hashToken(id), TenantID: link.TenantID, CSRF: randomString(32), ExpiresAt: now.Add(s.opts.SessionTTL)}
	if err := s.st.CreateSession(r.Context(), sess); err != nil {
		s.renderStoreError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.srv.Secure(),
		// Lax, not Strict: the person returns from Zoho by a cross-site
		// top-level navigation to /oauth/callback and must stay signed in.
		SameSite: http.SameSiteLaxMode,
		MaxAge:   int(s.opts.SessionTTL / time.Second),
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Console) webLogout(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.checkForm(w, r)
	if !ok {
		return
	}
	// ErrNotFound: another request signed this session out meanwhile.
	if err := s.st.DeleteSession(r.Context(), sess.Hash); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.renderStoreError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.srv.Secure(), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// checkForm parses a POSTed form (size-capped) and checks the session and
// its CSRF token. On failure it has already written the error page.
func (s *Console) checkForm(w http.ResponseWriter, r *http.Request) (*store.Session, bool) {
	sess, err := s.currentSession(r)
	if err != nil {
		s.renderStoreError(w, r, err)
		return nil, false
	}
	if sess == nil {
		s.renderError(w, r, http.StatusUnauthorized, "You are not signed in",
			"This page needs a signed-in session, and yours is missing or expired.",
			"Open a login link: `deskconn login` prints a new one.")
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.srv.MaxBodyBytes())
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "The form could not be read", "The form was too large or malformed.", "Go back and try again.")
		return nil, false
	}
	got := r.PostForm.Get("csrf")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		s.renderError(w, r, http.StatusForbidden, "The form has expired",
			"The form's security token did not match your session (it may come from an old tab or another site).",
			"Reload the connections page and submit the form again.")
		return nil, false
	}
	return sess, true
}

// indexData is what index.html renders.
type indexData struct {
	CSRF        string
	RedirectURL string
	Scopes      string
	Connections []restapi.ConnectionView
	Form        formValues
	FormError   *deskconn.Error
	Notice      string
}

type formValues struct {
	Name, ClientID, Scopes string
}

func (s *Console) webIndex(w http.ResponseWriter, r *http.Request) {
	sess, err := s.currentSession(r)
	if err != nil {
		s.renderStoreError(w, r, err)
		return
	}
	if sess == nil {
		s.renderError(w, r, http.StatusUnauthorized, "Sign in to deskconn",
			"The connect page is open only to people with a login link.",
			"Open a login link in this browser: `deskconn serve` prints one at start, `deskconn login` prints a new one.")
		return
	}
	s.renderIndex(w, r, sess, http.StatusOK, formValues{Scopes: strings.Join(connection.DefaultScopes, ",")}, nil, notices[r.URL.Query().Get("notice")])
}

// Keys of the notices the connect page shows after a form (?notice=KEY).
const (
	noticeAdded   = "added"
	noticeDeleted = "deleted"
)

// notices are the only texts ?notice= can put on the page: a link with
// any other value shows no notice, so nobody can make the signed-in page
// say what they want.
var notices = map[string]string{
	noticeAdded:   "Connection added: register the redirect URL below in the Zoho API console, then click Connect.",
	noticeDeleted: "Connection deleted and its refresh token revoked.",
}

func (s *Console) renderIndex(w http.ResponseWriter, r *http.Request, sess *store.Session, status int, form formValues, formErr *deskconn.Error, notice string) {
	cs, err := s.m.List(r.Context(), sess.TenantID)
	if err != nil {
		s.log.Error("list connections for page", "request_id", restapi.RequestID(r.Context()), "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "The connections could not be read.", "Reload the page; if it persists, check the server's log.")
		return
	}
	data := indexData{
		CSRF: sess.CSRF, RedirectURL: s.m.CallbackURL(), Scopes: strings.Join(connection.DefaultScopes, ","),
		Form: form, FormError: formErr, Notice: notice,
	}
	for _, c := range cs {
		data.Connections = append(data.Connections, s.srv.View(r.Context(), c, true))
	}
	s.render(w, status, "index.html", data)
}

func (s *Console) webCreate(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.checkForm(w, r)
	if !ok {
		return
	}
	form := formValues{Name: r.PostForm.Get("name"), ClientID: r.PostForm.Get("client_id"), Scopes: r.PostForm.Get("scopes")}
	_, err := s.m.Create(r.Context(), sess.TenantID, connection.CreateInput{
		Name: strings.TrimSpace(form.Name), ClientID: form.ClientID,
		ClientSecret: deskconn.Secret(r.PostForm.Get("client_secret")), Scopes: connection.ParseScopes(form.Scopes),
	})
	if err != nil {
		de := deskconn.AsError(readableFields(err, fieldLabel))
		if de.Code == deskconn.CodeInternal {
			s.log.Error("create connection", "request_id", restapi.RequestID(r.Context()), "err", err)
		}
		s.renderIndex(w, r, sess, restapi.StatusOf(de.Code), form, de, "")
		return
	}
	http.Redirect(w, r, "/?notice="+noticeAdded, http.StatusSeeOther)
}

func (s *Console) webConnect(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.checkForm(w, r)
	if !ok {
		return
	}
	err := s.srv.AllowConnect(sess.TenantID)
	var u string
	if err == nil {
		if r.PostForm.Get("rebind") == "1" {
			u, err = s.m.AuthorizeURLRebind(r.Context(), sess.TenantID, r.PathValue("connection"), "/")
		} else {
			u, err = s.m.AuthorizeURL(r.Context(), sess.TenantID, r.PathValue("connection"), "/")
		}
	}
	if err != nil {
		s.renderDomainError(w, r, err, "Connecting could not start")
		return
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

func (s *Console) webDelete(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.checkForm(w, r)
	if !ok {
		return
	}
	name := r.PathValue("connection")
	if r.PostForm.Get("confirm_name") != name {
		s.renderError(w, r, http.StatusBadRequest, "Type the name to delete",
			"The connection was not deleted: the name typed does not match "+strconv.Quote(name)+".",
			"Go back, type the connection's name exactly, then click Delete.")
		return
	}
	if err := s.m.Delete(r.Context(), sess.TenantID, name); err != nil {
		s.renderDomainError(w, r, err, "The connection could not be deleted")
		return
	}
	http.Redirect(w, r, "/?notice="+noticeDeleted, http.StatusSeeOther)
}

func (s *Console) webChooseOrg(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.checkForm(w, r)
	if !ok {
		return
	}
	c, err := s.m.ChooseOrg(r.Context(), sess.TenantID, r.PathValue("connection"), r.PostForm.Get("org_id"))
	if err != nil {
		s.renderDomainError(w, r, err, "The organisation could not be chosen")
		return
	}
	s.render(w, http.StatusOK, "connected.html", connectedData{C: s.srv.View(r.Context(), c, false), SignedIn: true, CSRF: sess.CSRF})
}

type connectedData struct {
	C        restapi.ConnectionView
	SignedIn bool
	CSRF     string
}

// webCallback is Zoho's redirect target. It needs no session (the CLI's
// connect command uses it too): the single-use state binds it to the tenant
// and connection.
func (s *Console) webCallback(w http.ResponseWriter, r *http.Request) {
	res, err := s.m.Callback(r.Context(), r.URL.Query())
	if err != nil {
		de := deskconn.AsError(err)
		var title, what, todo string
		switch {
		case errors.Is(err, connection.ErrConsentDenied):
			title, todo = "Access was denied", "Click Connect again and choose Accept on Zoho's page. Nothing was changed."
		case errors.Is(err, connection.ErrStateExpired):
			title, todo = "The sign-in took too long", "Click Connect again and finish within 10 minutes. Nothing was changed."
		case errors.Is(err, connection.ErrStateInvalid):
			title, todo = "This sign-in link was already used", "Start again with Connect on the connections page. Nothing was changed."
		case errors.Is(err, connection.ErrUnknownAccountsServer):
			title, todo = "Unknown Zoho data centre", "Nothing was sent to it. Connect again; if your account is in a data centre deskconn does not list, report it."
		case errors.Is(err, connection.ErrOtherOrg):
			title, todo = "Consent was for another organisation", "Nothing was changed and the new sign-in was given back to Zoho. Connect again signed in as a user of the bound organisation, or, to serve another organisation with this connection, click \"Reconnect to another organisation\" on the connection (this is recorded in the activity)."
		case errors.Is(err, connection.ErrZoho):
			title, todo = "Zoho refused the connection", "Check the client id, the client secret of your data centre and the scopes, then connect again. The previous state of the connection is kept."
		default:
			title, todo = "The connection failed", "Try again; if it persists, check the server's log."
			s.log.Error("oauth callback", "request_id", restapi.RequestID(r.Context()), "err", err)
		}
		what = de.Message
		if de.Code == deskconn.CodeInternal {
			what = "An internal error stopped the connection."
		}
		s.renderError(w, r, restapi.StatusOf(de.Code), title, what, todo)
		return
	}
	// The connection is made whatever happens to the session check: a
	// failed check only leaves the page without its signed-in controls.
	sess, err := s.currentSession(r)
	if err != nil {
		s.log.Error("oauth callback: session", "request_id", restapi.RequestID(r.Context()), "err", err)
	}
	if sess != nil && sess.TenantID == res.Connection.TenantID {
		// Post/Redirect/Get: reloading the result page shows the
		// connection's state, not the used-up callback's error.
		http.Redirect(w, r, "/connected/"+url.PathEscape(res.Connection.Name), http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "connected.html", connectedData{C: s.srv.View(r.Context(), res.Connection, false)})
}

// webConnected is the result page after a connect flow: the connection's
// current state, as often as it is reloaded.
func (s *Console) webConnected(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.signedInPage(w, r)
	if !ok {
		return
	}
	c, err := s.m.Get(r.Context(), sess.TenantID, r.PathValue("connection"))
	if err != nil {
		s.renderDomainError(w, r, err, "The connection could not be shown")
		return
	}
	s.render(w, http.StatusOK, "connected.html", connectedData{C: s.srv.View(r.Context(), c, false), SignedIn: true, CSRF: sess.CSRF})
}

func (s *Console) renderDomainError(w http.ResponseWriter, r *http.Request, err error, title string) {
	de := deskconn.AsError(err)
	what := de.Message
	if de.Code == deskconn.CodeInternal {
		s.log.Error(title, "request_id", restapi.RequestID(r.Context()), "err", err)
		what = "An internal error occurred."
	}
	if de.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((de.RetryAfter+time.Second-1)/time.Second)))
	}
	s.renderError(w, r, restapi.StatusOf(de.Code), title, what, "Go back to the connections page and try again.")
}

type errorData struct {
	Title, What, Todo, RequestID string
}

func (s *Console) renderError(w http.ResponseWriter, r *http.Request, status int, title, what, todo string) {
	s.render(w, status, "error.html", errorData{Title: title, What: what, Todo: todo, RequestID: restapi.RequestID(r.Context())})
}

func (s *Console) render(w http.ResponseWriter, status int, name string, data any) {
	htmlpage.Write(w, s.log, pages, status, name, data)
}
