package zohodesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// OAuthConfig holds a Zoho API-console client (server-based application)
// and calls the Zoho Accounts OAuth 2.0 endpoints of one accounts server.
// Every method takes the accounts server explicitly, because a user's data
// centre is known only from the authorization callback ("accounts-server");
// callers must check it with Regions.ByAccountsServer first.
//
// Desk calls authenticate with the header "Authorization: Zoho-oauthtoken
// <access token>" (the Client does that), not with the "Bearer" token_type
// Zoho's token endpoint reports. Token.APIDomain is informational only: it
// is not the Desk host (use Region.DeskAPIBase).
type OAuthConfig struct {
	ClientID     string
	ClientSecret string
	RedirectURL  string
	// Scopes, e.g. "Desk.tickets.ALL"; sent comma-separated as Zoho wants.
	Scopes []string
	// HTTPClient is optional; the default has a 30s timeout. Its redirect
	// policy is replaced: OAuth calls never follow redirects.
	HTTPClient *http.Client
}

// Token is the result of a code exchange or a refresh. RefreshToken is set
// only by Exchange (with access_type=offline and prompt=consent); Refresh
// never returns one, because Zoho does not rotate refresh tokens: keep the
// one you have.
type Token struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
	// APIDomain is Zoho's "api_domain", e.g. "https://www.zohoapis.com".
	// It is not the Desk host.
	APIDomain string
}

// OAuth error categories; *OAuthError maps itself onto them with errors.Is.
var (
	// ErrInvalidGrant: the code or refresh token is expired, used, revoked
	// or wrong (Zoho's "invalid_code"; also "invalid_grant"). Re-authorize.
	ErrInvalidGrant = errors.New("zohodesk: oauth grant invalid, re-authorization needed")
	// ErrInvalidClient: client id, secret (secrets can differ per data
	// centre) or redirect URI is wrong ("invalid_client",
	// "invalid_client_secret", "invalid_redirect_uri"). Fix the configuration.
	// Zoho also answers "invalid_client" when the user's data centre is not
	// one the client is enabled for (see MultiDCAdvice): reconnecting alone
	// cannot fix that.
	ErrInvalidClient = errors.New("zohodesk: oauth client configuration invalid")
	// ErrTokenThrottled: Zoho's token limits were hit ("Access Denied" or
	// "access_denied" on the token endpoint). Back off at least 10 minutes.
	ErrTokenThrottled = errors.New("zohodesk: oauth token requests throttled")
)

// MultiDCAdvice is what to tell a person when Zoho answers ErrInvalidClient:
// a client created in the Zoho API console works only in its own data centre
// until multi-DC is enabled for it (the client's Settings tab), and until
// then Zoho answers "invalid_client" from every other data centre (fidelity
// audit row 13; Zoho's multi-DC guide, zoho-desk-api.md "A-MDC").
const MultiDCAdvice = "if the client was created in another Zoho data centre, enable multi-DC for it in Zoho's API console (api-console.zoho.com, the client's Settings tab); otherwise check the client id and secret"

// OAuthError is an error answer of the Zoho Accounts token or revoke
// endpoint. Its text holds the operation, status and error code only: never
// a token, code or secret.
type OAuthError struct {
	// Op is "exchange", "refresh" or "revoke".
	Op string
	// Code is Zoho's "error" value as sent (e.g. "invalid_code").
	Code string
	// StatusCode is the HTTP status; Zoho sends grant errors with 200.
	StatusCode int
}

func (e *OAuthError) Error() string {
	code := e.Code
	if code == "" {
		code = "no error code"
	}
	msg := fmt.Sprintf("zohodesk: oauth %s: %d %s", e.Op, e.StatusCode, code)
	if normalizeOAuthCode(e.Code) == "invalid_client" {
		msg += " (" + MultiDCAdvice + ")"
	}
	return msg
}

// Is maps the error code onto ErrInvalidGrant, ErrInvalidClient,
// ErrTokenThrottled, or ErrUnavailable for a 5xx answer.
func (e *OAuthError) Is(target error) bool {
	switch normalizeOAuthCode(e.Code) {
	case "invalid_code", "invalid_grant", "invalid_token":
		return target == ErrInvalidGrant
	case "invalid_client", "invalid_client_secret", "invalid_redirect_uri", "unauthorized_client":
		return target == ErrInvalidClient
	case "access_denied":
		return target == ErrTokenThrottled
	}
	if e.Op == "revoke" && e.StatusCode == http.StatusBadRequest {
		return target == ErrInvalidGrant // Zoho answers 400 for an invalid token
	}
	return e.StatusCode >= 500 && target == ErrUnavailable
}

// normalizeOAuthCode lower-cases and turns "Access Denied" into
// "access_denied".
func normalizeOAuthCode(c string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(c)), " ", "_")
}

// AuthCodeURL returns the URL of Zoho's consent page at accountsURL (any
// data centre works as the entry point; the callback names the user's):
// response_type=code, client_id, redirect_uri, comma-separated scope,
// access_type=offline, prompt=consent (so a new refresh token is issued)
// and state.
func (c *OAuthConfig) AuthCodeURL(accountsURL, state string) string {
	return c.oauth2(accountsURL).AuthCodeURL(state,
		oauth2.AccessTypeOffline,
		oauth2.SetAuthURLParam("prompt", "consent"),
		oauth2.SetAuthURLParam("scope", strings.Join(c.Scopes, ",")),
	)
}

