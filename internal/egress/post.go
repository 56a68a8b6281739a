package egress

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

// maxPostAnswer is how much of a POST's answer is read (and discarded) so
// the exchange completes; the answer's content is never used.
const maxPostAnswer = 64 << 10

// Post sends body to rawURL with POST and the given headers under the same
// guard as Open (scheme, credentials, every resolved address checked, the
// checked address dialled, one deadline), and returns the answer's status
// code. Redirects are not followed: a webhook receiver that answers 3xx has
// not taken the delivery, and following it would turn the POST into a GET.
// Errors match the same sentinels as Open's and never contain the URL's
// path or query.
func (f *Fetcher) Post(ctx context.Context, rawURL string, header http.Header, body []byte) (int, error) {
	u, err := f.parse(rawURL)
	if err != nil {
		return 0, err
	}
	host := u.Hostname()
	ctx, cancel := context.WithTimeoutCause(ctx, f.timeout, ErrTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: build request for host %q", ErrInvalidURL, host)
	}
	for k, vs := range header {
		req.Header[k] = append([]string(nil), vs...)
	}
	req.Header.Set("User-Agent", f.userAgent)
	client := *f.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		return 0, fetchError(ctx, host, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxPostAnswer))
	resp.Body.Close()
	return resp.StatusCode, nil
}
