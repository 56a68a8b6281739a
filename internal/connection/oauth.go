package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// AuthorizeURL starts the connect flow for the tenant's connection: it
// stores a fresh single-use state (256 random bits, only its hash is kept,
// bound to the tenant and connection, valid StateTTL) and returns the Zoho
// authorize URL at the entry region's accounts server, with
// access_type=offline and prompt=consent. redirectTo is kept with the state
// and returned by Callback (where the web page sends the person after).
func (m *Manager) AuthorizeURL(ctx context.Context, tenantID, idOrName, redirectTo string) (string, error) {
	return m.authorizeURL(ctx, tenantID, idOrName, redirectTo, false)
}

// rebindMark prefixes the stored RedirectTo of a flow that may bind the
// connection to another organisation (kept in the state, so no other
// column is needed).
const rebindMark = "rebind:"

// AuthorizeURLRebind is AuthorizeURL for a reconnect the admin explicitly
// allowed to bind the connection to another organisation than the one it
// is bound to; the rebinding is audited. A plain reconnect keeps the
// organisation and refuses consent for another one (ErrOtherOrg).
func (m *Manager) AuthorizeURLRebind(ctx context.Context, tenantID, idOrName, redirectTo string) (string, error) {
	return m.authorizeURL(ctx, tenantID, idOrName, redirectTo, true)
}

func (m *Manager) authorizeURL(ctx context.Context, tenantID, idOrName, redirectTo string, rebind bool) (string, error) {
	if rebind {
		redirectTo = rebindMark + redirectTo
	}
	c, err := m.Get(ctx, tenantID, idOrName)
	if err != nil {
		return "", err
	}
	state, err := randomToken(32)
	if err != nil {
		return "", fmt.Errorf("authorize url: %w", err)
	}
	now := m.opts.Now()
	st := &store.OAuthState{
		Hash:         hashState(state),
		TenantID:     tenantID,
		ConnectionID: c.ID,
		RedirectTo:   redirectTo,
		CreatedAt:    now,
		ExpiresAt:    now.Add(m.opts.StateTTL),
	}
	if err := m.opts.Store.CreateOAuthState(ctx, st); err != nil {
		return "", fmt.Errorf("authorize url: store state: %w", err)
	}
	entry, _ := m.opts.Regions.ByLocation(m.opts.EntryLocation) // checked in New
	return m.authCodeURL(entry, c, state), nil
}

// CallbackResult is the outcome of a successful callback.
type CallbackResult struct {
	Connection *store.Connection
	// RedirectTo is the value given to AuthorizeURL.
	RedirectTo string
}

