package zohodesk

import (
	"context"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

const (
	testOrg   = "2389290"
	testToken = "1000.aaaa1111bbbb2222cccc3333dddd4444.eeee5555ffff6666aaaa7777bbbb8888"
	basePath  = "/api/v1"
)

// setup starts a test server whose mux serves the Desk API under basePath
// and fails the test for any request outside it (a guard against absolute
// URLs). Retries wait at most a few milliseconds.
func setup(t *testing.T) (*Client, *http.ServeMux, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	root := http.NewServeMux()
	root.Handle(basePath+"/", mux)
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL)
		http.Error(w, "outside base path", http.StatusBadGateway)
	})
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	c, err := New(Config{
		BaseURL: srv.URL + basePath,
		Tokens:  StaticToken(testToken),
		Retry:   RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, mux, srv
}

// wantReq is what a handler expects of a request.
type wantReq struct {
	method string
	path   string
	query  url.Values // nil: no query at all
	org    bool       // whether the orgId header must be testOrg (else absent)
	body   string     // JSON compared semantically; "" means no body
}

// check asserts method, path, query, auth and org headers and JSON body.
func (w wantReq) check(t *testing.T, r *http.Request) {
	t.Helper()
	w.checkHeaders(t, r)
	w.checkBody(t, r)
}

// checkHeaders asserts method, path, query, auth and org headers.
func (w wantReq) checkHeaders(t *testing.T, r *http.Request) {
	t.Helper()
	if r.Method != w.method {
		t.Errorf("method = %s, want %s", r.Method, w.method)
	}
	if r.URL.Path != w.path {
		t.Errorf("path = %s, want %s", r.URL.Path, w.path)
	}
	q := r.URL.Query()
	if len(q) == 0 {
		q = nil
	}
	if !reflect.DeepEqual(q, w.query) {
		t.Errorf("query = %v, want %v", q, w.query)
	}
	if got := r.Header.Get("Authorization"); got != "Zoho-oauthtoken "+testToken {
		t.Errorf("Authorization = %q, want the Zoho-oauthtoken scheme", got)
	}
	got, has := r.Header.Get("orgId"), len(r.Header.Values("orgId")) > 0
	switch {
	case w.org && got != testOrg:
		t.Errorf("orgId = %q, want %q", got, testOrg)
	case !w.org && has:
		t.Errorf("orgId sent (%q) on a call that takes none", got)
	}
}

// checkBody asserts the JSON body (or its absence).
func (w wantReq) checkBody(t *testing.T, r *http.Request) {
	t.Helper()
	body, _ := io.ReadAll(r.Body)
	if w.body == "" {
		if len(body) != 0 {
			t.Errorf("body = %s, want none", body)
		}
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var gotJSON, wantJSON any
	if err := json.Unmarshal(body, &gotJSON); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	if err := json.Unmarshal([]byte(w.body), &wantJSON); err != nil {
		t.Fatalf("bad want body: %v", err)
	}
	if !reflect.DeepEqual(gotJSON, wantJSON) {
		t.Errorf("body = %s, want %s", body, w.body)
	}
}

// serve registers pattern on mux: it checks the request and answers status
// with body.
func serve(t *testing.T, mux *http.ServeMux, pattern string, w wantReq, status int, body string) {
	t.Helper()
	mux.HandleFunc(pattern, func(rw http.ResponseWriter, r *http.Request) {
		w.check(t, r)
		if body != "" {
			rw.Header().Set("Content-Type", "application/json")
		}
		rw.Header().Set(HeaderRequestWeight, "1")
		rw.Header().Set(HeaderRemaining, "4999")
		rw.WriteHeader(status)
		io.WriteString(rw, body)
	})
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func ptr[T any](v T) *T { return &v }

var errCanceled = context.Canceled

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	return ctx, cancel
}

// hasKey reports whether the JSON object raw has the key.
func hasKey(raw []byte, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

// drain counts the items of an iterator and returns its first error.
func drain[T any](seq iter.Seq2[T, error]) (int, error) {
	n := 0
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx, cancel
}
