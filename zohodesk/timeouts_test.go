package zohodesk

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// slowBody answers with body in chunks, pausing between them, so that the
// answer takes at least chunks × pause to arrive in full while never
// pausing for longer than pause.
func slowBody(body string, chunks int, pause time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		size := (len(body) + chunks - 1) / chunks
		for rest := body; rest != ""; {
			n := min(size, len(rest))
			if _, err := io.WriteString(w, rest[:n]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			rest = rest[n:]
			if rest != "" {
				time.Sleep(pause) // shapes the transfer; nothing waits on it
			}
		}
	}
}

// stallAfter writes part, then sends nothing more until the client gives
// up on the request.
func stallAfter(part string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, part)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
}

func timeoutClient(t *testing.T, srv *httptest.Server, attempt, stall time.Duration) *Client {
	t.Helper()
	c, err := New(Config{BaseURL: srv.URL + basePath, Tokens: StaticToken(testToken), AttemptTimeout: attempt, StallTimeout: stall,
		Retry: RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTransfersAreBoundedByProgressNotTotalTime: a download that keeps
// moving completes however long it takes in total, where a JSON call that
// takes as long fails: with an http.Client.Timeout (the connection
// manager's default until now), any attachment slower than 20 MiB in 30 s
// was cut off.
func TestTransfersAreBoundedByProgressNotTotalTime(t *testing.T) {
	t.Parallel()
	ticket := `{"id":"7","subject":"` + strings.Repeat("x", 400) + `"}`
	file := strings.Repeat("0123456789", 100)
	mux := http.NewServeMux()
	// Each answer takes at least 5 × 4 ms, far past the 1 ms AttemptTimeout
	// and far below the StallTimeout between chunks.
	mux.Handle("/api/v1/tickets/7", slowBody(ticket, 5, 4*time.Millisecond))
	mux.Handle("/api/v1/tickets/7/attachments/9/content", slowBody(file, 5, 4*time.Millisecond))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := timeoutClient(t, srv, time.Millisecond, time.Minute)

	rc, _, err := c.TicketAttachments.Download(t.Context(), testOrg, "tickets/7/attachments/9/content")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != file {
		t.Errorf("download read %d bytes, %v; want the whole file", len(got), err)
	}

	_, _, err = c.Tickets.Get(t.Context(), testOrg, "7", nil)
	var te *TimeoutError
	if !errors.As(err, &te) || te.Stalled || te.After != time.Millisecond || !errors.Is(err, ErrAttemptTimeout) || !errors.Is(err, ErrUnavailable) {
		t.Errorf("slow JSON answer: err = %v, want an attempt timeout after 1ms (unavailable)", err)
	}
}

// TestDownloadThatStallsFails: a download that stops moving fails its
// read with a stall, not with a bare "context canceled".
func TestDownloadThatStallsFails(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(stallAfter("the first bytes"))
	defer srv.Close()
	c := timeoutClient(t, srv, time.Minute, 50*time.Millisecond)
	var got []byte
	rc, _, err := c.TicketAttachments.Download(t.Context(), testOrg, "tickets/7/attachments/9/content")
	if err == nil { // else the headers themselves came too late: a stall too
		got, err = io.ReadAll(rc)
		rc.Close()
	}
	var te *TimeoutError
	if !errors.As(err, &te) || !te.Stalled || te.After != 50*time.Millisecond || !errors.Is(err, ErrAttemptTimeout) {
		t.Fatalf("read after %q: err = %v, want a stall after 50ms", got, err)
	}
	if !strings.Contains(err.Error(), "stalled") {
		t.Errorf("error %q does not say the transfer stalled", err)
	}
}

// TestUploadThatStallsFails: an upload Zoho stops reading fails once
// nothing has moved for StallTimeout, and is not resent.
func TestUploadThatStallsFails(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	// The handler reads nothing: once the connection's buffers are full,
	// the upload cannot move. (A server that reads no body does not notice
	// the client going away, so the handler ends with the test.)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		<-done
	}))
	defer srv.Close()
	defer close(done)
	c := timeoutClient(t, srv, time.Minute, 100*time.Millisecond)
	const size = 256 << 20 // more than loopback's socket buffers hold
	_, _, err := c.Uploads.Create(t.Context(), testOrg, "big.bin", Sized(io.LimitReader(zeros{}, size), size))
	// (On a machine busy enough to hold the request back for the whole
	// bound before it is sent, the stall comes earlier: still a stall.)
	var te *TimeoutError
	var tre *TransportError
	if !errors.As(err, &te) || !te.Stalled || !errors.As(err, &tre) {
		t.Fatalf("err = %v, want a stalled transfer", err)
	}
	if n := calls.Load(); n > 1 {
		t.Errorf("the server saw %d requests, want at most 1 (an upload is never resent)", n)
	}
}

// TestCallerCancellationIsNotATimeout: the caller's own deadline is
// reported as such even when it falls within an attempt's bound.
func TestCallerCancellationIsNotATimeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(stallAfter(""))
	defer srv.Close()
	c := timeoutClient(t, srv, time.Minute, time.Minute)
	ctx, cancel := contextWithTimeout(t, 20*time.Millisecond)
	defer cancel()
	_, _, err := c.Tickets.Get(ctx, testOrg, "7", nil)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrAttemptTimeout) {
		t.Errorf("err = %v, want the caller's deadline, not an attempt timeout", err)
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
