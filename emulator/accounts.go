package emulator

import (
	"crypto/rand"

	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Zoho Accounts limits (§1.6).
const (
	codeTTL                = 2 * time.Minute
	tokenWindow            = 10 * time.Minute
	tokenRequestsPerWindow = 10
	maxRefreshPerUser      = 20
	maxActiveAccess        = 15
)

// tokenPrefixes are the leading digits of tokens and codes per DC. Zoho's
// tokens are "NNNN.<32 hex>.<32 hex>" where NNNN depends on the DC: us
// tokens start "1000." (Accounts docs; NANGO-REC) and a live desk.zoho.in
// token starts "1005." (SCOPE-REPORT, audit row 15). [GAP] The other DCs'
// prefixes are undocumented: the values below are our choice, distinct per
// DC so that nothing in deskconn can come to depend on "1000.".
var tokenPrefixes = map[string]string{
	"us": "1000", "in": "1005",
	"eu": "1001", "au": "1002", "jp": "1003", "ca": "1004", "sa": "1006",
	"sg": "1007", "ae": "1008", "uk": "1009", "cn": "1010",
}

// newToken returns a token shaped like Zoho's for DC location loc:
// NNNN.<32 hex>.<32 hex> (see tokenPrefixes; "1000" for an unknown DC).
func newToken(loc string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("emulator: crypto/rand: %v", err))
	}
	prefix, ok := tokenPrefixes[loc]
	if !ok {
		prefix = "1000"
	}
	return prefix + "." + hex.EncodeToString(b[:16]) + "." + hex.EncodeToString(b[16:])
}

func (e *Emulator) client(id string) (OAuthClient, bool) {
	for _, c := range e.opts.Clients {
		if c.ID == id {
			return c, true
		}
	}
	return OAuthClient{}, false
}

func (e *Emulator) serveAccounts(out *resp, r *http.Request, dc DataCenter) {
	switch {
	case r.URL.Path == "/oauth/v2/auth" && r.Method == http.MethodGet:
		e.authorize(out, r, dc)
	case r.URL.Path == "/oauth/v2/auth/consent" && r.Method == http.MethodPost:
		e.consent(out, r, dc)
	case r.URL.Path == "/oauth/v2/token" && r.Method == http.MethodPost:
		e.token(out, r, dc)
	case (r.URL.Path == "/oauth/v2/token/revoke" || r.URL.Path == "/oauth/v2/revoke/token") && r.Method == http.MethodPost:
		e.revoke(out, r)
	case r.URL.Path == "/oauth/serverinfo" && r.Method == http.MethodGet:
		e.serverInfo(out, r)
	default:
		notFound(out)
	}
}

func (e *Emulator) serverInfo(out *resp, r *http.Request) {
	locs := map[string]string{}
	if len(e.opts.DataCenters) == 0 {
		locs["us"] = e.baseURL(r, DataCenter{}, true)
	}
	for _, d := range e.opts.DataCenters {
		locs[d.Location] = "https://" + d.AccountsHost
	}
	out.json(http.StatusOK, map[string]any{"result": "success", "locations": locs})
}

// authParams are the validated /oauth/v2/auth parameters.
type authParams struct {
	Client                    OAuthClient
	RedirectURI, State, Scope string
	Scopes                    []string
	Offline, ForceConsent     bool
	User                      *user
}

// parseAuthParams validates an authorization request. A bad client or
// redirect URI is reported to the user, never redirected (RFC 6749 §4.1.2.1).
func (e *Emulator) parseAuthParams(q url.Values) (authParams, error) {
	var p authParams
	c, ok := e.client(q.Get("client_id"))
	if !ok {
		return p, errors.New("invalid_client: unknown client_id")
	}
	p.Client = c
	p.RedirectURI = q.Get("redirect_uri")
	if !contains(c.RedirectURIs, p.RedirectURI) {
		return p, errors.New("invalid_redirect_uri: redirect_uri is not registered for this client")
	}
	if q.Get("response_type") != "code" {
		return p, errors.New("unsupported_response_type: response_type must be code")
	}
	p.Scope = q.Get("scope")
	for _, s := range strings.Split(p.Scope, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !validScope(s) {
			return p, fmt.Errorf("invalid_scope: %q", s)
		}
		p.Scopes = append(p.Scopes, s)
	}
	if len(p.Scopes) == 0 {
		return p, errors.New("invalid_scope: no scope")
	}
	p.State = q.Get("state")
	p.Offline = q.Get("access_type") == "offline"
	p.ForceConsent = q.Get("prompt") == "consent"
	return p, nil
}

