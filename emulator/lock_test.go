package emulator_test

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
)

// firstReadSignal closes started when the handler first reads the body.
type firstReadSignal struct {
	io.ReadCloser
	once    *sync.Once
	started chan struct{}
}

func (s firstReadSignal) Read(p []byte) (int, error) {
	s.once.Do(func() { close(s.started) })
	return s.ReadCloser.Read(p)
}

// TestSlowBodyDoesNotBlockOthers sends an upload or a JSON create whose body
// stalls half-way (a pipe the test feeds), and checks that a GET sent while
// the server is blocked reading that body is answered before the body is
// finished: bodies are read without the emulator's state lock. The slow
// request then completes normally.
func TestSlowBodyDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	const ticketPath = "/api/v1/tickets/1892000000042032" // a seeded spec-sample ticket
	tests := []struct {
		name, path string
		multipart  bool
	}{
		{"attachment", ticketPath + "/attachments", true},
		{"upload", "/api/v1/uploads", true},
		{"create ticket", "/api/v1/tickets", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, emulator.Options{})
			started := make(chan struct{})
			var once sync.Once
			// Replace the env's server with one that reports the first body read.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					r.Body = firstReadSignal{ReadCloser: r.Body, once: &once, started: started}
				}
				e.emu.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			e.srv = srv

			pr, pw := io.Pipe()
			// Runs before srv.Close, so a failed test never leaves the
			// handler waiting for the rest of the body.
			t.Cleanup(func() { pw.CloseWithError(errors.New("test ended")) })
			var head, tail, ct string
			if tc.multipart {
				var sb strings.Builder
				mw := multipart.NewWriter(&sb)
				if _, err := mw.CreateFormFile("file", "slow.txt"); err != nil {
					t.Fatal(err)
				}
				head = sb.String() + "first half;"
				sb.Reset()
				if err := mw.Close(); err != nil {
					t.Fatal(err)
				}
				tail = "second half" + sb.String()
				ct = mw.FormDataContentType()
			} else {
				head = `{"subject":"slow body",`
				tail = `"departmentId":"` + emulator.DemoDepartmentID + `","contactId":"` + emulator.DemoContactID + `"}`
				ct = "application/json"
			}
			req, err := http.NewRequest("POST", srv.URL+tc.path, pr)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Zoho-oauthtoken "+e.token)
			req.Header["orgId"] = []string{emulator.DemoOrgID}
			req.Header.Set("Content-Type", ct)
			type outcome struct {
				status int
				body   string
				err    error
			}
			slow := make(chan outcome, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					slow <- outcome{err: err}
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				slow <- outcome{status: resp.StatusCode, body: string(b), err: err}
			}()
			if _, err := io.WriteString(pw, head); err != nil {
				t.Fatal(err)
			}
			<-started // the slow request is inside the emulator, reading its body

			// A hang detector only: with the body read under the lock, the
			// GET would wait for the body, which the test never finishes.
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			get, err := http.NewRequestWithContext(ctx, "GET", srv.URL+ticketPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			get.Header.Set("Authorization", "Zoho-oauthtoken "+e.token)
			get.Header["orgId"] = []string{emulator.DemoOrgID}
			resp, err := http.DefaultClient.Do(get)
			if err != nil {
				t.Fatalf("GET while a body is in flight: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET while a body is in flight: status %d", resp.StatusCode)
			}
			select {
			case o := <-slow:
				t.Fatalf("the slow request finished before its body was sent: %+v", o)
			default:
			}

			if _, err := io.WriteString(pw, tail); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			o := <-slow
			if o.err != nil || o.status != http.StatusOK {
				t.Fatalf("slow request: %d %s %v", o.status, o.body, o.err)
			}
			if tc.multipart && !strings.Contains(o.body, `"size":"`+strconv.Itoa(len("first half;second half"))+`"`) {
				t.Fatalf("stored size wrong: %s", o.body)
			}
		})
	}
}

// TestLatencyFaultDoesNotHoldStateLock puts a request to sleep in a latency
// fault and checks that the emulator's state stays available meanwhile:
// injected latency occupies the org's concurrency slot, never the state
// mutex.
func TestLatencyFaultDoesNotHoldStateLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{MaxConcurrent: 1})
	// Every departments request sleeps (Times 0): the sleeper's request may
	// first be refused with 429 while a probe below holds the only slot, and
	// then it simply tries again.
	e.emu.AddFault(emulator.Fault{Kind: emulator.FaultLatency, PathPrefix: "/api/v1/departments", Latency: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	sleeper := make(chan error, 1)
	go func() {
		for {
			req, err := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/v1/departments", nil)
			if err != nil {
				sleeper <- err
				return
			}
			req.Header.Set("Authorization", "Zoho-oauthtoken "+e.token)
			req.Header["orgId"] = []string{emulator.DemoOrgID}
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests {
					continue
				}
			}
			sleeper <- err
			return
		}
	}()
	// The only slot is taken once the sleeper is inside its fault.
	for {
		r := e.do("GET", "/api/v1/myinfo", nil)
		if r.status == http.StatusTooManyRequests {
			break
		}
		select {
		case err := <-sleeper:
			t.Fatalf("the latency request returned early: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	// Each of these takes the state lock.
	if n := e.emu.TicketCount(emulator.DemoOrgID); n != emulator.SeedTicketCount {
		t.Fatalf("tickets = %d", n)
	}
	if r := e.get(e.srv.URL + "/oauth/serverinfo"); r.status != http.StatusOK {
		t.Fatalf("serverinfo while a request sleeps: %d", r.status)
	}
	select {
	case err := <-sleeper:
		t.Fatalf("the latency request returned before it was cancelled: %v", err)
	default:
	}
	cancel()
	if err := <-sleeper; err == nil {
		t.Fatal("cancelled latency request succeeded")
	}
}
