package zohodesk

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	segjson "github.com/segmentio/encoding/json"
)

// TestUndecodableSuccessIsDecodeError answers 2xx with bodies the client
// cannot decode: each call must fail with a *DecodeError that matches
// ErrUnavailable (not ErrRequestNotSent), says the request was sent, and
// carries at most a short, redacted excerpt of the body.
func TestUndecodableSuccessIsDecodeError(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("SECRET-BODY-", 40)
	tests := []struct {
		name, contentType, body string
		status                  int
	}{
		{"truncated json", "application/json", `{"id":"1","subject":"Trunc`, http.StatusOK},
		{"html page", "text/html", `<html><body>Maintenance access_token=` + testToken + ` ` + secret + `</body></html>`, http.StatusOK},
		{"token in json", "application/json", `{"x": "` + testToken + `"` + secret, http.StatusCreated},
		{"wrong shape", "application/json", `{"id":{"nested":true}}`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/api/v1/tickets/1", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.Header().Set(HeaderRequestID, "req-9")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			got, resp, err := c.Tickets.Get(t.Context(), testOrg, "1", nil)
			if got != nil {
				t.Errorf("result = %+v, want nil", got)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want *DecodeError", err, err)
			}
			if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRequestNotSent) || !de.RequestSent() {
				t.Errorf("err %v: Is(ErrUnavailable) %v, Is(ErrRequestNotSent) %v, RequestSent %v; want true, false, true",
					err, errors.Is(err, ErrUnavailable), errors.Is(err, ErrRequestNotSent), de.RequestSent())
			}
			if de.StatusCode != tt.status || de.Method != "GET" || de.Path != "/api/v1/tickets/1" || de.RequestID != "req-9" || de.ContentType != tt.contentType {
				t.Errorf("DecodeError = %+v", de)
			}
			if resp == nil || resp.StatusCode != tt.status {
				t.Errorf("resp = %+v, want status %d", resp, tt.status)
			}
			if len(de.Excerpt) > maxDecodeExcerpt || !utf8.ValidString(de.Excerpt) {
				t.Errorf("excerpt %q: longer than %d bytes or not UTF-8", de.Excerpt, maxDecodeExcerpt)
			}
			if !strings.HasPrefix(tt.body, de.Excerpt[:min(len(de.Excerpt), 6)]) {
				t.Errorf("excerpt %q does not start like the body", de.Excerpt)
			}
			for _, s := range []string{de.Error(), de.Excerpt} {
				if strings.Contains(s, testToken) || strings.Contains(s, "1000.aaaa") || strings.Contains(s, secret) {
					t.Errorf("%q holds the token or more than an excerpt of the body", s)
				}
			}
		})
	}
}