// Callback completes the connect flow with the query Zoho redirected to the
// callback with. It consumes the state (single use), refuses a denied
// consent, an expired or unknown state and an accounts server outside the
// regions table (before any secret is sent), exchanges the code at the
// user's accounts server, takes the Desk base from the regions table (never
// api_domain), lists the accessible organisations (falling back to all
// organisations), and runs the self-test. One organisation becomes the
// default and the connection active; several leave it choose_org for the
// person to pick. A reconnect revokes the superseded refresh token.
//
// Every failure returns a *deskconn.Error whose cause matches one of
// ErrConsentDenied, ErrStateInvalid, ErrStateExpired,
// ErrUnknownAccountsServer or ErrZoho, and leaves the connection as it was.
// A failure after the state was read also returns the (unchanged)
// connection in the result, so a page can offer to try again.
func (m *Manager) Callback(ctx context.Context, q url.Values) (*CallbackResult, error) {
	state := q.Get("state")
	if state == "" || len(state) > 512 {
		return nil, &deskconn.Error{Code: deskconn.CodeInvalid, Message: "the sign-in link has no valid state; start again with Connect", Err: ErrStateInvalid}
	}
	st, err := m.opts.Store.ConsumeOAuthState(ctx, hashState(state))
	if errors.Is(err, store.ErrNotFound) {
		return nil, &deskconn.Error{Code: deskconn.CodeInvalid, Message: "this sign-in link was already used or is unknown; start again with Connect", Err: ErrStateInvalid}
	}
	if err != nil {
		return nil, fmt.Errorf("oauth callback: consume state: %w", err)
	}
	c, err := m.opts.Store.GetConnection(ctx, st.TenantID, st.ConnectionID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, &deskconn.Error{Code: deskconn.CodeNotFound, Message: "the connection was deleted while signing in", Err: ErrStateInvalid}
		}
		return nil, fmt.Errorf("oauth callback: %w", err)
	}
	redirectTo, rebind := strings.CutPrefix(st.RedirectTo, rebindMark)
	res := &CallbackResult{Connection: c, RedirectTo: redirectTo}
	if !m.opts.Now().Before(st.ExpiresAt) {
		return res, &deskconn.Error{Code: deskconn.CodeInvalid, Message: fmt.Sprintf("the sign-in for %q took longer than %s; start again with Connect", c.Name, m.opts.StateTTL), Err: ErrStateExpired}
	}
	if e := q.Get("error"); e != "" {
		if e == "access_denied" {
			return res, &deskconn.Error{Code: deskconn.CodeForbidden, Message: fmt.Sprintf("access was denied on Zoho's consent page, so %q was not connected; click Connect again and choose Accept", c.Name), Err: ErrConsentDenied}
		}
		return res, &deskconn.Error{Code: deskconn.CodeInvalid, Message: fmt.Sprintf("Zoho returned the error %q instead of a code; check the client id, redirect URL and scopes, then connect again", safeCode(e)), Err: ErrZoho}
	}
	code := q.Get("code")
	if code == "" {
		return res, &deskconn.Error{Code: deskconn.CodeInvalid, Message: "Zoho returned no authorization code; connect again", Err: ErrZoho}
	}
	region, err := m.checkRegion(q.Get("location"), q.Get("accounts-server"))
	if err != nil {
		return res, err
	}
	secret, err := m.open(c.ID, colClientSecret, c.SealedClientSecret)
	if err != nil {
		return res, fmt.Errorf("oauth callback: %w", err)
	}
	tok, err := m.exchange(ctx, region, c, secret, code)
	if err != nil {
		msg := fmt.Sprintf("Zoho refused the sign-in for %q (%s); check the client id and secret for the %s data centre and connect again", c.Name, zohoReason(err), region.Location)
		if errors.Is(err, zohodesk.ErrInvalidClient) {
			msg = fmt.Sprintf("Zoho refused the sign-in for %q (%s) in the %s data centre: %s; then connect again", c.Name, zohoReason(err), region.Location, zohodesk.MultiDCAdvice)
		}
		return res, &deskconn.Error{Code: deskconn.CodeForbidden, Message: msg, Err: errors.Join(ErrZoho, err)}
	}
	if tok.RefreshToken == "" {
		return res, &deskconn.Error{Code: deskconn.CodeForbidden, Message: "Zoho issued no refresh token (access_type=offline with prompt=consent is required); connect again", Err: ErrZoho}
	}
	next, err := m.connected(ctx, c, region, tok, rebind)
	if err != nil {
		// Nothing was saved: give the unused refresh token back to Zoho so
		// it does not count against the user's 20.
		if rerr := m.revokeAt(context.WithoutCancel(ctx), region, c, secret, tok.RefreshToken); rerr != nil {
			m.log.Warn("revoke unused refresh token", "connection", c.ID, "err", rerr)
		}
		return res, err
	}
	// The new tokens are saved; the superseded refresh token is revoked.
	m.revokeStored(context.WithoutCancel(ctx), c)
	m.forget(c.ID)
	m.log.Info("connection connected", "tenant", c.TenantID, "connection", c.ID, "location", next.Location, "status", next.Status, "org", next.OrgID)
	m.activated(ctx, next)
	res.Connection = next
	return res, nil
}

// checkRegion finds the region of the callback's accounts server in the
// regions table; location, when given, must agree with it.
func (m *Manager) checkRegion(location, accountsServer string) (zohodesk.Region, error) {
	if accountsServer == "" {
		// [GAP] Zoho documents both parameters; a callback with only a
		// location is resolved through the table, never through the URL.
		if r, err := m.opts.Regions.ByLocation(location); err == nil && location != "" {
			return r, nil
		}
		return zohodesk.Region{}, &deskconn.Error{Code: deskconn.CodeForbidden, Message: "Zoho's answer named no accounts server; connect again", Err: ErrUnknownAccountsServer}
	}
	r, err := m.opts.Regions.ByAccountsServer(accountsServer)
	if err != nil {
		return zohodesk.Region{}, &deskconn.Error{Code: deskconn.CodeForbidden, Message: "the sign-in named an accounts server that is not a known Zoho data centre, so nothing was sent to it; if you use a Zoho data centre deskconn does not list, report it", Err: ErrUnknownAccountsServer}
	}
	if location != "" && !strings.EqualFold(location, r.Location) {
		return zohodesk.Region{}, &deskconn.Error{Code: deskconn.CodeForbidden, Message: "the sign-in's location does not match its accounts server, so nothing was sent; connect again", Err: ErrUnknownAccountsServer}
	}
	if r.DeskAPIBase == "" {
		return zohodesk.Region{}, &deskconn.Error{Code: deskconn.CodeForbidden, Message: fmt.Sprintf("the Zoho account is in the %s data centre, where Zoho runs no Zoho Desk; sign in with a Desk account", r.Name), Err: ErrUnknownAccountsServer}
	}
	return r, nil
}

