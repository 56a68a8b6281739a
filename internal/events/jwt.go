package events

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrBadSignature is wrapped by every JWT verification failure.
var ErrBadSignature = errors.New("webhook JWT refused")

// Verifier checks the RS256 JWT Zoho puts in X-ZDesk-JWT
// (zoho-desk-api-2.md §1.6) with keys from the data centre's JWKS, cached
// per JWKS URL and fetched again when a token names an unknown key id (at
// most once per MinRefresh per URL, so bad tokens cannot make it hammer
// Zoho). The signature check is golang-jwt's; this type only finds keys.
//
// The JWKS cache is ours rather than a JWKS library's: it needs no
// background goroutine, fetches through the injected client (tests reach
// only loopback), and its fetch is bounded in time and size so
// verification fits Zoho's 5-second acknowledgement window.
type Verifier struct {
	Client     *http.Client     // nil: a client with FetchTimeout
	MinRefresh time.Duration    // 0: 30 s
	Leeway     time.Duration    // clock skew allowed on exp; 0: 30 s
	Now        func() time.Time // nil: time.Now

	mu   sync.Mutex
	sets map[string]*keySet

	// good caches the claims of tokens whose signature verified, by JWKS
	// URL and token: Zoho may send the same token with several deliveries
	// (its claims change only with the second of iat), and an RSA check
	// per delivery is a good part of a receiver's work. The claims are
	// still checked on every use, and an entry lives at most goodTTL.
	goodMu sync.Mutex
	good   map[string]goodToken
}

type goodToken struct {
	claims jwt.MapClaims
	until  time.Time
}

// goodTTL bounds how long a verified signature is trusted without a new
// check (a key Zoho withdraws stops being accepted after it); maxGood
// bounds the cache.
const (
	goodTTL = time.Minute
	maxGood = 4096
)

// FetchTimeout bounds one JWKS fetch [D SIM uses 1.5 s so verification
// fits the 5 s window].
const FetchTimeout = 2 * time.Second

// maxJWKSBytes caps a JWKS document.
const maxJWKSBytes = 256 << 10

type keySet struct {
	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Verify checks token for the organisation and webhook: signature by a key
// of jwksURL (RS256 only), iss "orgId:<orgID>", aud "webhookId:<webhookID>",
// (skipped while webhookID is still unknown), and an unexpired exp. exp and iat may be seconds or milliseconds (Zoho's
// text and example disagree [D N-D29]).
func (v *Verifier) Verify(ctx context.Context, token, jwksURL, orgID, webhookID string) error {
	if token == "" {
		return fmt.Errorf("%w: no X-ZDesk-JWT header", ErrBadSignature)
	}
	claims, err := v.signed(ctx, token, jwksURL)
	if err != nil {
		return err
	}
	if iss, _ := claims["iss"].(string); iss != "orgId:"+orgID {
		return fmt.Errorf("%w: iss %q is not this connection's organisation", ErrBadSignature, iss)
	}
	// webhookID is "" only between creating the Zoho webhook and storing
	// its id; the token in the URL and iss still bind the request then.
	if webhookID != "" && !hasAudience(claims["aud"], "webhookId:"+webhookID) {
		return fmt.Errorf("%w: aud is not this connection's webhook", ErrBadSignature)
	}
	exp, ok := numericTime(claims["exp"])
	if !ok {
		return fmt.Errorf("%w: no exp claim", ErrBadSignature)
	}
	leeway := v.Leeway
	if leeway == 0 {
		leeway = 30 * time.Second
	}
	if v.now().After(exp.Add(leeway)) {
		return fmt.Errorf("%w: expired at %s", ErrBadSignature, exp.UTC().Format(time.RFC3339))
	}
	return nil
}

// signed returns the claims of token once its signature verified with a
// key of jwksURL, from the cache when it verified less than goodTTL ago.
func (v *Verifier) signed(ctx context.Context, token, jwksURL string) (jwt.MapClaims, error) {
	cacheKey := jwksURL + "\x00" + token
	now := v.now()
	v.goodMu.Lock()
	g, ok := v.good[cacheKey]
	v.goodMu.Unlock()
	if ok && now.Before(g.until) {
		return g.claims, nil
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return v.key(ctx, jwksURL, kid)
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	v.goodMu.Lock()
	defer v.goodMu.Unlock()
	if v.good == nil || len(v.good) >= maxGood {
		for k, g := range v.good {
			if !now.Before(g.until) {
				delete(v.good, k)
			}
		}
		if v.good == nil || len(v.good) >= maxGood {
			v.good = map[string]goodToken{}
		}
	}
	v.good[cacheKey] = goodToken{claims: claims, until: now.Add(goodTTL)}
	return claims, nil
}

func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, x := range a {
			if s, _ := x.(string); s == want {
				return true
			}
		}
	}
	return false
}

// numericTime reads a NumericDate in seconds, or in milliseconds when it
// is too large to be seconds (after year 5138).
func numericTime(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok || f <= 0 {
		return time.Time{}, false
	}
	if f > 1e11 {
		return time.UnixMilli(int64(f)), true
	}
	return time.Unix(int64(f), 0), true
}

// key returns the public key kid of jwksURL, fetching the set when it is
// not cached or kid is unknown and the last fetch is old enough.
func (v *Verifier) key(ctx context.Context, jwksURL, kid string) (*rsa.PublicKey, error) {
	v.mu.Lock()
	if v.sets == nil {
		v.sets = map[string]*keySet{}
	}
	ks := v.sets[jwksURL]
	if ks == nil {
		ks = &keySet{}
		v.sets[jwksURL] = ks
	}
	v.mu.Unlock()

	ks.mu.Lock()
	defer ks.mu.Unlock()
	if k := ks.keys[kid]; k != nil {
		return k, nil
	}
	minRefresh := v.MinRefresh
	if minRefresh == 0 {
		minRefresh = 30 * time.Second
	}
	if !ks.fetched.IsZero() && v.now().Sub(ks.fetched) < minRefresh {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	keys, err := v.fetch(ctx, jwksURL)
	ks.fetched = v.now()
	if err != nil {
		return nil, err
	}
	ks.keys = keys
	if k := keys[kid]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("unknown key id %q", kid)
}

func (v *Verifier) fetch(ctx context.Context, jwksURL string) (map[string]*rsa.PublicKey, error) {
	client := v.Client
	if client == nil {
		client = &http.Client{Timeout: FetchTimeout}
	}
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, errors.New("fetch JWKS: document too large")
	}
	return ParseJWKS(body)
}

// ParseJWKS reads the RSA signing keys of a JSON Web Key Set, by key id.
// Keys of other types or uses are skipped.
func ParseJWKS(body []byte) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(n) < 256 || len(e) == 0 || len(e) > 4 {
			continue // malformed or weaker than RSA-2048
		}
		exp := 0
		for _, b := range e {
			exp = exp<<8 | int(b)
		}
		out[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
	}
	return out, nil
}

// JWKS returns the JSON Web Key Set document publishing pub under kid, the
// form ParseJWKS reads (for tests of receivers).
func JWKS(kid string, pub *rsa.PublicKey) []byte {
	e := big.NewInt(int64(pub.E)).Bytes()
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(e),
	}}})
	return b
}
