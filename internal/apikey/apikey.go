// Package apikey issues and checks the API keys that REST and MCP callers
// present as "Authorization: Bearer dk_...".
//
// A key is "dk_" followed by 43 base62 characters (256 random bits). Only
// its SHA-256 hash is stored, with a short prefix for listings; the key
// itself is shown once, when it is created. Authentication looks the key up
// by its hash, so no comparison of secret bytes ever depends on their value.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/store"
)

const (
	// Prefix starts every key, so that secret scanners and people can tell
	// a deskconn key at a glance.
	Prefix = "dk_"
	// bodyLen is the number of base62 characters after the prefix:
	// 43 characters of base62 carry 256 bits.
	bodyLen = 43
	// displayLen is how much of a key is stored for listings ("dk_" + 6).
	displayLen = len(Prefix) + 6
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ErrMalformed means a string is not shaped like a deskconn API key.
var ErrMalformed = errors.New("apikey: malformed key")

// Service creates, authenticates, lists and revokes API keys in a store.
// It is safe for concurrent use.
type Service struct {
	store store.Store
	now   func() time.Time

	keys *store.VersionedCache[*store.APIKey] // by hash: keys authenticated before (see lookup)
}

// maxCachedKeys bounds the cache of authenticated keys; past it the cache
// starts again empty.
const maxCachedKeys = 1024

// New returns a Service backed by st.
func New(st store.Store) *Service { return NewWithClock(st, time.Now) }

// NewWithClock is New with the clock that decides whether a key expired.
func NewWithClock(st store.Store, now func() time.Time) *Service {
	return &Service{store: st, now: now, keys: store.NewVersionedCache(maxCachedKeys, (*store.APIKey).Clone, nil)}
}

// Scope limits a new key (see store.APIKey); the zero value gives it the
// tenant's whole reach.
type Scope struct {
	ReadOnly     bool
	ConnectionID string    // the only connection the key reaches ("" any)
	Actions      []string  // the only actions the key may run (nil any)
	ExpiresAt    time.Time // zero: never
}

// Generate returns a fresh random key. It does not store it.
func Generate() (deskconn.Secret, error) {
	var b strings.Builder
	b.WriteString(Prefix)
	max := big.NewInt(int64(len(base62)))
	for range bodyLen {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("generate api key: %w", err)
		}
		b.WriteByte(base62[n.Int64()])
	}
	return deskconn.Secret(b.String()), nil
}

// Check reports whether key has the shape of a deskconn API key: the "dk_"
// prefix followed by exactly 43 base62 characters. It returns ErrMalformed
// otherwise and never echoes the input.
func Check(key string) error {
	body, ok := strings.CutPrefix(key, Prefix)
	if !ok || len(body) != bodyLen {
		return ErrMalformed
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return ErrMalformed
		}
	}
	return nil
}

// Hash returns the SHA-256 of key, the only form in which keys are stored.
func Hash(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// Create makes a new key for tenantID and stores its hash. The returned
// Secret is the only copy of the key: show it once and forget it.
func (s *Service) Create(ctx context.Context, tenantID, name string) (deskconn.Secret, *store.APIKey, error) {
	return s.CreateScoped(ctx, tenantID, name, Scope{})
}

// CreateScoped is Create for a key limited to scope. The caller checks
// that scope's connection and actions exist; CreateScoped refuses an
// action name that is empty or holds a comma, and an expiry in the past.
func (s *Service) CreateScoped(ctx context.Context, tenantID, name string, scope Scope) (deskconn.Secret, *store.APIKey, error) {
	for _, a := range scope.Actions {
		if a == "" || strings.ContainsAny(a, ", ") {
			return "", nil, deskconn.Invalid("an action name is not valid", deskconn.FieldError{Pointer: "/actions", Code: "invalid",
				Message: fmt.Sprintf("%q is not an action name: list names separated by commas, e.g. get_ticket,list_tickets", a)})
		}
	}
	if !scope.ExpiresAt.IsZero() && !scope.ExpiresAt.After(s.now()) {
		return "", nil, deskconn.Invalid("the expiry is in the past", deskconn.FieldError{Pointer: "/expires", Code: "invalid", Message: "give a time in the future, e.g. 30d"})
	}
	if strings.TrimSpace(name) == "" {
		return "", nil, deskconn.Invalid("an API key needs a name", deskconn.FieldError{Pointer: "/name", Code: "missing", Message: "give the key a name"})
	}
	key, err := Generate()
	if err != nil {
		return "", nil, err
	}
	return s.save(ctx, tenantID, name, key, scope)
}

// Import stores a key chosen by the caller (for example DESKCONN_API_KEY in
// the demo). The key must pass Check. Importing a key that is already
// stored for tenantID returns the stored record.
func (s *Service) Import(ctx context.Context, tenantID, name string, key deskconn.Secret) (*store.APIKey, error) {
	if err := Check(key.Reveal()); err != nil {
		return nil, deskconn.Errorf(deskconn.CodeInvalid, "the API key must be %q followed by %d letters or digits", Prefix, bodyLen)
	}
	if k, err := s.store.LookupAPIKey(ctx, Hash(key.Reveal())); err == nil {
		if k.TenantID != tenantID {
			return nil, deskconn.Errorf(deskconn.CodeConflict, "this API key already belongs to another tenant")
		}
		return k, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("import api key: %w", err)
	}
	_, k, err := s.save(ctx, tenantID, name, key, Scope{})
	return k, err
}

func (s *Service) save(ctx context.Context, tenantID, name string, key deskconn.Secret, scope Scope) (deskconn.Secret, *store.APIKey, error) {
	k := &store.APIKey{
		TenantID:     tenantID,
		Name:         name,
		Hash:         Hash(key.Reveal()),
		Prefix:       key.Reveal()[:displayLen],
		ReadOnly:     scope.ReadOnly,
		ConnectionID: scope.ConnectionID,
		Actions:      scope.Actions,
		ExpiresAt:    scope.ExpiresAt,
	}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return "", nil, fmt.Errorf("create api key: %w", err)
	}
	return key, k, nil
}

