package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/connection"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/usage"
)

// The console's pages beyond the connect page: a connection's policies and
// health, API keys, activity (the audit log), and admins (invite links and
// sessions). Every page needs a session; every form its CSRF token.

func (s *Console) registerConsole() {
	s.handle("GET /connections/{connection}", s.webConnection)
	s.handle("POST /connections/{connection}/policies", s.webSetPolicies)
	s.handle("POST /connections/{connection}/edit", s.webEditConnection)
	s.handle("GET /keys", s.webKeys)
	s.handle("POST /keys", s.webCreateKey)
	s.handle("POST /keys/{id}/revoke", s.webRevokeKey)
	s.handle("POST /grants/{id}/revoke", s.webRevokeGrant)
	s.handle("GET /activity", s.webActivity)
	s.handle("GET /activity/export", s.webActivityExport)
	s.handle("GET /admins", s.webAdmins)
	s.handle("POST /admins/invite", s.webInvite)
	s.handle("POST /sessions/{id}/end", s.webEndSession)
}

// signedInPage returns the session of a GET page, or writes the sign-in
// error page.
func (s *Console) signedInPage(w http.ResponseWriter, r *http.Request) (*store.Session, bool) {
	sess, err := s.currentSession(r)
	if err != nil {
		s.renderStoreError(w, r, err)
		return nil, false
	}
	if sess == nil {
		s.renderError(w, r, http.StatusUnauthorized, "Sign in to deskconn",
			"The console is open only to people with a login link.",
			"Open a login link (`deskconn login` prints one) in this browser.")
		return nil, false
	}
	return sess, true
}

// ---- A connection: policies and health ----

type connectionData struct {
	CSRF      string
	C         restapi.ConnectionView
	Policies  []action.PolicyEntry
	Presets   []string
	Health    usage.Health
	FormError *deskconn.Error
	Notice    string
}

func (s *Console) webConnection(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.signedInPage(w, r)
	if !ok {
		return
	}
	s.renderConnection(w, r, sess, http.StatusOK, nil, connectionNotices[r.URL.Query().Get("notice")])
}

var connectionNotices = map[string]string{
	"policies": "Policies saved.",
	"edited":   "Client settings saved. Click Reconnect to sign in with them: until then the connection keeps its current tokens and scopes.",
}

func (s *Console) webEditConnection(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.checkForm(w, r)
	if !ok {
		return
	}
	in := connection.EditInput{ClientSecret: deskconn.Secret(r.PostForm.Get("client_secret"))}
	if v := strings.TrimSpace(r.PostForm.Get("scopes")); v != "" {
		in.Scopes = connection.ParseScopes(v)
	}
	if _, err := s.m.Edit(r.Context(), sess.TenantID, r.PathValue("connection"), in); err != nil {
		de := deskconn.AsError(readableFields(err, fieldLabel))
		if de.Code != deskconn.CodeInvalid {
			s.renderDomainError(w, r, err, "The connection could not be changed")
			return
		}
		s.renderConnection(w, r, sess, http.StatusBadRequest, de, "")
		return
	}
	http.Redirect(w, r, "/connections/"+url.PathEscape(r.PathValue("connection"))+"?notice=edited", http.StatusSeeOther)
}

func (s *Console) renderConnection(w http.ResponseWriter, r *http.Request, sess *store.Session, status int, formErr *deskconn.Error, notice string) {
	c, err := s.m.Get(r.Context(), sess.TenantID, r.PathValue("connection"))
	if err != nil {
		s.renderDomainError(w, r, err, "The connection could not be shown")
		return
	}
	s.render(w, status, "connection.html", connectionData{
		CSRF: sess.CSRF, C: s.srv.View(r.Context(), c, true), Policies: action.EffectivePolicies(s.srv.Actions(), c.Policies),
		Presets: action.Presets, Health: s.srv.Health(r.Context(), c), FormError: formErr, Notice: notice,
	})
}

