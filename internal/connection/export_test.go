package connection

import "net/http"

// HTTPClient returns the client the manager calls Desk with, for tests of
// its default.
func (m *Manager) HTTPClient() *http.Client { return m.opts.HTTPClient }

// OAuthClient returns the client the manager calls Zoho Accounts with.
func (m *Manager) OAuthClient() *http.Client { return m.oauthClient }

// RefreshTimeout is the bound of one token-endpoint round trip.
const RefreshTimeout = refreshTimeout
