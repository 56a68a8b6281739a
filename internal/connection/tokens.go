package connection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// Client returns a Desk client for the tenant's connection (by id or name)
// whose token source is persisted and coordinated (see Token and Refresh),
// and the connection as read. A connection that needs re-authorisation
// fails fast with a needs_reauth *deskconn.Error; one never connected is
// invalid.
func (m *Manager) Client(ctx context.Context, tenantID, idOrName string) (*zohodesk.Client, *store.Connection, error) {
	c, err := m.Get(ctx, tenantID, idOrName)
	if err != nil {
		return nil, nil, err
	}
	return m.client(c)
}

// ClientOf is Client for a connection the caller has just read with Get (an
// HTTP request that resolved its connection once): it does not read the
// store again, so the connection is exactly as fresh as that read.
func (m *Manager) ClientOf(c *store.Connection) (*zohodesk.Client, *store.Connection, error) {
	return m.client(c)
}

func (m *Manager) client(c *store.Connection) (*zohodesk.Client, *store.Connection, error) {
	switch c.Status {
	case store.StatusNeedsReauth:
		return nil, c, needsReauth(c)
	case store.StatusPending:
		return nil, c, deskconn.Errorf(deskconn.CodeInvalid, "connection %q is not connected yet: connect it from the connect page or with `deskconn connections connect %s`", c.Name, c.Name)
	}
	client, err := m.newDeskClient(c.DeskBaseURL, &TokenSource{m: m, tenantID: c.TenantID, connID: c.ID})
	if err != nil {
		return nil, c, fmt.Errorf("desk client: %w", err)
	}
	return client, c, nil
}

// TokenSource returns the persisted token source of the tenant's
// connection with this id (the one Client installs). It does not check the
// connection exists: Token and Refresh report not_found.
func (m *Manager) TokenSource(tenantID, connectionID string) *TokenSource {
	return &TokenSource{m: m, tenantID: tenantID, connID: connectionID}
}

func needsReauth(c *store.Connection) *deskconn.Error {
	return deskconn.Errorf(deskconn.CodeNeedsReauth, "connection %q must be reconnected (Zoho no longer accepts its refresh token): open the connect page and click Reconnect, or run `deskconn connections connect %s`", c.Name, c.Name)
}

// invalidClientMessage explains an "invalid_client" answer: Zoho gives it
// also when the connection's data centre is not enabled for the client, which
// a reconnect alone does not fix (zohodesk.MultiDCAdvice).
func invalidClientMessage(c *store.Connection) string {
	return fmt.Sprintf("Zoho refused the OAuth client of connection %q in the %s data centre: %s; then reconnect it on the connect page, or run `deskconn connections connect %s`", c.Name, c.Location, zohodesk.MultiDCAdvice, c.Name)
}

// TokenSource is the persisted zohodesk.TokenSource of one connection. All
// TokenSources of a Manager share its cache and single-flight group, and the
// store's refresh lock coordinates them with other processes.
type TokenSource struct {
	m        *Manager
	tenantID string
	connID   string
}

// Token returns an access token valid for at least RefreshAhead, refreshing
// it when needed: at most one refresh per connection runs at a time in this
// process, and the store lock plus a re-read make it one across processes.
func (ts *TokenSource) Token(ctx context.Context) (string, error) {
	if tok, ok := ts.m.cached(ts.connID); ok {
		return tok, nil
	}
	return ts.m.fresh(ctx, ts.tenantID, ts.connID, "")
}

// Refresh is called when Desk refused stale (401 INVALID_OAUTH). When the
// stored token already differs from stale (someone refreshed), it returns
// the stored one without calling Zoho; otherwise it refreshes once, shared
// by every concurrent caller with the same stale token.
func (ts *TokenSource) Refresh(ctx context.Context, stale string) (string, error) {
	ts.m.mu.Lock()
	if ct, ok := ts.m.cache[ts.connID]; ok && ct.token == stale {
		delete(ts.m.cache, ts.connID)
	}
	ts.m.mu.Unlock()
	if stale == "" {
		stale = "\x00" // never equal to a stored token: force a refresh
	}
	return ts.m.fresh(ctx, ts.tenantID, ts.connID, stale)
}

