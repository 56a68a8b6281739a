package zohodesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	segjson "github.com/segmentio/encoding/json"
)

// HeaderRequestID is the response header read into RequestID fields.
// Recorded desk.zoho.com answers carry no request-id header at all
// (fidelity audit row 30), so RequestID is empty against Zoho and nothing
// may depend on it; X-Request-Id is read in case a proxy or a future Zoho
// sends one (the emulator does with Options.RequestIDs).
const HeaderRequestID = "X-Request-Id"

const maxErrorBody = 1 << 20

// request describes one API operation.
type request struct {
	method string
	// tmpl is the path template relative to the base ("tickets/{ticketId}"),
	// reported to OnResponse.
	tmpl string
	// path is the escaped path relative to the base ("tickets/123"); abs,
	// when set, replaces it.
	path  string
	abs   *url.URL
	query url.Values
	// orgID is sent as the "orgId" header when withOrg is true.
	orgID   string
	withOrg bool
	// jsonBody, when non-nil, is marshalled as the JSON request body.
	jsonBody any
	// stream, when set, is called once to produce a body that cannot be
	// rewound (a streamed multipart upload), with its content type and
	// length (-1: unknown, sent chunked).
	stream func() (io.ReadCloser, string, int64)
	// accept is the Accept header; "" means application/json. Content
	// downloads send "*/*": the answer is the file, not JSON, and Zoho
	// documents no 406 behaviour for a JSON-only Accept (fidelity audit
	// row 4) [I].
	accept string
	// download marks a call whose answer is a file streamed to the caller.
	download bool
	// aliasRaw decodes json.RawMessage values in the answer as slices of
	// its body rather than copies: the body is read into a buffer of its
	// own and never reused, so they stay valid (and keep the whole body
	// alive). For answers whose raw parts are the bulk of the body (a page
	// of raw tickets), it spares copying it twice.
	aliasRaw bool
}

// transfers reports whether r moves a file (an upload or a download),
// whose attempts are bounded by progress rather than by total time.
func (r *request) transfers() bool { return r.stream != nil || r.download }

func (r *request) displayPath(c *Client) string {
	if r.abs != nil {
		return r.abs.Path
	}
	return c.base.Path + r.path
}

// do sends r and decodes a JSON success body into out (if out is non-nil and
// the status is not 204).
func (c *Client) do(ctx context.Context, r *request, out any) (*Response, error) {
	resp, release, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	defer release()
	defer resp.Body.Close()
	res := &Response{StatusCode: resp.StatusCode, RequestID: resp.Header.Get(HeaderRequestID), RateLimit: ParseRateLimit(resp.Header)}
	body, err := readBody(resp)
	if err != nil {
		return nil, &TransportError{Method: r.method, Path: r.displayPath(c), MaybeSent: true, Attempts: 1, Err: fmt.Errorf("read response body: %w", err)}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(body)) == 0 {
		return res, nil
	}
	// segmentio's decoder reads the body in one pass (encoding/json scans
	// it once to validate, then again to decode, and again for every
	// nested Unmarshaler); it is encoding/json's drop-in, with the same
	// error types.
	var flags segjson.ParseFlags
	if r.aliasRaw {
		flags = segjson.DontCopyRawMessage
	}
	if err := unmarshal(body, out, flags); err != nil {
		return res, newDecodeError(r.method, r.displayPath(c), resp, body, err)
	}
	return res, nil
}

// unmarshal is segjson.Unmarshal with parse flags: it decodes the one JSON
// value b holds into out, and refuses anything after it.
func unmarshal(b []byte, out any, flags segjson.ParseFlags) error {
	rest, err := segjson.Parse(b, out, flags)
	if len(rest) == 0 {
		return err
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return err
	}
	// As segjson.Unmarshal (and encoding/json): trailing bytes are
	// reported before any other decoding error.
	return fmt.Errorf("json: invalid character %q after top-level value", rest[0])
}

// maxPresized bounds the buffer readBody allocates up front from a
// response's Content-Length (a larger body still reads, growing as it goes).
const maxPresized = 8 << 20