func (s *Console) webSetPolicies(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.checkForm(w, r)
	if !ok {
		return
	}
	actions := s.srv.Actions()
	var next map[string]string
	var err error
	if preset := r.PostForm.Get("preset"); preset != "" {
		next, err = action.PresetPolicies(preset, actions)
		if err != nil {
			err = deskconn.Invalid("unknown preset", deskconn.FieldError{Pointer: "Preset", Code: "invalid", Message: err.Error()})
		}
	} else {
		next = map[string]string{}
		for _, a := range actions {
			switch v := r.PostForm.Get("policy." + a.Name()); v {
			case "", "default":
			default:
				next[a.Name()] = v
			}
		}
		if err = action.CheckPolicies(actions, next, ""); err != nil {
			err = readableFields(err, func(ptr string) string { return "Policy of " + strings.TrimPrefix(ptr, "/") })
		}
	}
	if err == nil {
		_, err = s.m.SetPolicies(r.Context(), sess.TenantID, r.PathValue("connection"),
			func(map[string]string) (map[string]string, error) { return next, nil })
	}
	if err != nil {
		de := deskconn.AsError(err)
		if de.Code == deskconn.CodeNotFound || de.Code == deskconn.CodeInternal {
			s.renderDomainError(w, r, err, "The policies could not be saved")
			return
		}
		s.renderConnection(w, r, sess, restapi.StatusOf(de.Code), de, "")
		return
	}
	s.log.Info("policies changed on the web console", "tenant", sess.TenantID, "session", sessionID(sess.Hash), "connection", r.PathValue("connection"))
	http.Redirect(w, r, "/connections/"+url.PathEscape(r.PathValue("connection"))+"?notice=policies", http.StatusSeeOther)
}

// readableFields renames the JSON pointers of an invalid error's fields
// to what a person reads on the form.
func readableFields(err error, name func(ptr string) string) error {
	de := deskconn.AsError(err)
	if de.Code != deskconn.CodeInvalid {
		return err
	}
	out := *de
	out.Fields = nil
	for _, f := range de.Fields {
		f.Pointer = name(f.Pointer)
		out.Fields = append(out.Fields, f)
	}
	return &out
}

// ---- API keys ----

type keyRow struct {
	ID, Name, Prefix, Scope, State string
	Created, LastUsed, Expires     string
	Revoked                        bool
}

// grantRow is an MCP sign-in grant (internal/mcpauth), shown beside the
// API keys.
type grantRow struct {
	ID, Client, RedirectHost, Connection, Access, Created string
}

type keysData struct {
	CSRF        string
	Keys        []keyRow
	Grants      []grantRow
	Connections []string
	Form        keyForm
	FormError   *deskconn.Error
	NewKey      string // shown once, right after creation
	NewKeyName  string
	Notice      string
}