// Warm caches c's stored access token when it stays valid for longer than
// RefreshAhead, as the first Token call would after reading it under the
// refresh lock: a new process (deskconn mcp) that has just read its
// connection answers its first call without taking that lock (a store
// write) or reading the connection again. It never calls Zoho: a token that
// is missing, expiring or cannot be opened is left to the first call.
func (m *Manager) Warm(c *store.Connection) {
	if c.Status != store.StatusActive || len(c.SealedAccessToken) == 0 || !m.opts.Now().Add(m.opts.RefreshAhead).Before(c.AccessExpiry) {
		return
	}
	tok, err := m.open(c.ID, colAccessToken, c.SealedAccessToken)
	if err != nil {
		return // the first call reports it
	}
	m.remember(c.ID, tok, c.AccessExpiry)
}

func (m *Manager) cached(connID string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ct, ok := m.cache[connID]
	if !ok || !m.opts.Now().Add(m.opts.RefreshAhead).Before(ct.expiry) {
		return "", false
	}
	return ct.token, true
}

// fresh returns a usable access token, sharing one flight per connection
// and stale token. The flight runs detached from any one caller's context
// (each caller still stops waiting when its own ctx ends).
func (m *Manager) fresh(ctx context.Context, tenantID, connID, stale string) (string, error) {
	ch := m.group.DoChan(connID+"\x00"+stale, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshFlightTimeout)
		defer cancel()
		return m.refreshLocked(fctx, tenantID, connID, stale)
	})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	}
}

// refreshLocked takes the deployment-wide refresh lock, re-reads the
// connection and refreshes only when the stored token is still not usable
// (or equals stale). It spends the token budget before calling Zoho.
func (m *Manager) refreshLocked(ctx context.Context, tenantID, connID, stale string) (string, error) {
	var out string
	err := m.opts.Store.WithRefreshLock(ctx, connID, func(ctx context.Context) error {
		c, err := m.opts.Store.GetConnection(ctx, tenantID, connID)
		if errors.Is(err, store.ErrNotFound) {
			return deskconn.Errorf(deskconn.CodeNotFound, "the connection was deleted")
		}
		if err != nil {
			return fmt.Errorf("read connection: %w", err)
		}
		if c.Status == store.StatusNeedsReauth {
			return needsReauth(c)
		}
		now := m.opts.Now()
		if len(c.SealedAccessToken) > 0 && now.Add(m.opts.RefreshAhead).Before(c.AccessExpiry) {
			tok, err := m.open(c.ID, colAccessToken, c.SealedAccessToken)
			if err != nil {
				return err
			}
			if tok != stale {
				m.remember(c.ID, tok, c.AccessExpiry)
				out = tok
				return nil
			}
		}
		out, err = m.refresh(ctx, c, now)
		return err
	})
	if err != nil {
		var de *deskconn.Error
		if errors.As(err, &de) {
			return "", de
		}
		return "", &deskconn.Error{Code: deskconn.CodeUnavailable, Message: "could not get a Zoho access token; try again shortly", Err: err}
	}
	return out, nil
}