// Authenticate checks a bearer key and returns the tenant and key id it
// belongs to. A malformed, unknown or revoked key is a *deskconn.Error with
// code unauthenticated; a malformed key costs no store lookup.
func (s *Service) Authenticate(ctx context.Context, bearer string) (tenantID, keyID string, err error) {
	k, err := s.AuthenticateKey(ctx, bearer)
	if err != nil {
		return "", "", err
	}
	return k.TenantID, k.ID, nil
}

// AuthenticateKey is Authenticate returning the whole stored key, scope
// included. A key past its ExpiresAt is refused as unauthenticated too,
// saying when it expired.
func (s *Service) AuthenticateKey(ctx context.Context, bearer string) (*store.APIKey, error) {
	if Check(bearer) != nil {
		return nil, deskconn.Errorf(deskconn.CodeUnauthenticated, "the API key is malformed: expected %q followed by %d letters or digits", Prefix, bodyLen)
	}
	k, err := s.lookup(ctx, Hash(bearer))
	if errors.Is(err, store.ErrNotFound) {
		return nil, deskconn.Errorf(deskconn.CodeUnauthenticated, "the API key is unknown or revoked")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate api key: %w", err)
	}
	if !k.ExpiresAt.IsZero() && !s.now().Before(k.ExpiresAt) {
		return nil, deskconn.Errorf(deskconn.CodeUnauthenticated, "this API key expired at %s; create a new one with `deskconn apikeys create`", k.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return k, nil
}

// List returns the tenant's keys (hashes and prefixes only), revoked ones
// included.
func (s *Service) List(ctx context.Context, tenantID string) ([]*store.APIKey, error) {
	keys, err := s.store.ListAPIKeys(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

// Revoke revokes the tenant's key with this id. Another tenant's key, or an
// unknown id, is a not_found *deskconn.Error.
func (s *Service) Revoke(ctx context.Context, tenantID, id string) error {
	err := s.store.RevokeAPIKey(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return deskconn.Errorf(deskconn.CodeNotFound, "no API key with id %q", id)
	}
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	return nil
}

// lookup returns the valid (unrevoked) stored key with this hash. With a
// store that reports its cache version (store.Versioned: SQLite), a key
// found before is served from memory while no API key or connection
// changed since, by any process, and its last use was recorded less than
// store.APIKeyUseResolution ago: a revocation is seen by the
// very next request, and the store still records each key's use once per
// resolution. Unknown keys are never cached.
func (s *Service) lookup(ctx context.Context, hash []byte) (*store.APIKey, error) {
	fresh := func(k *store.APIKey) bool { return s.now().Sub(k.LastUsed) < store.APIKeyUseResolution }
	return s.keys.Load(ctx, s.store, string(hash), fresh, func(ctx context.Context) (*store.APIKey, error) {
		return s.store.LookupAPIKey(ctx, hash)
	})
}
