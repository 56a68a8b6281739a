package zohodesk

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testClientID     = "1000.GMB0YULZHJK411248S8I5GZ4CHUEX0"
	testClientSecret = "secret-abc-123"
	testCode         = "1000.code1111.code2222"
	testRefresh      = "1000.18e983526f0ca8575ea9c53b0cd5bb58.1bd83a6f2e22c3a7e1309d96ae439cc1"
)

func testOAuth() *OAuthConfig {
	return &OAuthConfig{
		ClientID: testClientID, ClientSecret: testClientSecret,
		RedirectURL: "http://127.0.0.1:8080/callback",
		Scopes:      []string{"Desk.tickets.ALL", "Desk.basic.READ"},
	}
}

func TestAuthCodeURL(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(testOAuth().AuthCodeURL("https://accounts.zoho.com/", "st4te"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme+"://"+u.Host+u.Path != "https://accounts.zoho.com/oauth/v2/auth" {
		t.Errorf("auth URL = %s", u)
	}
	want := url.Values{
		"client_id": {testClientID}, "redirect_uri": {"http://127.0.0.1:8080/callback"}, "response_type": {"code"},
		"scope": {"Desk.tickets.ALL,Desk.basic.READ"}, "access_type": {"offline"}, "prompt": {"consent"}, "state": {"st4te"},
	}
	if got := u.Query(); got.Encode() != want.Encode() {
		t.Errorf("query = %v, want %v", got, want)
	}
}

// accountsServer answers token requests with handle after checking the
// client credentials travel in the form (AuthStyleInParams).
func accountsServer(t *testing.T, handle func(form url.Values) (int, string)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/oauth/v2/token" {
			t.Errorf("token request = %s %s", r.Method, r.URL.Path)
		}
		if _, _, ok := r.BasicAuth(); ok {
			t.Errorf("client credentials sent as Basic auth, want form params")
		}
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		if r.PostForm.Get("client_id") != testClientID || r.PostForm.Get("client_secret") != testClientSecret {
			t.Errorf("client credentials missing from the form: %v", r.PostForm)
		}
		status, body := handle(r.PostForm)
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestExchange(t *testing.T) {
	t.Parallel()
	srv := accountsServer(t, func(f url.Values) (int, string) {
		if f.Get("grant_type") != "authorization_code" || f.Get("code") != testCode || f.Get("redirect_uri") != "http://127.0.0.1:8080/callback" {
			t.Errorf("exchange form = %v", f)
		}
		return 200, `{"access_token":"1000.acc.ess","refresh_token":"` + testRefresh + `","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}`
	})
	tok, err := testOAuth().Exchange(t.Context(), srv.URL, testCode)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.AccessToken != "1000.acc.ess" || tok.RefreshToken != testRefresh || tok.APIDomain != "https://www.zohoapis.com" {
		t.Errorf("Exchange = %+v", tok)
	}
	if d := time.Until(tok.Expiry); d < 3590*time.Second || d > 3600*time.Second {
		t.Errorf("Expiry in %v, want about 1h", d)
	}
}

func TestRefreshHasNoRefreshToken(t *testing.T) {
	t.Parallel()
	srv := accountsServer(t, func(f url.Values) (int, string) {
		if f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != testRefresh {
			t.Errorf("refresh form = %v", f)
		}
		return 200, `{"access_token":"1000.new.access","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}`
	})
	tok, err := testOAuth().Refresh(t.Context(), srv.URL, testRefresh)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if tok.AccessToken != "1000.new.access" || tok.RefreshToken != "" {
		t.Errorf("Refresh = %+v; want a new access token and no refresh token", tok)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   error
		code   string
	}{
		{"invalid_code with 200", 200, `{"error":"invalid_code"}`, ErrInvalidGrant, "invalid_code"},
		{"invalid_grant with 400", 400, `{"error":"invalid_grant"}`, ErrInvalidGrant, "invalid_grant"},
		{"invalid_client", 200, `{"error":"invalid_client"}`, ErrInvalidClient, "invalid_client"},
		{"invalid_client_secret", 200, `{"error":"invalid_client_secret"}`, ErrInvalidClient, "invalid_client_secret"},
		{"invalid_redirect_uri", 200, `{"error":"invalid_redirect_uri"}`, ErrInvalidClient, "invalid_redirect_uri"},
		{"Access Denied as error", 200, `{"error":"Access Denied"}`, ErrTokenThrottled, "Access Denied"},
		{"access_denied", 200, `{"error":"access_denied","error_description":"You have made too many requests continuously"}`, ErrTokenThrottled, "access_denied"},
		{"Access Denied as message", 200, `{"status":"failure","message":"Access Denied"}`, ErrTokenThrottled, "access_denied"},
		{"5xx", 502, `<html>bad gateway</html>`, ErrUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := accountsServer(t, func(url.Values) (int, string) { return tt.status, tt.body })
			for op, call := range map[string]func() error{
				"exchange": func() error { _, err := testOAuth().Exchange(t.Context(), srv.URL, testCode); return err },
				"refresh":  func() error { _, err := testOAuth().Refresh(t.Context(), srv.URL, testRefresh); return err },
			} {
				err := call()
				var oe *OAuthError
				if !errors.As(err, &oe) || oe.Code != tt.code || oe.Op != op || !errors.Is(err, tt.want) {
					t.Errorf("%s: err = %#v, want code %q matching %v", op, err, tt.code, tt.want)
					continue
				}
				for _, secret := range []string{testClientSecret, testCode, testRefresh} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("%s: error text %q holds a secret", op, err)
					}
				}
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/oauth/v2/token/revoke" {
			t.Errorf("revoke request = %s %s", r.Method, r.URL.Path)
		}
		if r.URL.Query().Get("token") == testRefresh {
			w.Write([]byte(`{"status":"success"}`))
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"status":"failure"}`))
	}))
	defer srv.Close()
	if err := testOAuth().Revoke(t.Context(), srv.URL, testRefresh); err != nil {
		t.Errorf("Revoke: %v", err)
	}
	err := testOAuth().Revoke(t.Context(), srv.URL, "1000.dead.token")
	if !errors.Is(err, ErrInvalidGrant) || strings.Contains(err.Error(), "1000.dead.token") {
		t.Errorf("Revoke(invalid) = %v, want ErrInvalidGrant without the token", err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	err = testOAuth().Revoke(t.Context(), closed.URL, testRefresh)
	if err == nil || strings.Contains(err.Error(), testRefresh) {
		t.Errorf("Revoke on a closed server = %v; want an error without the token", err)
	}
}

func TestOAuthRefusesNonOriginAccountsURL(t *testing.T) {
	t.Parallel()
	c := testOAuth()
	for _, u := range []string{"", "accounts.zoho.com", "https://accounts.zoho.com/path", "ftp://accounts.zoho.com"} {
		if _, err := c.Exchange(t.Context(), u, testCode); err == nil {
			t.Errorf("Exchange(%q) succeeded", u)
		}
		if _, err := c.Refresh(t.Context(), u, testRefresh); err == nil {
			t.Errorf("Refresh(%q) succeeded", u)
		}
		if err := c.Revoke(t.Context(), u, testRefresh); err == nil {
			t.Errorf("Revoke(%q) succeeded", u)
		}
	}
	if _, err := c.Refresh(t.Context(), "https://accounts.zoho.com", ""); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("Refresh with no refresh token = %v, want ErrInvalidGrant", err)
	}
}

func TestOAuthDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { leaked.Store(true) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	if _, err := testOAuth().Exchange(t.Context(), srv.URL, testCode); err == nil {
		t.Errorf("Exchange through a redirect succeeded")
	}
	if _, err := testOAuth().Refresh(t.Context(), srv.URL, testRefresh); err == nil {
		t.Errorf("Refresh through a redirect succeeded")
	}
	if err := testOAuth().Revoke(t.Context(), srv.URL, testRefresh); err == nil {
		t.Errorf("Revoke through a redirect succeeded")
	}
	if leaked.Load() {
		t.Errorf("a redirect was followed: the secret reached another host")
	}
}

// TestOAuthErrorInvalidClientAdvice: "invalid_client" also means the data
// centre is not enabled for the client, so the error says how to enable it.
func TestOAuthErrorInvalidClientAdvice(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code       string
		wantAdvice bool
	}{
		{"invalid_client", true},
		{"INVALID_CLIENT", true},
		{"invalid_client_secret", false},
		{"invalid_code", false},
	} {
		err := &OAuthError{Op: "refresh", Code: tt.code, StatusCode: 200}
		if got := strings.Contains(err.Error(), "enable multi-DC"); got != tt.wantAdvice {
			t.Errorf("%s: Error() = %q, advice present = %v, want %v", tt.code, err.Error(), got, tt.wantAdvice)
		}
	}
}