// refresh calls the token endpoint once for c (the lock is held).
func (m *Manager) refresh(ctx context.Context, c *store.Connection, now time.Time) (string, error) {
	if len(c.SealedRefreshToken) == 0 {
		return "", needsReauth(c)
	}
	// The budget: token requests in the last window with this refresh token.
	recent := c.TokenRequests[:0:0]
	for _, t := range c.TokenRequests {
		if now.Sub(t) < m.opts.TokenWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) >= m.opts.TokenBudget {
		m.refreshed("budget")
		wait := recent[len(recent)-m.opts.TokenBudget].Add(m.opts.TokenWindow).Sub(now)
		return "", &deskconn.Error{Code: deskconn.CodeRateLimited, RetryAfter: wait,
			Message: fmt.Sprintf("connection %q used its %d token refreshes for %s; retry in %s", c.Name, m.opts.TokenBudget, m.opts.TokenWindow, wait.Round(time.Second))}
	}
	secret, err := m.open(c.ID, colClientSecret, c.SealedClientSecret)
	if err != nil {
		return "", err
	}
	rt, err := m.open(c.ID, colRefreshToken, c.SealedRefreshToken)
	if err != nil {
		return "", err
	}
	// Record the request before making it, so that a crash or a lost answer
	// still counts against the budget on every replica.
	c.TokenRequests = append(recent, now)
	if err := m.opts.Store.UpdateConnection(ctx, c); err != nil {
		return "", fmt.Errorf("record token request: %w", err)
	}
	tok, err := m.refreshAt(ctx, c, secret, rt)
	switch {
	case err == nil:
	case errors.Is(err, zohodesk.ErrInvalidGrant), errors.Is(err, zohodesk.ErrInvalidClient):
		m.refreshed("needs_reauth")
		// The refresh token (or the client) is dead: stop calling Zoho for
		// this connection until a person reconnects it.
		c.Status = store.StatusNeedsReauth
		c.SealedAccessToken, c.AccessExpiry = nil, time.Time{}
		c.LastError = fmt.Sprintf("Zoho refused the refresh token (%s) at %s", zohoReason(err), m.opts.Now().UTC().Format(time.RFC3339))
		m.forget(c.ID)
		if uerr := m.opts.Store.UpdateConnection(ctx, c); uerr != nil {
			return "", fmt.Errorf("mark connection needs_reauth: %w", uerr)
		}
		m.log.Warn("connection needs re-authorisation", "tenant", c.TenantID, "connection", c.ID, "reason", zohoReason(err))
		msg := needsReauth(c).Message
		if errors.Is(err, zohodesk.ErrInvalidClient) {
			msg = invalidClientMessage(c)
		}
		return "", &deskconn.Error{Code: deskconn.CodeNeedsReauth, Message: msg, Err: err}
	case errors.Is(err, zohodesk.ErrTokenThrottled):
		m.refreshed("throttled")
		// Zoho's "Access Denied" throttle: fill the budget so that every
		// replica backs off for a whole window (Zoho asks for ≥10 min).
		for len(c.TokenRequests) < m.opts.TokenBudget {
			c.TokenRequests = append(c.TokenRequests, now)
		}
		c.LastError = "Zoho throttled token requests at " + now.UTC().Format(time.RFC3339)
		if uerr := m.opts.Store.UpdateConnection(ctx, c); uerr != nil {
			m.log.Error("record token throttling", "connection", c.ID, "err", uerr)
		}
		m.log.Warn("token endpoint throttled", "tenant", c.TenantID, "connection", c.ID)
		return "", &deskconn.Error{Code: deskconn.CodeRateLimited, RetryAfter: m.opts.TokenWindow, Err: err,
			Message: fmt.Sprintf("Zoho throttled token requests for connection %q; retry in %s", c.Name, m.opts.TokenWindow)}
	default:
		// Timeouts and 5xx never mark the connection revoked.
		m.refreshed("error")
		m.log.Warn("token refresh failed", "tenant", c.TenantID, "connection", c.ID, "err", zohoReason(err))
		return "", &deskconn.Error{Code: deskconn.CodeUnavailable, Err: err,
			Message: fmt.Sprintf("Zoho's token endpoint did not answer for connection %q (%s); try again shortly", c.Name, zohoReason(err))}
	}
	if tok.AccessToken == "" {
		m.refreshed("error")
		return "", &deskconn.Error{Code: deskconn.CodeUnavailable, Message: "Zoho's token endpoint returned no access token; try again shortly"}
	}
	if c.SealedAccessToken, err = m.seal(c.ID, colAccessToken, tok.AccessToken); err != nil {
		return "", err
	}
	c.AccessExpiry = m.expiry(tok)
	// Zoho does not rotate refresh tokens; if it ever sends one, keep it,
	// but never replace the stored one with an empty value.
	if tok.RefreshToken != "" && tok.RefreshToken != rt {
		if c.SealedRefreshToken, err = m.seal(c.ID, colRefreshToken, tok.RefreshToken); err != nil {
			return "", err
		}
		c.TokenRequests = nil
	}
	c.LastError = ""
	if err := m.opts.Store.UpdateConnection(ctx, c); err != nil {
		return "", fmt.Errorf("save refreshed token: %w", err)
	}
	m.remember(c.ID, tok.AccessToken, c.AccessExpiry)
	m.refreshed("ok")
	m.log.Info("access token refreshed", "tenant", c.TenantID, "connection", c.ID, "expires", c.AccessExpiry.UTC().Format(time.RFC3339))
	return tok.AccessToken, nil
}

// refreshed reports a refresh attempt's result to Options.OnRefresh.
func (m *Manager) refreshed(result string) {
	if m.opts.OnRefresh != nil {
		m.opts.OnRefresh(result)
	}
}

func (m *Manager) remember(connID, tok string, expiry time.Time) {
	m.mu.Lock()
	m.cache[connID] = cachedToken{token: tok, expiry: expiry}
	m.mu.Unlock()
}

// expiry places tok's lifetime on the Manager's clock (zohodesk computes
// Expiry from the wall clock at receipt).
func (m *Manager) expiry(tok *zohodesk.Token) time.Time {
	if tok.Expiry.IsZero() {
		return m.opts.Now().Add(time.Hour) // Zoho's documented lifetime
	}
	return m.opts.Now().Add(time.Until(tok.Expiry))
}