// readBody reads a response body whole into a buffer sized from its
// Content-Length when Zoho sends one: io.ReadAll starts at 512 bytes and
// doubles, which for a 100-ticket page is a dozen copies and about twice
// the body in garbage.
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= maxPresized {
		// net/http ends the body at Content-Length: a shorter one is
		// io.ErrUnexpectedEOF, and nothing follows it.
		buf := make([]byte, n)
		_, err := io.ReadFull(resp.Body, buf)
		return buf, err
	}
	return io.ReadAll(resp.Body)
}

// send performs r with retries, one token refresh on 401 INVALID_OAUTH, and
// per-org limiting. On success the caller must close the body and then call
// release.
func (c *Client) send(ctx context.Context, r *request) (*http.Response, func(), error) {
	var payload []byte
	if r.jsonBody != nil {
		var err error
		if payload, err = json.Marshal(r.jsonBody); err != nil {
			return nil, nil, fmt.Errorf("zohodesk: %s %s: encode request body: %w", r.method, r.displayPath(c), err)
		}
	}
	token, err := c.tokens.Token(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("zohodesk: %s %s: get access token: %w", r.method, r.displayPath(c), err)
	}
	var (
		anySent   bool
		refreshed bool
	)
	for attempt, n := 1, 1; ; n++ {
		clock := c.startAttempt(ctx, r)
		req, err := c.newHTTPRequest(clock.ctx, r, payload, token)
		if err != nil {
			clock.end()
			return nil, nil, err
		}
		if r.stream != nil {
			req.Body = &watchedBody{ReadCloser: req.Body, clock: clock}
		}
		var sent atomic.Bool
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			WroteHeaderField: func(string, []string) { sent.Store(true) },
		}))
		release, err := c.limiter.Acquire(ctx, r.orgID)
		if err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			clock.end()
			return nil, nil, &TransportError{Method: r.method, Path: r.displayPath(c), MaybeSent: anySent, Attempts: n - 1, Err: fmt.Errorf("acquire limiter: %w", err)}
		}
		if hook := dispatchHook(ctx, r.method); hook != nil {
			if err := hook(ctx); err != nil {
				release()
				if req.Body != nil {
					req.Body.Close()
				}
				clock.end()
				return nil, nil, &TransportError{Method: r.method, Path: r.displayPath(c), MaybeSent: anySent, Attempts: n - 1, Err: fmt.Errorf("before dispatch: %w", err)}
			}
		}
		start := time.Now()
		resp, err := c.hc.Do(req)
		anySent = anySent || sent.Load()
		info := ResponseInfo{Method: r.method, OrgID: r.orgID, PathTemplate: "/" + r.tmpl, Attempt: n, Duration: time.Since(start)}
		if err != nil {
			release()
			clock.end()
			if ctx.Err() != nil {
				err = ctx.Err()
			} else if ue := (*url.Error)(nil); errors.As(err, &ue) {
				err = ue.Err
			}
			err = clock.cause(err)
			info.Err = err
			c.report(info)
			wait, retry := c.retry.retryWait(attempt, attemptOutcome{method: r.method, rewinds: r.stream == nil, maybeSent: sent.Load(), transport: err})
			if retry && sleep(ctx, wait) {
				attempt++
				continue
			}
			return nil, nil, &TransportError{Method: r.method, Path: r.displayPath(c), MaybeSent: anySent, Attempts: n, Err: err}
		}
		info.StatusCode = resp.StatusCode
		info.RequestID = resp.Header.Get(HeaderRequestID)
		info.RateLimit = ParseRateLimit(resp.Header)
		clock.progress() // the answer's headers
		resp.Body = &watchedBody{ReadCloser: resp.Body, clock: clock}
		if resp.StatusCode < 300 {
			c.report(info)
			return resp, func() { release(); clock.end() }, nil
		}
		apiErr := c.readError(r, resp)
		release()
		clock.end()
		info.ErrorCode = apiErr.Code
		c.report(info)
		if apiErr.StatusCode == http.StatusUnauthorized && apiErr.Code == CodeInvalidOAuth && !refreshed {
			refreshed = true
			fresh, rerr := c.tokens.Refresh(ctx, token)
			if rerr != nil {
				return nil, nil, fmt.Errorf("zohodesk: %s %s: refresh access token: %w (after %w)", r.method, r.displayPath(c), rerr, apiErr)
			}
			token = fresh
			if r.stream == nil {
				continue // the refresh retry does not use the retry budget
			}
			apiErr.Refreshed = true
			return nil, nil, apiErr
		}
		wait, retry := c.retry.retryWait(attempt, attemptOutcome{method: r.method, rewinds: r.stream == nil, maybeSent: true, apiErr: apiErr})
		if retry && sleep(ctx, wait) {
			attempt++
			continue
		}
		return nil, nil, apiErr
	}
}