// connected runs the post-exchange steps (organisations, self-test) with
// the fresh tokens and saves the connection in one update. On error nothing
// is saved.
func (m *Manager) connected(ctx context.Context, c *store.Connection, region zohodesk.Region, tok *zohodesk.Token, rebind bool) (*store.Connection, error) {
	client, err := m.newDeskClient(region.DeskAPIBase, zohodesk.StaticToken(tok.AccessToken))
	if err != nil {
		return nil, fmt.Errorf("oauth callback: %w", err)
	}
	orgs, _, err := client.Organizations.ListAccessible(ctx)
	if err != nil || len(orgs) == 0 {
		// [GAP] accessibleOrganizations is documented for Desk tokens; an
		// account where it fails or is empty falls back to every
		// organisation the user belongs to.
		orgs, _, err = client.Organizations.List(ctx)
	}
	if err != nil {
		return nil, &deskconn.Error{Code: deskconn.CodeUnavailable, Message: fmt.Sprintf("signed in, but listing the Zoho Desk organisations failed (%s); connect again", zohoReason(err)), Err: errors.Join(ErrZoho, err)}
	}
	if len(orgs) == 0 {
		return nil, &deskconn.Error{Code: deskconn.CodeForbidden, Message: "this Zoho user belongs to no Zoho Desk organisation; sign in with a Desk user", Err: ErrZoho}
	}
	// A connection bound to an organisation stays bound to it: a reconnect
	// by a user who reaches it keeps it; one who does not is refused,
	// unless the admin chose to rebind.
	rebound := ""
	if c.OrgID != "" {
		if i := slices.IndexFunc(orgs, func(o *zohodesk.Organization) bool { return o.ID == c.OrgID }); i >= 0 {
			orgs = orgs[i : i+1]
		} else if !rebind {
			names := make([]string, len(orgs))
			for i, o := range orgs {
				names[i] = orgName(o) + " (" + o.ID + ")"
			}
			return nil, &deskconn.Error{Code: deskconn.CodeConflict, Err: ErrOtherOrg, Message: fmt.Sprintf(
				"%q is bound to the organisation %s (%s), which this Zoho user cannot reach (it reaches %s); nothing was changed. Sign in on Zoho as a user of %s, or rebind it: \"Reconnect to another organisation\" on its page, deskconn connections connect %s --rebind, or POST .../connect with {\"rebind\": true}",
				c.Name, c.OrgName, c.OrgID, strings.Join(names, ", "), c.OrgName, c.Name)}
		} else {
			rebound = fmt.Sprintf("rebound from organisation %s (%s)", c.OrgName, c.OrgID)
			if len(orgs) == 1 {
				rebound += fmt.Sprintf(" to %s (%s)", orgName(orgs[0]), orgs[0].ID)
			}
		}
	}
	next := *c
	next.Location = region.Location
	next.AccountsServer = region.AccountsURL
	next.DeskBaseURL = region.DeskAPIBase
	next.TokenRequests = nil
	next.LastError = ""
	next.OrgID, next.OrgName, next.OrgChoices = "", "", nil
	next.UserID, next.UserEmail, next.UserName = "", "", ""
	if len(orgs) == 1 {
		next.OrgID, next.OrgName = orgs[0].ID, orgName(orgs[0])
		if err := m.selfTest(ctx, client, &next); err != nil {
			return nil, err
		}
		next.Status = store.StatusActive
	} else {
		choices := make([]OrgChoice, len(orgs))
		for i, o := range orgs {
			choices[i] = OrgChoice{ID: o.ID, Name: orgName(o)}
		}
		b, err := json.Marshal(choices)
		if err != nil {
			return nil, fmt.Errorf("oauth callback: %w", err)
		}
		next.OrgChoices = b
		next.Status = store.StatusChooseOrg
	}
	if next.SealedRefreshToken, err = m.seal(c.ID, colRefreshToken, tok.RefreshToken); err != nil {
		return nil, fmt.Errorf("oauth callback: %w", err)
	}
	if next.SealedAccessToken, err = m.seal(c.ID, colAccessToken, tok.AccessToken); err != nil {
		return nil, fmt.Errorf("oauth callback: %w", err)
	}
	next.AccessExpiry = m.expiry(tok)
	if err := m.opts.Store.UpdateConnection(ctx, &next); err != nil {
		return nil, fmt.Errorf("oauth callback: save connection: %w", err)
	}
	if rebound != "" {
		// The admin chose this; the audit says who the connection now
		// serves. A failure to audit is logged: the tokens are saved.
		if err := m.opts.Store.AppendAudit(ctx, &store.AuditRecord{Time: m.opts.Now(), TenantID: c.TenantID, ConnectionID: c.ID,
			Action: "connection.rebind", Outcome: "ok", Detail: rebound}); err != nil {
			m.log.Error("audit the rebinding of a connection", "connection", c.ID, "err", err)
		}
	}
	return &next, nil
}