type keyForm struct {
	Name, Connection, Actions, Expires string
	ReadOnly                           bool
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func (s *Console) webKeys(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.signedInPage(w, r)
	if !ok {
		return
	}
	notice := ""
	switch r.URL.Query().Get("notice") {
	case "revoked":
		notice = "API key revoked: calls with it are refused from now on."
	case "grant-revoked":
		notice = "MCP sign-in revoked: its tokens are refused from now on; the client must sign in again."
	}
	s.renderKeys(w, r, sess, http.StatusOK, keysData{Notice: notice})
}

func (s *Console) renderKeys(w http.ResponseWriter, r *http.Request, sess *store.Session, status int, data keysData) {
	keys, err := s.srv.APIKeys().List(r.Context(), sess.TenantID)
	var cs []*store.Connection
	if err == nil {
		cs, err = s.m.List(r.Context(), sess.TenantID)
	}
	if err != nil {
		s.renderDomainError(w, r, err, "The API keys could not be listed")
		return
	}
	names := map[string]string{}
	for _, c := range cs {
		names[c.ID] = c.Name
		data.Connections = append(data.Connections, c.Name)
	}
	now := s.srv.Now()
	for _, k := range keys {
		sc := action.KeyScope{ReadOnly: k.ReadOnly, ConnectionID: k.ConnectionID, ConnectionName: names[k.ConnectionID], Actions: k.Actions}
		row := keyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scope: sc.String(), Created: stamp(k.CreatedAt), LastUsed: stamp(k.LastUsed), Expires: stamp(k.ExpiresAt), State: "active"}
		switch {
		case !k.RevokedAt.IsZero():
			row.State, row.Revoked = "revoked "+stamp(k.RevokedAt), true
		case !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(now):
			row.State = "expired"
		}
		data.Keys = append(data.Keys, row)
	}
	grants, err := s.st.ListMCPGrants(r.Context(), sess.TenantID)
	if err != nil {
		s.renderDomainError(w, r, err, "The MCP sign-ins could not be listed")
		return
	}
	for _, g := range grants {
		access := "full access"
		switch {
		case g.ReadOnly && g.Toolset != "":
			access = "read-only, toolset " + g.Toolset
		case g.ReadOnly:
			access = "read-only"
		case g.Toolset != "":
			access = "toolset " + g.Toolset
		}
		host := g.RedirectURI
		if u, err := url.Parse(g.RedirectURI); err == nil && u.Host != "" {
			host = u.Host
		}
		conn := names[g.ConnectionID]
		if conn == "" {
			conn = g.ConnectionID
		}
		client := g.ClientName
		if client == "" {
			client = g.ClientID
		}
		data.Grants = append(data.Grants, grantRow{ID: g.ID, Client: client, RedirectHost: host, Connection: conn, Access: access, Created: stamp(g.CreatedAt)})
	}
	data.CSRF = sess.CSRF
	s.render(w, status, "keys.html", data)
}

// parseExpiry parses "30d", "12h" or any Go duration.
func parseExpiry(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 100*365 {
			return 0, errors.New("bad number of days")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, errors.New("not a positive duration")
	}
	return d, nil
}

func (s *Console) webCreateKey(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.checkForm(w, r)
	if !ok {
		return
	}
	f := keyForm{Name: strings.TrimSpace(r.PostForm.Get("name")), Connection: r.PostForm.Get("connection"),
		Actions: r.PostForm.Get("actions"), Expires: strings.TrimSpace(r.PostForm.Get("expires")), ReadOnly: r.PostForm.Get("read_only") != ""}
	sc := apikey.Scope{ReadOnly: f.ReadOnly}
	var problems []deskconn.FieldError
	if f.Name == "" {
		problems = append(problems, deskconn.FieldError{Pointer: "Name", Code: "missing", Message: "give the key a name, e.g. the agent that will use it"})
	}
	if f.Connection != "" {
		c, err := s.m.Get(r.Context(), sess.TenantID, f.Connection)
		if err != nil {
			problems = append(problems, deskconn.FieldError{Pointer: "Connection", Code: "invalid", Message: "choose a connection from the list"})
		} else {
			sc.ConnectionID = c.ID
		}
	}
	cat := s.srv.Actions()
	for _, name := range strings.Split(f.Actions, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		i := slices.IndexFunc(cat, func(a *action.Action) bool { return a.Name() == name })
		switch {
		case i < 0:
			problems = append(problems, deskconn.FieldError{Pointer: "Actions", Code: "invalid", Message: "no action " + strconv.Quote(name) + ": use names from the policies table, separated by commas"})
		case f.ReadOnly && cat[i].IsWrite():
			problems = append(problems, deskconn.FieldError{Pointer: "Actions", Code: "invalid", Message: name + " changes data, which a read-only key can never run: leave it out or untick Read only"})
		case !slices.Contains(sc.Actions, name):
			sc.Actions = append(sc.Actions, name)
		}
	}
	if f.Expires != "" {
		d, err := parseExpiry(f.Expires)
		if err != nil {
			problems = append(problems, deskconn.FieldError{Pointer: "Expires after", Code: "invalid", Message: "give a duration such as 30d or 12h, or leave it empty for a key valid until revoked"})
		} else {
			sc.ExpiresAt = s.srv.Now().Add(d)
		}
	}
	if len(problems) > 0 {
		s.renderKeys(w, r, sess, http.StatusBadRequest, keysData{Form: f, FormError: deskconn.Invalid("the key could not be created", problems...)})
		return
	}
	key, k, err := s.srv.APIKeys().CreateScoped(r.Context(), sess.TenantID, f.Name, sc)
	if err != nil {
		de := deskconn.AsError(err)
		if de.Code != deskconn.CodeInvalid {
			s.renderDomainError(w, r, err, "The key could not be created")
			return
		}
		s.renderKeys(w, r, sess, http.StatusBadRequest, keysData{Form: f, FormError: deskconn.AsError(readableFields(err, fieldLabel))})
		return
	}
	s.log.Info("api key created on the web console", "tenant", sess.TenantID, "session", sessionID(sess.Hash), "api_key", k.ID)
	s.renderKeys(w, r, sess, http.StatusOK, keysData{NewKey: key.Reveal(), NewKeyName: k.Name})
}

