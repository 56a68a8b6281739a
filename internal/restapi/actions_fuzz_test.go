package restapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/restapi"
)

// FuzzRunActionBody sends arbitrary bodies to an action and checks that
// the answer is always either the action's JSON output or a well-formed
// problem with a client-error status: no body makes the server fail.
func FuzzRunActionBody(f *testing.F) {
	// The fuzzer sends thousands of requests a second with one key: the
	// per-key limits (tested in limits_test.go) would answer 429.
	e := newActEnv(f, actOpts{maxBody: 4 << 10, limits: restapi.Limits{KeyRate: -1, KeyConcurrency: -1}})
	for _, s := range []string{
		`{"text":"hi"}`, `{"text":"hi","count":3}`, ``, `null`, `[]`, `{"text":`, `{"text":"a"} x`,
		`{"text":"a","count":1e400}`, "{\"text\":\"\xff\"}", `{"text":"a","text":"b"}`, strings.Repeat("[", 5000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/v1/connections/main/actions/echo", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.keyA.Reveal())
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var out map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out["tenant"] != e.tenantA.ID {
				t.Fatalf("200 with %s", rec.Body.String())
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			var p restapi.Problem
			if rec.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != rec.Code || p.Code != "invalid" {
				t.Fatalf("%d with %s", rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}
