package contract_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/contract"
)

// TestRecorderCatchesDivergence proves validation is not vacuous: a wrong
// field type, an undeclared operation and a missing orgId header are all
// reported, and the exchange is counted.
func TestRecorderCatchesDivergence(t *testing.T) {
	s := loadSpec(t)
	fake := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[{"id":"1","name":"Support","isEnabled":"yes"}]}`) // isEnabled must be a boolean
	})
	rec := contract.NewRecorder(s, fake, contract.ValidateRequests)
	srv := httptest.NewServer(rec)
	defer srv.Close()
	for _, path := range []string{"/api/v1/departments", "/api/v1/noSuchThing"} {
		resp, err := http.Get(srv.URL + path) // no orgId header
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	var text []string
	for _, p := range rec.Problems() {
		text = append(text, p.String())
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"isEnabled", "no operation in Zoho's spec", "orgId"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems do not mention %q:\n%s", want, all)
		}
	}
	if x := rec.Exchanges()["GET /api/v1/departments"]; x.Requests != 1 || x.Responses[200] != 1 {
		t.Errorf("exchanges = %+v, want 1 request and one 200", x)
	}
}
