package connection

import "net/http"

// HTTPClient returns the client the manager calls Zoho with, for tests of
// its default.
func (m *Manager) HTTPClient() *http.Client { return m.opts.HTTPClient }

// RefreshTimeout is the bound of one token-endpoint round trip.
const RefreshTimeout = refreshTimeout
