package events

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	z := newFakeZoho(t)
	now := time.Now()
	hs256, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "orgId:1", "aud": "webhookId:9", "exp": now.Add(time.Minute).Unix(),
	}).SignedString([]byte("guessable"))
	if err != nil {
		t.Fatal(err)
	}
	msExp := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": "orgId:1", "aud": []string{"webhookId:9"}, "exp": now.Add(time.Minute).UnixMilli(),
	})
	msExp.Header["kid"] = "k1"
	ms, err := msExp.SignedString(testKeys()[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		token     string
		org, hook string
		ok        bool
	}{
		{"valid", z.sign(t, "1", "9", now.Add(time.Minute)), "1", "9", true},
		{"exp in milliseconds, aud as a list", ms, "1", "9", true},
		{"webhook id not yet stored", z.sign(t, "1", "9", now.Add(time.Minute)), "1", "", true},
		{"other organisation", z.sign(t, "2", "9", now.Add(time.Minute)), "1", "9", false},
		{"other webhook", z.sign(t, "1", "8", now.Add(time.Minute)), "1", "9", false},
		{"expired", z.sign(t, "1", "9", now.Add(-time.Hour)), "1", "9", false},
		{"HS256 (algorithm confusion)", hs256, "1", "9", false},
		{"garbage", "not.a.jwt", "1", "9", false},
		{"missing", "", "1", "9", false},
	}
	v := &Verifier{}
	for _, tt := range tests {
		err := v.Verify(t.Context(), tt.token, z.jwksURL(), tt.org, tt.hook)
		if tt.ok && err != nil {
			t.Errorf("%s: Verify = %v, want nil", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: Verify = %v, want ErrBadSignature", tt.name, err)
		}
	}
	if n := z.fetches.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want once (cached)", n)
	}
}

// A token signed with a new key id makes the verifier fetch the JWKS
// again, but no more than once per MinRefresh.
func TestVerifyKeyRotation(t *testing.T) {
	t.Parallel()
	z := newFakeZoho(t)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	clock := now
	v := &Verifier{MinRefresh: time.Minute, Now: func() time.Time { return clock }}
	if err := v.Verify(t.Context(), z.sign(t, "1", "9", now.Add(time.Minute)), z.jwksURL(), "1", "9"); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	z.rotate()
	rotated := z.sign(t, "1", "9", now.Add(time.Hour))
	// Within MinRefresh of the first fetch: refused without a fetch.
	clock = now.Add(10 * time.Second)
	if err := v.Verify(t.Context(), rotated, z.jwksURL(), "1", "9"); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Verify(new kid, too soon) = %v, want ErrBadSignature", err)
	}
	if n := z.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
	clock = now.Add(2 * time.Minute)
	if err := v.Verify(t.Context(), rotated, z.jwksURL(), "1", "9"); err != nil {
		t.Fatalf("Verify(new kid) = %v", err)
	}
	if n := z.fetches.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2", n)
	}
}

func TestParseJWKSSkipsBadKeys(t *testing.T) {
	t.Parallel()
	keys, err := ParseJWKS([]byte(`{"keys":[{"kty":"EC","kid":"e"},{"kty":"RSA","kid":"short","n":"AQAB","e":"AQAB"},{"kty":"RSA","kid":"enc","use":"enc"}]}`))
	if err != nil || len(keys) != 0 {
		t.Errorf("ParseJWKS = %v, %v; want no keys", keys, err)
	}
	if _, err := ParseJWKS([]byte(`[`)); err == nil {
		t.Errorf("ParseJWKS(bad JSON) = nil error")
	}
}

// A token whose signature verified once is not checked again within
// goodTTL, but its claims are, on every use.
func TestVerifyCachedToken(t *testing.T) {
	t.Parallel()
	z := newFakeZoho(t)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	clock := now
	v := &Verifier{MinRefresh: time.Second, Now: func() time.Time { return clock }}
	tok := z.sign(t, "1", "9", now.Add(time.Hour))
	for i := range 2 {
		if err := v.Verify(t.Context(), tok, z.jwksURL(), "1", "9"); err != nil {
			t.Fatalf("Verify #%d = %v", i, err)
		}
	}
	if err := v.Verify(t.Context(), tok, z.jwksURL(), "2", "9"); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(cached token, other organisation) = %v, want ErrBadSignature", err)
	}
	if err := v.Verify(t.Context(), tok, z.jwksURL(), "1", "8"); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(cached token, other webhook) = %v, want ErrBadSignature", err)
	}
	short := z.sign(t, "1", "9", now.Add(10*time.Second))
	if err := v.Verify(t.Context(), short, z.jwksURL(), "1", "9"); err != nil {
		t.Fatalf("Verify(short) = %v", err)
	}
	clock = now.Add(45 * time.Second) // past exp and the 30 s leeway, within goodTTL
	if err := v.Verify(t.Context(), short, z.jwksURL(), "1", "9"); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(cached token, expired) = %v, want ErrBadSignature", err)
	}
}