// selfTest calls GET /myinfo in c's org and records who the token belongs to.
func (m *Manager) selfTest(ctx context.Context, client *zohodesk.Client, c *store.Connection) error {
	me, _, err := client.MyInfo(ctx, c.OrgID, nil)
	if err != nil {
		return &deskconn.Error{Code: deskconn.CodeUnavailable, Message: fmt.Sprintf("signed in, but the self-test (GET /myinfo) failed (%s); check the scopes include Desk.basic.READ and connect again", zohoReason(err)), Err: errors.Join(ErrZoho, err)}
	}
	c.UserID = me.ID
	c.UserEmail = me.EmailID
	c.UserName = strings.TrimSpace(me.FirstName + " " + me.LastName)
	if c.UserName == "" {
		c.UserName = me.Name
	}
	return nil
}

// ChooseOrg binds orgID (one of the offered choices) as the connection's
// default organisation, runs the self-test there and activates it.
func (m *Manager) ChooseOrg(ctx context.Context, tenantID, idOrName, orgID string) (*store.Connection, error) {
	c, err := m.Get(ctx, tenantID, idOrName)
	if err != nil {
		return nil, err
	}
	var pick *OrgChoice
	for _, o := range OrgChoices(c) {
		if o.ID == orgID {
			pick = &o
			break
		}
	}
	if c.Status != store.StatusChooseOrg && c.Status != store.StatusActive || pick == nil {
		return nil, deskconn.Invalid("that organisation cannot be chosen", deskconn.FieldError{Pointer: "/orgId", Code: "invalid", Message: "pick one of the organisations listed for this connection"})
	}
	client, _, err := m.client(c)
	if err != nil {
		return nil, err
	}
	next := *c
	next.OrgID, next.OrgName = pick.ID, pick.Name
	if err := m.selfTest(ctx, client, &next); err != nil {
		return nil, err
	}
	// Re-read: the token source may have refreshed meanwhile.
	var out *store.Connection
	err = m.opts.Store.WithRefreshLock(ctx, c.ID, func(ctx context.Context) error {
		cur, err := m.opts.Store.GetConnection(ctx, tenantID, c.ID)
		if err != nil {
			return err
		}
		cur.OrgID, cur.OrgName = next.OrgID, next.OrgName
		cur.UserID, cur.UserEmail, cur.UserName = next.UserID, next.UserEmail, next.UserName
		cur.Status = store.StatusActive
		if err := m.opts.Store.UpdateConnection(ctx, cur); err != nil {
			return err
		}
		out = cur
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("choose org: %w", err)
	}
	m.activated(ctx, out)
	return out, nil
}

func orgName(o *zohodesk.Organization) string {
	if o.CompanyName != "" {
		return o.CompanyName
	}
	if o.PortalName != "" {
		return o.PortalName
	}
	return o.ID
}

// safeCode keeps an OAuth error code printable and short.
func safeCode(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '?'
	}, s)
}