// fieldLabel maps the pointers of domain errors to the labels of the
// console's forms.
func fieldLabel(ptr string) string {
	switch strings.TrimPrefix(ptr, "/") {
	case "name":
		return "Name"
	case "clientId":
		return "Client id"
	case "clientSecret":
		return "Client secret"
	case "scopes":
		return "Scopes"
	case "connection":
		return "Connection"
	case "actions":
		return "Actions"
	case "expires":
		return "Expires after"
	}
	if strings.HasPrefix(ptr, "/scopes/") {
		return "Scopes"
	}
	return strings.TrimPrefix(ptr, "/")
}

func (s *Console) webRevokeKey(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.checkForm(w, r)
	if !ok {
		return
	}
	if err := s.srv.APIKeys().Revoke(r.Context(), sess.TenantID, r.PathValue("id")); err != nil {
		s.renderDomainError(w, r, err, "The key could not be revoked")
		return
	}
	s.log.Info("api key revoked on the web console", "tenant", sess.TenantID, "session", sessionID(sess.Hash), "api_key", r.PathValue("id"))
	http.Redirect(w, r, "/keys?notice=revoked", http.StatusSeeOther)
}

// webRevokeGrant revokes an MCP sign-in grant: its access and refresh
// tokens are refused from then on (internal/mcpauth checks the grant).
func (s *Console) webRevokeGrant(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.checkForm(w, r)
	if !ok {
		return
	}
	err := s.st.RevokeMCPGrant(r.Context(), sess.TenantID, r.PathValue("id"), s.srv.Now())
	if errors.Is(err, store.ErrNotFound) {
		err = deskconn.Errorf(deskconn.CodeNotFound, "this MCP sign-in does not exist or was already revoked")
	}
	if err != nil {
		s.renderDomainError(w, r, err, "The MCP sign-in could not be revoked")
		return
	}
	s.log.Info("mcp grant revoked on the web console", "tenant", sess.TenantID, "session", sessionID(sess.Hash), "grant", r.PathValue("id"))
	http.Redirect(w, r, "/keys?notice=grant-revoked", http.StatusSeeOther)
}

// ---- Activity ----

type activityRow struct {
	Time, Who, Connection, Action, Outcome string
	OK                                     bool
	Detail                                 []detailPart
	ZohoRequestID                          string
}

// detailPart is a piece of an audit detail: text, or a Zoho object id
// linked to Zoho Desk.
type detailPart struct{ Text, Href string }

type activityData struct {
	Filter      store.AuditFilter
	Connection  string
	Rows        []activityRow
	Connections []string
	Keys        []keyRow
	Export      string // the export link for the same filters
	Next        string
}

// zohoObject finds the objects deskactions name in audit details
// ("ticket 1892000000042034 created").
var zohoObject = regexp.MustCompile(`\b(ticket|contact|account)s? ([0-9]{5,20})\b`)

// zohoModules are the Zoho Desk web app's module names for them.
var zohoModules = map[string]string{"ticket": "Cases", "contact": "Contacts", "account": "Accounts"}

