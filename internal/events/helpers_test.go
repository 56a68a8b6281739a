package events

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testKeys caches RSA keys: generating one is slow on a busy machine.
var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var out [2]*rsa.PrivateKey
	for i := range out {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		out[i] = k
	}
	return out
})

// fakeZoho serves a data centre's JWKS and signs webhook JWTs like Zoho.
type fakeZoho struct {
	srv     *httptest.Server
	mu      sync.Mutex
	kid     string
	key     *rsa.PrivateKey
	fetches atomic.Int32
}

func newFakeZoho(t testing.TB) *fakeZoho {
	t.Helper()
	z := &fakeZoho{kid: "k1", key: testKeys()[0]}
	z.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		z.fetches.Add(1)
		z.mu.Lock()
		body := JWKS(z.kid, &z.key.PublicKey)
		z.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(z.srv.Close)
	return z
}

// rotate switches to the second key under a new key id.
func (z *fakeZoho) rotate() {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.kid, z.key = "k2", testKeys()[1]
}

func (z *fakeZoho) deskBaseURL() string { return z.srv.URL + "/api/v1" }
func (z *fakeZoho) jwksURL() string     { return z.srv.URL + "/.well-known/jwks.json" }

// sign returns a JWT as Zoho sends it in X-ZDesk-JWT.
func (z *fakeZoho) sign(t testing.TB, orgID, webhookID string, exp time.Time) string {
	t.Helper()
	z.mu.Lock()
	kid, key := z.kid, z.key
	z.mu.Unlock()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": "orgId:" + orgID, "aud": "webhookId:" + webhookID, "iat": exp.Add(-time.Minute).Unix(), "exp": exp.Unix(),
	})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testStore is a SQLite store with one tenant and one connection.
type testStore struct {
	*sqlite.Store
	tenant *store.Tenant
	conn   *store.Connection
}

const testOrgID = "2389290"

func newTestStore(t testing.TB, deskBaseURL string) *testStore {
	t.Helper()
	return newTestStoreAtURL(t, filepath.Join(t.TempDir(), "deskconn.db"), deskBaseURL)
}

// newTestStoreAt is newTestStore on the database file at path.
func newTestStoreAt(t testing.TB, path string) *testStore {
	t.Helper()
	return newTestStoreAtURL(t, path, "https://desk.zoho.com/api/v1")
}

func newTestStoreAtURL(t testing.TB, path, deskBaseURL string) *testStore {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tn := &store.Tenant{Name: "default"}
	if err := s.CreateTenant(t.Context(), tn); err != nil {
		t.Fatal(err)
	}
	c := &store.Connection{TenantID: tn.ID, Name: "demo", ClientID: "1000.X", Status: store.StatusActive,
		DeskBaseURL: deskBaseURL, OrgID: testOrgID}
	if err := s.CreateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return &testStore{Store: s, tenant: tn, conn: c}
}