// Exchange trades an authorization code (valid 2 minutes, single use) for
// tokens at accountsURL, which must be the callback's "accounts-server".
// Errors are *OAuthError (ErrInvalidGrant for a used or expired code) or a
// transport error.
func (c *OAuthConfig) Exchange(ctx context.Context, accountsURL, code string) (*Token, error) {
	if _, ok := origin(accountsURL); !ok {
		return nil, fmt.Errorf("zohodesk: oauth exchange: accounts server is not an http(s) origin")
	}
	tok, err := c.oauth2(accountsURL).Exchange(c.ctx(ctx), code)
	if err != nil {
		return nil, oauthErr("exchange", err)
	}
	return fromOAuth2(tok), nil
}

// Refresh gets a new access token for refreshToken at accountsURL. The
// result's RefreshToken is always "" (Zoho does not rotate refresh tokens).
// ErrInvalidGrant means the refresh token is dead: re-authorize.
func (c *OAuthConfig) Refresh(ctx context.Context, accountsURL, refreshToken string) (*Token, error) {
	if _, ok := origin(accountsURL); !ok {
		return nil, fmt.Errorf("zohodesk: oauth refresh: accounts server is not an http(s) origin")
	}
	if refreshToken == "" {
		return nil, fmt.Errorf("zohodesk: oauth refresh: %w", ErrInvalidGrant)
	}
	tok, err := c.oauth2(accountsURL).TokenSource(c.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, oauthErr("refresh", err)
	}
	t := fromOAuth2(tok)
	t.RefreshToken = "" // x/oauth2 copies the old one in; Zoho sent none
	return t, nil
}

// Revoke revokes refreshToken (and the access tokens minted from it) with
// POST {accounts}/oauth/v2/token/revoke?token=…. Zoho answers 400 for an
// invalid token: an *OAuthError matching ErrInvalidGrant.
func (c *OAuthConfig) Revoke(ctx context.Context, accountsURL, refreshToken string) error {
	o, ok := origin(accountsURL)
	if !ok {
		return fmt.Errorf("zohodesk: oauth revoke: accounts server is not an http(s) origin")
	}
	u := o + "/oauth/v2/token/revoke?" + url.Values{"token": {refreshToken}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return fmt.Errorf("zohodesk: oauth revoke: build request: %w", err)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("zohodesk: oauth revoke: %w", unwrapURLError(err)) // the URL holds the token
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var ans struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	_ = json.Unmarshal(body, &ans)
	if resp.StatusCode == http.StatusOK && ans.Error == "" {
		return nil
	}
	return &OAuthError{Op: "revoke", Code: ans.Error, StatusCode: resp.StatusCode}
}

func (c *OAuthConfig) oauth2(accountsURL string) *oauth2.Config {
	base := strings.TrimRight(accountsURL, "/")
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		RedirectURL:  c.RedirectURL,
		Endpoint: oauth2.Endpoint{
			AuthURL:   base + "/oauth/v2/auth",
			TokenURL:  base + "/oauth/v2/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// httpClient returns a copy of the configured client that follows no
// redirect: a 307/308 from a token endpoint would resend the client secret
// and the code to wherever it points.
func (c *OAuthConfig) httpClient() *http.Client {
	hc := http.Client{Timeout: 30 * time.Second}
	if c.HTTPClient != nil {
		hc = *c.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// ctx hands x/oauth2 our HTTP client, wrapped so that Zoho's throttle
// answers are recognised (see zohoTokenQuirks).
func (c *OAuthConfig) ctx(ctx context.Context) context.Context {
	hc := c.httpClient()
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = zohoTokenQuirks{next: next}
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}

// zohoTokenQuirks normalises token-endpoint answers before x/oauth2 reads
// them. x/oauth2 (since v0.x) already treats an HTTP 200 body with an
// "error" member as an error, which covers Zoho's {"error":"invalid_code"}.
// What it cannot see is a throttle answer that carries "Access Denied"
// only in another member (Zoho's pages disagree on the exact body), which
// it would report as "missing access_token". This RoundTripper rewrites
// such a 200 body to {"error":"access_denied"}; every other answer passes
// through byte for byte.
type zohoTokenQuirks struct{ next http.RoundTripper }

func (q zohoTokenQuirks) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := q.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil && m["access_token"] == nil && m["error"] == nil {
		for _, v := range m {
			if s, ok := v.(string); ok && strings.Contains(strings.ToLower(s), "access denied") {
				body = []byte(`{"error":"access_denied"}`)
				resp.Header.Set("Content-Type", "application/json")
				break
			}
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

func fromOAuth2(t *oauth2.Token) *Token {
	out := &Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry}
	if d, ok := t.Extra("api_domain").(string); ok {
		out.APIDomain = d
	}
	return out
}

// oauthErr converts x/oauth2 errors without keeping their text, which can
// include the response body.
func oauthErr(op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return &OAuthError{Op: op, Code: re.ErrorCode, StatusCode: status}
	}
	return fmt.Errorf("zohodesk: oauth %s: %w", op, unwrapURLError(err))
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
