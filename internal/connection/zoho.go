package connection

import (
	"context"
	"errors"
	"fmt"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/zohodesk"
)

// This file is the only place that talks to zohodesk's OAuth API.

func (m *Manager) oauth(c *store.Connection, secret string) *zohodesk.OAuthConfig {
	return &zohodesk.OAuthConfig{
		ClientID:     c.ClientID,
		ClientSecret: secret,
		RedirectURL:  m.CallbackURL(),
		Scopes:       c.Scopes,
		HTTPClient:   m.oauthClient,
	}
}

func (m *Manager) authCodeURL(entry zohodesk.Region, c *store.Connection, state string) string {
	return m.oauth(c, "").AuthCodeURL(entry.AccountsURL, state)
}

func (m *Manager) exchange(ctx context.Context, region zohodesk.Region, c *store.Connection, secret, code string) (*zohodesk.Token, error) {
	return m.oauth(c, secret).Exchange(ctx, region.AccountsURL, code)
}

// regionOf returns the region of c's stored accounts server; a stored value
// that left the table is refused (no secret is sent to it).
func (m *Manager) regionOf(c *store.Connection) (zohodesk.Region, error) {
	r, err := m.opts.Regions.ByAccountsServer(c.AccountsServer)
	if err != nil {
		return zohodesk.Region{}, fmt.Errorf("accounts server of connection %s: %w", c.ID, err)
	}
	return r, nil
}

func (m *Manager) refreshAt(ctx context.Context, c *store.Connection, secret, refreshToken string) (*zohodesk.Token, error) {
	r, err := m.regionOf(c)
	if err != nil {
		return nil, err
	}
	return m.oauth(c, secret).Refresh(ctx, r.AccountsURL, refreshToken)
}

// revoke revokes refreshToken at c's stored accounts server.
func (m *Manager) revoke(ctx context.Context, c *store.Connection, refreshToken string) error {
	r, err := m.regionOf(c)
	if err != nil {
		return err
	}
	secret, err := m.open(c.ID, colClientSecret, c.SealedClientSecret)
	if err != nil {
		return err
	}
	return m.revokeAt(ctx, r, c, secret, refreshToken)
}

func (m *Manager) revokeAt(ctx context.Context, r zohodesk.Region, c *store.Connection, secret, refreshToken string) error {
	return m.oauth(c, secret).Revoke(ctx, r.AccountsURL, refreshToken)
}

func (m *Manager) newDeskClient(baseURL string, ts zohodesk.TokenSource) (*zohodesk.Client, error) {
	return zohodesk.New(zohodesk.Config{
		BaseURL:    baseURL,
		Tokens:     ts,
		HTTPClient: m.opts.HTTPClient,
		Limiter:    m.opts.DeskLimiter,
		UserAgent:  "deskconn",
		OnResponse: m.opts.OnDeskResponse,
	})
}

// zohoReason describes err without any secret: Zoho's error code or a
// category, never a token or a raw body.
func zohoReason(err error) string {
	var ae *zohodesk.APIError
	var oe *zohodesk.OAuthError
	switch {
	case errors.As(err, &oe):
		return fmt.Sprintf("%s, HTTP %d", safeCode(oe.Code), oe.StatusCode)
	case errors.As(err, &ae) && ae.Code != "":
		return fmt.Sprintf("%s, HTTP %d", safeCode(ae.Code), ae.StatusCode)
	case errors.Is(err, zohodesk.ErrInvalidGrant):
		return "invalid_code"
	case errors.Is(err, zohodesk.ErrInvalidClient):
		return "invalid_client"
	case errors.Is(err, zohodesk.ErrTokenThrottled):
		return "throttled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, zohodesk.ErrUnavailable):
		return "Zoho unavailable"
	default:
		return "unexpected error"
	}
}
