package mcpauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/store"
)

// client is an OAuth client as the authorization endpoint sees it.
type client struct {
	ID           string
	Name         string
	RedirectURIs []string
	Metadata     bool // identified by a Client ID Metadata Document
}

const (
	maxRedirectURIs   = 10
	maxRedirectURILen = 2000
	maxClientNameLen  = 100
)

// registration is the part of a client's metadata (RFC 7591 §2, and a
// Client ID Metadata Document) deskconn uses.
type registration struct {
	ClientID                string   `json:"client_id,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
}

// metadataError is an RFC 7591 error: invalid_redirect_uri or
// invalid_client_metadata.
type metadataError struct {
	code, msg string
}

func (e *metadataError) Error() string { return e.msg }

// ParseRegistration parses a dynamic client registration request (RFC
// 7591) and returns the client's name and redirect URIs. deskconn registers
// public clients only (token_endpoint_auth_method "none", PKCE), for the
// authorization code and refresh token grants.
func ParseRegistration(body []byte) (name string, redirectURIs []string, err error) {
	reg, err := parseMetadata(body)
	if err != nil {
		return "", nil, err
	}
	if reg.ClientID != "" {
		return "", nil, &metadataError{"invalid_client_metadata", "client_id is assigned by the server: remove it from the registration"}
	}
	return reg.ClientName, reg.RedirectURIs, nil
}

// ParseMetadataDocument parses the Client ID Metadata Document fetched from
// clientID (an https URL): its client_id must equal clientID and its
// redirect_uris must be valid.
func ParseMetadataDocument(clientID string, body []byte) (name string, redirectURIs []string, err error) {
	reg, err := parseMetadata(body)
	if err != nil {
		return "", nil, err
	}
	if reg.ClientID != clientID {
		return "", nil, &metadataError{"invalid_client_metadata", "the document's client_id must equal the URL it was fetched from"}
	}
	return reg.ClientName, reg.RedirectURIs, nil
}

func parseMetadata(body []byte) (*registration, error) {
	var reg registration
	if err := json.Unmarshal(body, &reg); err != nil {
		return nil, &metadataError{"invalid_client_metadata", "the client metadata is not a JSON object with the right field types"}
	}
	if len(reg.RedirectURIs) == 0 || len(reg.RedirectURIs) > maxRedirectURIs {
		return nil, &metadataError{"invalid_redirect_uri", fmt.Sprintf("redirect_uris must list 1 to %d redirect URIs", maxRedirectURIs)}
	}
	for i, u := range reg.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, &metadataError{"invalid_redirect_uri", fmt.Sprintf("redirect_uris[%d] %v", i, err)}
		}
	}
	for _, g := range reg.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return nil, &metadataError{"invalid_client_metadata", fmt.Sprintf("grant_types: %q is not supported: use authorization_code and refresh_token", clip(g, 40))}
		}
	}
	for _, rt := range reg.ResponseTypes {
		if rt != "code" {
			return nil, &metadataError{"invalid_client_metadata", fmt.Sprintf("response_types: %q is not supported: use code", clip(rt, 40))}
		}
	}
	switch reg.TokenEndpointAuthMethod {
	case "", "none", "client_secret_basic", "client_secret_post":
		// Registered as a public client either way: deskconn issues no
		// client secrets, PKCE protects the code.
	default:
		return nil, &metadataError{"invalid_client_metadata", fmt.Sprintf("token_endpoint_auth_method %q is not supported: use none", clip(reg.TokenEndpointAuthMethod, 40))}
	}
	reg.ClientName = cleanName(reg.ClientName)
	return &reg, nil
}

// checkRedirectURI accepts an absolute https URL, or an http URL on a
// loopback host (native apps, RFC 8252 §7.3), without fragment or
// credentials.
func checkRedirectURI(raw string) error {
	if len(raw) > maxRedirectURILen {
		return fmt.Errorf("is longer than %d characters", maxRedirectURILen)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errors.New("is not an absolute URL")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") || u.User != nil {
		return errors.New("must not carry a fragment or credentials")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if h == "localhost" {
			return nil
		}
		if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
			return nil
		}
		return errors.New("must use https (http only on localhost or a loopback address)")
	}
	return errors.New("must use https (http only on localhost or a loopback address)")
}

// cleanName makes a client name safe to show: control and format
// characters dropped, spaces collapsed, at most maxClientNameLen runes.
func cleanName(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.Join(strings.Fields(s), " ") {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			continue
		}
		if n == maxClientNameLen {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// isMetadataClientID reports whether a client_id is a Client ID Metadata
// Document URL: https with a path other than "/".
func isMetadataClientID(id string) bool {
	u, err := url.Parse(id)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.Path != "" && u.Path != "/"
}

// resolveClient returns the client with this client_id: a registered one,
// or the one its metadata document (fetched, cached) describes.
func (s *Server) resolveClient(ctx context.Context, id string) (*client, error) {
	if id == "" {
		return nil, errors.New("client_id is missing")
	}
	if len(id) > maxRedirectURILen {
		return nil, errors.New("client_id is too long")
	}
	if !isMetadataClientID(id) {
		c, err := s.opts.Store.GetMCPClient(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errors.New("client_id is unknown: register the client first, or use a Client ID Metadata Document URL")
		}
		if err != nil {
			return nil, fmt.Errorf("read client: %w", err)
		}
		return &client{ID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs}, nil
	}
	now := s.now()
	s.mu.Lock()
	if cc, ok := s.cimds[id]; ok && now.Before(cc.expires) {
		s.mu.Unlock()
		return cc.c, nil
	}
	s.mu.Unlock()
	c, err := s.fetchMetadataDocument(ctx, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.cimds) >= 1000 {
		for k, v := range s.cimds {
			if !now.Before(v.expires) || len(s.cimds) >= 1000 {
				delete(s.cimds, k)
			}
		}
	}
	s.cimds[id] = cachedClient{c: c, expires: now.Add(MetadataDocumentTTL)}
	s.mu.Unlock()
	return c, nil
}

// errFetch says, without detail, that a metadata document could not be
// fetched (the detail goes to the log).
var errFetch = errors.New("the client's metadata document could not be fetched")

func (s *Server) fetchMetadataDocument(ctx context.Context, id string) (*client, error) {
	resp, err := s.fetch.Open(ctx, id)
	if err != nil {
		if errors.Is(err, egress.ErrTooLarge) {
			return nil, fmt.Errorf("the client's metadata document is larger than %d bytes", MaxMetadataDocumentBytes)
		}
		return nil, errFetch
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.ContentType); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil, errors.New("the client's metadata document is not served as application/json")
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxMetadataDocumentBytes+1))
	if err != nil {
		if errors.Is(err, egress.ErrTooLarge) {
			return nil, fmt.Errorf("the client's metadata document is larger than %d bytes", MaxMetadataDocumentBytes)
		}
		return nil, errFetch
	}
	if len(body) > MaxMetadataDocumentBytes {
		return nil, fmt.Errorf("the client's metadata document is larger than %d bytes", MaxMetadataDocumentBytes)
	}
	name, uris, err := ParseMetadataDocument(id, body)
	if err != nil {
		return nil, fmt.Errorf("the client's metadata document is invalid: %w", err)
	}
	if name == "" {
		name = id
	}
	return &client{ID: id, Name: name, RedirectURIs: uris, Metadata: true}, nil
}

// handleRegister is dynamic client registration (RFC 7591).
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if !s.registrations.AllowN(s.now(), 1) {
		w.Header().Set("Retry-After", strconv.Itoa(int(RegistrationInterval/time.Second)))
		s.writeOAuthError(w, r, errorf(http.StatusTooManyRequests, "temporarily_unavailable", "too many client registrations: retry later"))
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.writeOAuthError(w, r, errorf(http.StatusBadRequest, "invalid_client_metadata", "send the registration as application/json"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRegistrationBytes))
	if err != nil {
		s.writeOAuthError(w, r, errorf(http.StatusBadRequest, "invalid_client_metadata", "the registration could not be read (at most %d bytes)", MaxRegistrationBytes))
		return
	}
	name, uris, err := ParseRegistration(bytes.TrimSpace(body))
	if err != nil {
		var me *metadataError
		if errors.As(err, &me) {
			s.writeOAuthError(w, r, errorf(http.StatusBadRequest, me.code, "%s", me.msg))
			return
		}
		s.writeOAuthError(w, r, err)
		return
	}
	c := &store.MCPClient{ID: store.NewID("mcpc"), Name: name, RedirectURIs: uris, CreatedAt: s.now()}
	if err := s.opts.Store.CreateMCPClient(r.Context(), c); err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	s.log.Info("mcpauth: registered a client", "client_id", c.ID, "client_name", c.Name)
	writeJSON(w, http.StatusCreated, map[string]any{
		"client_id":                  c.ID,
		"client_id_issued_at":        c.CreatedAt.Unix(),
		"client_name":                c.Name,
		"redirect_uris":              c.RedirectURIs,
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	})
}

// redirectAllowed reports whether redirectURI is exactly one of c's.
func (c *client) redirectAllowed(redirectURI string) bool {
	return slices.Contains(c.RedirectURIs, redirectURI)
}
