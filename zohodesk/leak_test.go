package zohodesk

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/goleak"
)

// endless is an upload source that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// TestUploadGoroutineEndsWhenZohoRefusesEarly runs sequentially (no
// t.Parallel) so that goleak sees only its own goroutines: the multipart
// writer must stop when Desk answers before reading the whole body.
func TestUploadGoroutineEndsWhenZohoRefusesEarly(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.CopyN(io.Discard, r.Body, 1<<10)
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, `{"errorCode":"RESOURCE_SIZE_EXCEEDED","message":"too large"}`)
	}))
	c, err := New(Config{BaseURL: srv.URL + basePath, Tokens: StaticToken(testToken)})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Uploads.Create(t.Context(), testOrg, "big.bin", endless{})
	var te *TransportError
	if !errors.Is(err, ErrTooLarge) && !errors.As(err, &te) {
		t.Errorf("Uploads.Create = %v, want ErrTooLarge or a transport error", err)
	}
	c.hc.CloseIdleConnections()
	srv.Close()
}