// TestStreamedUploadReportsRefresh: a streamed upload refused with 401
// INVALID_OAUTH is not resent, but after a successful refresh the error
// says so (Refreshed), and the caller's second call uses the new token.
// When the refresh fails, Refreshed is false.
func TestStreamedUploadReportsRefresh(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	var calls atomic.Int32
	handler := func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Zoho-oauthtoken fresh" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errorCode":"INVALID_OAUTH","message":"The OAuth Token you provided is invalid."}`)
			return
		}
		if _, content := readFilePart(t, r); content != "payload" {
			t.Errorf("content = %q", content)
		}
		io.WriteString(w, fixture(t, "upload.json"))
	}
	mux.HandleFunc("/api/v1/uploads", handler)
	ts := &refreshingTokens{current: "old"}
	c := newTestClient(t, srv, ts)
	_, _, err := c.Uploads.Create(t.Context(), testOrg, "a.txt", strings.NewReader("payload"))
	var ae *APIError
	if !errors.As(err, &ae) || !ae.Refreshed || ae.Code != CodeInvalidOAuth || calls.Load() != 1 || ts.refreshes != 1 {
		t.Fatalf("first upload: err %v (Refreshed %v), calls %d, refreshes %d; want INVALID_OAUTH, Refreshed, 1 call, 1 refresh",
			err, ae != nil && ae.Refreshed, calls.Load(), ts.refreshes)
	}
	if u, _, err := c.Uploads.Create(t.Context(), testOrg, "a.txt", strings.NewReader("payload")); err != nil || u.ID == "" {
		t.Fatalf("second upload: %+v, %v", u, err)
	}

	failing := newTestClient(t, srv, &refreshingTokens{current: "old", fail: ErrCannotRefresh})
	_, _, err = failing.Uploads.Create(t.Context(), testOrg, "a.txt", strings.NewReader("payload"))
	if !errors.As(err, &ae) || ae.Refreshed || !errors.Is(err, ErrCannotRefresh) {
		t.Errorf("failed refresh: err %v, Refreshed %v; want the refresh error and Refreshed false", err, ae != nil && ae.Refreshed)
	}
}

// endlessReader never ends; it flags any Read after done is set.
type endlessReader struct {
	done  atomic.Bool
	late  atomic.Int32
	reads atomic.Int32
}

func (e *endlessReader) Read(p []byte) (int, error) {
	if e.done.Load() {
		e.late.Add(1)
	}
	e.reads.Add(1)
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// TestUploadStopsReadingOnReturn: once Create returns, the content reader
// is never read again, even when Zoho answered before reading the body, so
// the caller can close or reopen its source.
func TestUploadStopsReadingOnReturn(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/v1/tickets/7/attachments", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 1024)
		r.Body.Read(buf) // some of the file, not all of it
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, `{"errorCode":"RESOURCE_SIZE_EXCEEDED"}`)
	})
	for range 5 {
		r := &endlessReader{}
		_, _, err := c.TicketAttachments.Create(t.Context(), testOrg, "7", "big.bin", r, nil)
		r.done.Store(true)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
		before := r.reads.Load()
		// Give a stray writer goroutine every chance to read again.
		for range 100 {
			runtime.Gosched()
		}
		if r.late.Load() != 0 || r.reads.Load() != before {
			t.Fatalf("the reader was read %d time(s) after Create returned", r.late.Load())
		}
	}
}

// FuzzNewDecodeError: whatever the body, the excerpt is short, valid UTF-8
// and free of the token, and the error text holds no part of the body
// beyond the decoder's own message.
func FuzzNewDecodeError(f *testing.F) {
	f.Add([]byte(`{"id":"1","subj`))
	f.Add([]byte(`<html>` + testToken + `</html>`))
	f.Add([]byte("\xff\xfe{\"access_token\":\"abc\"}"))
	f.Add([]byte(strings.Repeat("é", 200)))
	f.Fuzz(func(t *testing.T, body []byte) {
		var v struct{ ID string }
		jerr := json.Unmarshal(body, &v)
		if jerr == nil {
			return
		}
		resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}
		de := newDecodeError("GET", "/api/v1/x", resp, append(body, []byte(" "+testToken)...), jerr)
		if len(de.Excerpt) > maxDecodeExcerpt || !utf8.ValidString(de.Excerpt) {
			t.Errorf("excerpt %q: too long or not UTF-8", de.Excerpt)
		}
		if strings.Contains(de.Excerpt, testToken) || strings.Contains(de.Error(), testToken) {
			t.Errorf("token leaked: %q / %q", de.Excerpt, de.Error())
		}
		if !errors.Is(de, ErrUnavailable) {
			t.Errorf("%v does not match ErrUnavailable", de)
		}
	})
}

// FuzzUnmarshalRawRows: decoding a list with rows that alias the body
// accepts and refuses what segjson.Unmarshal does, and gives the same rows.
func FuzzUnmarshalRawRows(f *testing.F) {
	f.Add(`{"data":[{"id":"1"},null,{"id":"2"}]}`)
	f.Add(`{"data":[]} {}`)
	f.Add(`{"data":[{"id":}]}`)
	f.Add(` {"data":null} `)
	f.Fuzz(func(t *testing.T, in string) {
		type list struct {
			Data []json.RawMessage `json:"data"`
		}
		var aliased, copied list
		errA := unmarshal([]byte(in), &aliased, segjson.DontCopyRawMessage)
		errC := segjson.Unmarshal([]byte(in), &copied)
		if (errA == nil) != (errC == nil) {
			t.Fatalf("unmarshal(%q) = %v, segjson.Unmarshal = %v", in, errA, errC)
		}
		if errA != nil {
			return
		}
		if len(aliased.Data) != len(copied.Data) {
			t.Fatalf("unmarshal(%q): %d rows, segjson.Unmarshal %d", in, len(aliased.Data), len(copied.Data))
		}
		for i := range aliased.Data {
			if string(aliased.Data[i]) != string(copied.Data[i]) {
				t.Fatalf("unmarshal(%q): row %d = %s, segjson.Unmarshal %s", in, i, aliased.Data[i], copied.Data[i])
			}
		}
	})
}