func (c *Client) report(info ResponseInfo) {
	if c.onResponse != nil {
		c.onResponse(info)
	}
}

func (c *Client) newHTTPRequest(ctx context.Context, r *request, payload []byte, token string) (*http.Request, error) {
	var u *url.URL
	if r.abs != nil {
		u = r.abs
	} else {
		var err error
		if u, err = c.base.Parse(r.path); err != nil {
			return nil, fmt.Errorf("zohodesk: %s %s: build URL: %w", r.method, r.path, err)
		}
	}
	if len(r.query) > 0 {
		cp := *u
		cp.RawQuery = r.query.Encode()
		u = &cp
	}
	var (
		body        io.Reader
		contentType string
		length      int64 = -1
	)
	switch {
	case r.stream != nil:
		rc, ct, n := r.stream()
		body, contentType, length = rc, ct, n
	case payload != nil:
		body, contentType = bytes.NewReader(payload), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		if rc, ok := body.(io.Closer); ok {
			rc.Close() // ends a streaming goroutine
		}
		return nil, fmt.Errorf("zohodesk: %s %s: build request: %w", r.method, r.displayPath(c), err)
	}
	if r.stream != nil && length >= 0 {
		req.ContentLength = length
	}
	req.Header.Set("Authorization", "Zoho-oauthtoken "+token)
	accept := r.accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", c.userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.withOrg {
		// Not canonicalised: Desk documents the spelling "orgId".
		req.Header["orgId"] = []string{r.orgID}
	}
	return req, nil
}

// readError consumes and closes an error response.
func (c *Client) readError(r *request, resp *http.Response) *APIError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := decodeErrorBody(resp.StatusCode, body)
	e.Method, e.Path = r.method, r.displayPath(c)
	e.RequestID = resp.Header.Get(HeaderRequestID)
	e.RateLimit = ParseRateLimit(resp.Header)
	if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && e.Message == "" {
		host := ""
		if loc, err := resp.Location(); err == nil {
			host = loc.Host
		}
		e.Message = fmt.Sprintf("refused to follow redirect to host %q (wrong data centre?)", host)
	}
	if resp.StatusCode == http.StatusUnauthorized && e.Code == "" && isHTML(resp.Header.Get("Content-Type"), body) {
		// Zoho answers a token of another data centre or organisation with
		// an HTML page, not an error body (team reference §2.4; fidelity
		// audit row 17). Refreshing cannot help, so the client does not.
		e.Message = "Zoho answered with an HTML page instead of an API error: the access token is for another data centre or organisation; reconnect the connection in the right one"
	}
	return e
}

// isHTML reports whether a response is an HTML page, by its Content-Type
// or, when that is missing or wrong, by how its body starts.
func isHTML(contentType string, body []byte) bool {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/html") {
		return true
	}
	head := strings.ToLower(strings.TrimSpace(string(body[:min(len(body), 64)])))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// segment escapes one path segment, refusing empty and dot segments that
// would change which resource is addressed.
func segment(name, v string) (string, error) {
	if v == "" || v == "." || v == ".." {
		return "", invalidf("%s must not be empty", name)
	}
	return url.PathEscape(v), nil
}

// needOrg refuses an empty organization id before any request is sent.
func needOrg(orgID string) error {
	if strings.TrimSpace(orgID) == "" {
		return invalidf("orgID must not be empty")
	}
	return nil
}