// deskWebURL is the Zoho Desk web app of a connection's data centre: its
// API base without /api/v1 (https://desk.zoho.eu/api/v1 → https://desk.zoho.eu).
func deskWebURL(apiBase string) string {
	u, err := url.Parse(apiBase)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// linkDetail splits detail into text and links to the objects it names.
func linkDetail(detail, web string) []detailPart {
	if web == "" {
		return []detailPart{{Text: detail}}
	}
	var out []detailPart
	last := 0
	for _, m := range zohoObject.FindAllStringSubmatchIndex(detail, -1) {
		kind, id := detail[m[2]:m[3]], detail[m[4]:m[5]]
		out = append(out, detailPart{Text: detail[last:m[4]]},
			detailPart{Text: id, Href: web + "/support/ShowHomePage.do#" + zohoModules[kind] + "/dv/" + id})
		last = m[5]
	}
	return append(out, detailPart{Text: detail[last:]})
}

// activityFilter reads the activity filters from the query; the
// connection is given by name.
func (s *Console) activityFilter(r *http.Request, tenantID string, cs []*store.Connection) (store.AuditFilter, string) {
	q := r.URL.Query()
	f := store.AuditFilter{TenantID: tenantID, Action: strings.TrimSpace(q.Get("action")), Outcome: strings.TrimSpace(q.Get("outcome")), APIKeyID: q.Get("key"), Limit: 100}
	name := q.Get("connection")
	if name != "" {
		f.ConnectionID = "-" // an unknown name matches nothing
		for _, c := range cs {
			if c.Name == name {
				f.ConnectionID = c.ID
			}
		}
	}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		f.BeforeID = b
	}
	return f, name
}