var consentPage = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Zoho Accounts - Authorize {{.App}}</title></head>
<body>
<h1 id="app-name">{{.App}}</h1>
<p id="user">Signed in as <span id="user-email">{{.User}}</span></p>
<p>{{.App}} would like to access:</p>
<ul id="scopes">{{range .Scopes}}<li class="scope">{{.}}</li>{{end}}</ul>
<form id="consent-form" method="POST" action="/oauth/v2/auth/consent">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}{{if gt (len .Orgs) 1}}<label for="org-picker">Organization</label>
<select id="org-picker" name="orgId">{{range .Orgs}}<option value="{{.ID}}">{{.Name}} ({{.ID}})</option>{{end}}</select>
{{else}}{{range .Orgs}}<input type="hidden" name="orgId" value="{{.ID}}"><p id="org-name">{{.Name}}</p>{{end}}{{end}}
<button type="submit" id="approve" name="approve" value="1">Accept</button>
<button type="submit" id="deny" name="deny" value="1">Deny</button>
</form></body></html>`))

func (e *Emulator) authorize(out *resp, r *http.Request, dc DataCenter) {
	q := r.URL.Query()
	p, err := e.parseAuthParams(q)
	if err != nil {
		authErrorPage(out, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	email := strings.ToLower(q.Get("login_hint"))
	if email == "" {
		email = e.opts.DefaultUser
	}
	u := e.st.users[email]
	if u == nil {
		authErrorPage(out, errors.New("invalid_user: no such Zoho user"))
		return
	}
	if e.opts.AutoConsent {
		orgID := u.Orgs[0]
		if e.opts.AutoConsentOrgID != "" && contains(u.Orgs, e.opts.AutoConsentOrgID) {
			orgID = e.opts.AutoConsentOrgID
		}
		e.issueCodeLocked(out, r, p, u, orgID)
		return
	}
	type orgOpt struct{ ID, Name string }
	var orgs []orgOpt
	for _, id := range u.Orgs {
		orgs = append(orgs, orgOpt{id, e.st.orgs[id].Name})
	}
	hidden := map[string]string{"client_id": p.Client.ID, "redirect_uri": p.RedirectURI, "scope": p.Scope,
		"state": p.State, "access_type": q.Get("access_type"), "prompt": q.Get("prompt"), "response_type": "code", "login_hint": email}
	var sb strings.Builder
	if err := consentPage.Execute(&sb, map[string]any{"App": p.Client.Name, "User": email, "Scopes": p.Scopes, "Orgs": orgs, "Hidden": hidden}); err != nil {
		panic(fmt.Sprintf("emulator: render consent page: %v", err))
	}
	out.status = http.StatusOK
	out.header.Set("Content-Type", "text/html; charset=utf-8")
	out.body = []byte(sb.String())
}

func authErrorPage(out *resp, err error) {
	out.status = http.StatusBadRequest
	out.header.Set("Content-Type", "text/html; charset=utf-8")
	code, _, _ := strings.Cut(err.Error(), ":")
	out.errorCode = code
	out.body = []byte("<!DOCTYPE html><html><body><h1 id=\"error\">" + template.HTMLEscapeString(err.Error()) + "</h1></body></html>")
}

func (e *Emulator) consent(out *resp, r *http.Request, dc DataCenter) {
	if err := r.ParseForm(); err != nil {
		authErrorPage(out, fmt.Errorf("invalid_request: %v", err))
		return
	}
	p, err := e.parseAuthParams(r.PostForm)
	if err != nil {
		authErrorPage(out, err)
		return
	}
	if r.PostForm.Get("approve") == "" {
		redirectWith(out, p.RedirectURI, url.Values{"error": {"access_denied"}, "state": {p.State}})
		out.errorCode = "access_denied"
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.st.users[strings.ToLower(r.PostForm.Get("login_hint"))]
	if u == nil {
		authErrorPage(out, errors.New("invalid_user: no such Zoho user"))
		return
	}
	orgID := r.PostForm.Get("orgId")
	if !contains(u.Orgs, orgID) {
		authErrorPage(out, errors.New("invalid_org: the user is not a member of that organization"))
		return
	}
	e.issueCodeLocked(out, r, p, u, orgID)
}

func (e *Emulator) issueCodeLocked(out *resp, r *http.Request, p authParams, u *user, orgID string) {
	o := e.st.orgs[orgID]
	dc, _ := e.dcByLocation(o.Location)
	c := &authCode{Code: newToken(o.Location), ClientID: p.Client.ID, RedirectURI: p.RedirectURI, User: u.Email, OrgID: orgID,
		Location: o.Location, Scopes: p.Scopes, Offline: p.Offline, ForceConsent: p.ForceConsent, Expires: e.now().Add(codeTTL)}
	e.st.codes[c.Code] = c
	redirectWith(out, p.RedirectURI, url.Values{"code": {c.Code}, "state": {p.State}, "location": {o.Location},
		"accounts-server": {e.baseURL(r, dc, true)}})
}

func redirectWith(out *resp, target string, params url.Values) {
	u, err := url.Parse(target)
	if err != nil { // registered URIs were validated as exact strings; keep going
		u = &url.URL{Path: target}
	}
	q := u.Query()
	for k, v := range params {
		if len(v) == 1 && v[0] == "" && k == "state" {
			continue
		}
		q[k] = v
	}
	u.RawQuery = q.Encode()
	out.status = http.StatusFound
	out.header.Set("Location", u.String())
}

// tokenParams merges query and form parameters (Zoho accepts both).
func tokenParams(r *http.Request) url.Values {
	v := r.URL.Query()
	if err := r.ParseForm(); err == nil {
		for k, vals := range r.PostForm {
			v[k] = vals
		}
	}
	return v
}

// The token endpoint's throttle answer, quoted from a live Zoho answer
// (THROTTLE-DOC; five other public projects quote the same message).
const (
	throttleError       = "Access Denied"
	throttleDescription = "You have made too many requests continuously. Please try again after some time."
)

func oauthError(out *resp, code string) {
	out.json(http.StatusOK, map[string]string{"error": code}) // Zoho answers grant errors with 200
	out.errorCode = code
}

func (e *Emulator) token(out *resp, r *http.Request, dc DataCenter) {
	p := tokenParams(r)
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.client(p.Get("client_id"))
	if !ok {
		oauthError(out, "invalid_client")
		return
	}
	if p.Get("client_secret") != c.Secret {
		oauthError(out, "invalid_client_secret")
		return
	}
	now := e.now()
	switch p.Get("grant_type") {
	case "authorization_code":
		e.counters.CodeExchanges++
		code := e.st.codes[p.Get("code")]
		if code == nil || code.Used || now.After(code.Expires) || code.ClientID != c.ID || code.Location != dc.Location {
			oauthError(out, "invalid_code")
			return
		}
		if p.Get("redirect_uri") != code.RedirectURI {
			oauthError(out, "invalid_redirect_uri")
			return
		}
		code.Used = true
		body := map[string]any{"api_domain": apiDomain(dc), "token_type": "Bearer", "expires_in": int(e.opts.AccessTokenTTL / time.Second)}
		var rt *refreshToken
		key := code.User + "|" + c.ID
		if code.Offline && (code.ForceConsent || !e.st.consents[key]) {
			rt = e.newRefreshLocked(c.ID, code.User, code.OrgID, code.Location, code.Scopes)
			body["refresh_token"] = rt.Token
		}
		e.st.consents[key] = true
		at := e.newAccessLocked(c.ID, code.User, code.OrgID, code.Location, code.Scopes, rt)
		body["access_token"] = at.Token
		out.json(http.StatusOK, body)
	case "refresh_token":
		tok := p.Get("refresh_token")
		rt := e.st.refresh[tok]
		if rt != nil {
			e.counters.TokenRequests[tok]++
		}
		if rt == nil || rt.ClientID != c.ID || rt.Location != dc.Location {
			oauthError(out, "invalid_code")
			return
		}
		// Throttle: 10 token requests per 10 minutes per refresh token,
		// answered as Zoho does (THROTTLE-DOC, audit row 9): HTTP 400 with
		// error "Access Denied", error_description and status "failure".
		kept := rt.requests[:0]
		for _, t := range rt.requests {
			if now.Sub(t) < tokenWindow {
				kept = append(kept, t)
			}
		}
		rt.requests = kept
		if len(rt.requests) >= tokenRequestsPerWindow {
			out.json(http.StatusBadRequest, map[string]string{"error": throttleError,
				"error_description": throttleDescription, "status": "failure"})
			out.errorCode = throttleError
			return
		}
		rt.requests = append(rt.requests, now)
		at := e.newAccessLocked(c.ID, rt.User, rt.OrgID, rt.Location, rt.Scopes, rt)
		out.json(http.StatusOK, map[string]any{"access_token": at.Token, "api_domain": apiDomain(dc), "token_type": "Bearer", "expires_in": int(e.opts.AccessTokenTTL / time.Second)})
	default:
		oauthError(out, "unsupported_grant_type")
	}
}

func apiDomain(dc DataCenter) string {
	if dc.AccountsHost == "" {
		return "https://www.zohoapis.com"
	}
	return "https://" + strings.Replace(dc.AccountsHost, "accounts.zoho", "www.zohoapis", 1)
}

// newRefreshLocked mints a refresh token, evicting the user's oldest for
// this client beyond 20 (and that token's access tokens).
func (e *Emulator) newRefreshLocked(clientID, email, orgID, loc string, scopes []string) *refreshToken {
	var mine []*refreshToken
	for _, rt := range e.st.refresh {
		if rt.ClientID == clientID && rt.User == email {
			mine = append(mine, rt)
		}
	}
	for len(mine) >= maxRefreshPerUser {
		oldest := 0
		for i, rt := range mine {
			if rt.Created.Before(mine[oldest].Created) {
				oldest = i
			}
		}
		e.revokeRefreshLocked(mine[oldest])
		mine = append(mine[:oldest], mine[oldest+1:]...)
	}
	rt := &refreshToken{Token: newToken(loc), ClientID: clientID, User: email, OrgID: orgID, Location: loc, Scopes: scopes, Created: e.now()}
	// Creation order must be strict even when the clock stands still.
	for _, other := range mine {
		if !rt.Created.After(other.Created) {
			rt.Created = other.Created.Add(time.Nanosecond)
		}
	}
	e.st.refresh[rt.Token] = rt
	return rt
}

func (e *Emulator) newAccessLocked(clientID, email, orgID, loc string, scopes []string, rt *refreshToken) *accessToken {
	at := &accessToken{Token: newToken(loc), ClientID: clientID, User: email, OrgID: orgID, Location: loc, Scopes: scopes, Expires: e.now().Add(e.opts.AccessTokenTTL)}
	if rt != nil {
		at.Refresh = rt.Token
		rt.access = append(rt.access, at.Token)
		if len(rt.access) > maxActiveAccess { // the 16th kills the oldest
			delete(e.st.access, rt.access[0])
			rt.access = rt.access[1:]
		}
	}
	e.st.access[at.Token] = at
	return at
}

func (e *Emulator) revokeRefreshLocked(rt *refreshToken) {
	for _, a := range rt.access {
		delete(e.st.access, a)
	}
	delete(e.st.refresh, rt.Token)
}

// revoke serves both documented forms: POST /oauth/v2/token/revoke?token=
// and POST /oauth/v2/revoke/token with Basic client auth + token, token_type.
func (e *Emulator) revoke(out *resp, r *http.Request) {
	p := tokenParams(r)
	tok := p.Get("token")
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.URL.Path == "/oauth/v2/revoke/token" {
		id, secret, ok := r.BasicAuth()
		c, known := e.client(id)
		if !ok || !known || c.Secret != secret {
			out.json(http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			out.errorCode = "invalid_client"
			return
		}
	}
	if rt := e.st.refresh[tok]; rt != nil && p.Get("token_type") != "access_token" {
		e.revokeRefreshLocked(rt)
		out.json(http.StatusOK, map[string]string{"status": "success"})
		return
	}
	if at := e.st.access[tok]; at != nil && p.Get("token_type") != "refresh_token" {
		delete(e.st.access, tok)
		out.json(http.StatusOK, map[string]string{"status": "success"})
		return
	}
	out.json(http.StatusBadRequest, map[string]string{"error": "invalid_token"})
	out.errorCode = "invalid_token"
}

// MintToken issues a refresh token and an access token for userEmail bound
// to orgID, as if the user had consented to clientID with scopes. It skips
// the browser and does not count as a consent (a later real consent still
// gets its first-consent refresh token); errors name the bad input.
func (e *Emulator) MintToken(clientID, userEmail, orgID string, scopes []string) (refresh, access string, err error) {
	if _, ok := e.client(clientID); !ok {
		return "", "", fmt.Errorf("mint token: unknown client %q", clientID)
	}
	for _, s := range scopes {
		if !validScope(s) {
			return "", "", fmt.Errorf("mint token: invalid scope %q", s)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.st.users[strings.ToLower(userEmail)]
	if u == nil {
		return "", "", fmt.Errorf("mint token: unknown user %q", userEmail)
	}
	if !contains(u.Orgs, orgID) {
		return "", "", fmt.Errorf("mint token: user %q is not in org %q", userEmail, orgID)
	}
	loc := e.st.orgs[orgID].Location
	rt := e.newRefreshLocked(clientID, u.Email, orgID, loc, scopes)
	at := e.newAccessLocked(clientID, u.Email, orgID, loc, scopes, rt)
	return rt.Token, at.Token, nil
}

// ExpireAccessTokens makes every issued access token expired; refresh tokens
// keep working.
func (e *Emulator) ExpireAccessTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	past := e.now().Add(-time.Second)
	for _, at := range e.st.access {
		at.Expires = past
	}
}