func (s *Console) webActivity(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.signedInPage(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	cs, err := s.m.List(ctx, sess.TenantID)
	var keys []*store.APIKey
	if err == nil {
		keys, err = s.srv.APIKeys().List(ctx, sess.TenantID)
	}
	if err != nil {
		s.renderDomainError(w, r, err, "The activity could not be read")
		return
	}
	f, connName := s.activityFilter(r, sess.TenantID, cs)
	recs, err := s.st.ListAudit(ctx, f)
	if err != nil {
		s.renderDomainError(w, r, err, "The activity could not be read")
		return
	}
	byID := map[string]*store.Connection{}
	data := activityData{Filter: f, Connection: connName}
	for _, c := range cs {
		byID[c.ID] = c
		data.Connections = append(data.Connections, c.Name)
	}
	keyNames := map[string]string{}
	for _, k := range keys {
		keyNames[k.ID] = k.Name
		data.Keys = append(data.Keys, keyRow{ID: k.ID, Name: k.Name})
	}
	for _, rec := range recs {
		row := activityRow{Time: rec.Time.UTC().Format("2006-01-02 15:04:05Z"), Action: rec.Action, Outcome: rec.Outcome,
			OK: rec.Outcome == "ok" || rec.Outcome == "dry_run", ZohoRequestID: rec.ZohoRequestID, Who: "a person (CLI or console)"}
		if rec.APIKeyID != "" {
			row.Who = "key " + keyNames[rec.APIKeyID] + " (" + rec.APIKeyID + ")"
		}
		web := ""
		if c := byID[rec.ConnectionID]; c != nil {
			row.Connection, web = c.Name, deskWebURL(c.DeskBaseURL)
		} else {
			row.Connection = rec.ConnectionID
		}
		row.Detail = linkDetail(rec.Detail, web)
		data.Rows = append(data.Rows, row)
	}
	q := url.Values{}
	for _, k := range []string{"connection", "action", "outcome", "key"} {
		if v := r.URL.Query().Get(k); v != "" {
			q.Set(k, v)
		}
	}
	data.Export = "/activity/export?" + q.Encode()
	if len(recs) == f.Limit {
		q.Set("before", strconv.FormatInt(recs[len(recs)-1].ID, 10))
		data.Next = "/activity?" + q.Encode()
	}
	s.render(w, http.StatusOK, "activity.html", data)
}

// webActivityExport streams every record matching the filters as JSON
// lines (the same objects as GET /v1/audit), as a download, a page of the
// store at a time.
func (s *Console) webActivityExport(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.signedInPage(w, r)
	if !ok {
		return
	}
	cs, err := s.m.List(r.Context(), sess.TenantID)
	if err != nil {
		s.renderDomainError(w, r, err, "The activity could not be exported")
		return
	}
	names := map[string]string{}
	for _, c := range cs {
		names[c.ID] = c.Name
	}
	f, _ := s.activityFilter(r, sess.TenantID, cs)
	f.Limit = 1000
	enc := json.NewEncoder(w)
	wrote := false
	for {
		recs, err := s.st.ListAudit(r.Context(), f)
		if err != nil {
			if !wrote {
				s.renderDomainError(w, r, err, "The activity could not be exported")
				return
			}
			// Mid-stream the status is sent: end the file short, and log.
			s.log.Error("activity export cut short", "request_id", restapi.RequestID(r.Context()), "err", err)
			return
		}
		if !wrote {
			h := w.Header()
			h.Set("Content-Type", "application/x-ndjson")
			h.Set("Content-Disposition", `attachment; filename="deskconn-activity.jsonl"`)
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
			wrote = true
		}
		for _, rec := range recs {
			if err := enc.Encode(restapi.NewAuditView(rec, names)); err != nil {
				return // the browser went away
			}
		}
		if len(recs) < f.Limit {
			return
		}
		f.BeforeID = recs[len(recs)-1].ID
	}
}

// ---- Admins: invite links and sessions ----

type sessionRow struct {
	ID, Created, Expires string
	Current              bool
}

type adminsData struct {
	CSRF     string
	Sessions []sessionRow
	Invite   string // a new login link, shown once
	Notice   string
}

func (s *Console) webAdmins(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.signedInPage(w, r)
	if !ok {
		return
	}
	notice := ""
	if r.URL.Query().Get("notice") == "ended" {
		notice = "Session ended: that browser is signed out."
	}
	s.renderAdmins(w, r, sess, adminsData{Notice: notice})
}

func (s *Console) renderAdmins(w http.ResponseWriter, r *http.Request, sess *store.Session, data adminsData) {
	list, err := s.st.ListSessions(r.Context(), sess.TenantID, s.srv.Now())
	if err != nil {
		s.renderStoreError(w, r, err)
		return
	}
	for _, x := range list {
		data.Sessions = append(data.Sessions, sessionRow{ID: sessionID(x.Hash), Created: stamp(x.CreatedAt), Expires: stamp(x.ExpiresAt), Current: bytes.Equal(x.Hash, sess.Hash)})
	}
	data.CSRF = sess.CSRF
	s.render(w, http.StatusOK, "admins.html", data)
}

func (s *Console) webInvite(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.checkForm(w, r)
	if !ok {
		return
	}
	link, err := s.CreateLoginURL(r.Context(), sess.TenantID)
	if err != nil {
		s.renderStoreError(w, r, err)
		return
	}
	s.log.Info("login link created on the web console", "tenant", sess.TenantID, "session", sessionID(sess.Hash))
	s.renderAdmins(w, r, sess, adminsData{Invite: link})
}

func (s *Console) webEndSession(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.checkForm(w, r)
	if !ok {
		return
	}
	list, err := s.st.ListSessions(r.Context(), sess.TenantID, s.srv.Now())
	if err != nil {
		s.renderStoreError(w, r, err)
		return
	}
	i := slices.IndexFunc(list, func(x *store.Session) bool { return sessionID(x.Hash) == r.PathValue("id") })
	if i < 0 {
		s.renderError(w, r, http.StatusNotFound, "No such session", "That session has ended or expired already.", "Go back to the admins page.")
		return
	}
	if err := s.st.DeleteSession(r.Context(), list[i].Hash); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.renderStoreError(w, r, err)
		return
	}
	if bytes.Equal(list[i].Hash, sess.Hash) {
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.srv.Secure(), SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/admins?notice=ended", http.StatusSeeOther)
}
