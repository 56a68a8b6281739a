package events

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// ReceiverPath is where serve mounts the Receiver. The connection's
// unguessable receiving token travels in the query (parameter "t"), which
// the access log never records, unlike the path.
const ReceiverPath = "/zoho/webhooks"

// ReceiverURL is the address Zoho is given for a connection's webhook.
func ReceiverURL(baseURL, token string) string {
	return strings.TrimSuffix(baseURL, "/") + ReceiverPath + "?t=" + url.QueryEscape(token)
}

// DefaultMaxWebhookBytes caps a webhook body. [GAP] Zoho documents no
// size; a batch of full ticket payloads stays well under it.
const DefaultMaxWebhookBytes = 5 << 20

// AckBudget is how long the receiver may take: Zoho counts only a 200
// within 5 s as delivered [C WH].
const AckBudget = 4 * time.Second

// Receiver receives Zoho's webhook deliveries for every connection. The
// path's token selects the connection (only its SHA-256 is stored); the
// X-ZDesk-JWT header must verify for the connection's organisation and
// webhook. Events are normalised and committed to the log before the 200.
//
// Answers: GET/HEAD 200 (Zoho's URL validation, zoho-desk-api-2.md §1.4);
// POST 200 once stored; 410 for an unknown token or a connection that no
// longer takes webhooks (Zoho then deletes its webhook [C WH]); 401 bad
// JWT; 400 malformed body; 413 oversized body; 503 when the store failed
// (nothing was acknowledged, so Zoho may resend and the poller catches up).
type Receiver struct {
	Store    store.Store
	Log      *Log
	Verifier *Verifier
	MaxBytes int64        // 0: DefaultMaxWebhookBytes
	Logger   *slog.Logger // nil: slog.Default()
}

// TokenHash is how a receiving token is stored.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func (r *Receiver) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// ServeHTTP handles one request to ReceiverPath.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), AckBudget)
	defer cancel()
	token := req.URL.Query().Get("t")
	src, err := r.Store.GetEventSourceByToken(ctx, TokenHash(token))
	if errors.Is(err, store.ErrNotFound) || token == "" {
		// A deleted connection's token is unknown too: 410 makes Zoho
		// delete a webhook that is still pointing here [C WH].
		http.Error(w, "unknown webhook address", http.StatusGone)
		return
	}
	if err != nil {
		r.logger().Error("events: webhook: look up the receiving token", "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	if src.Mode != store.SourceWebhook {
		http.Error(w, "this connection no longer receives webhooks", http.StatusGone)
		return
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		w.WriteHeader(http.StatusOK)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// The connection's organisation and data centre came with the source.
	jwks, err := jwksURL(src.DeskBaseURL)
	if err != nil {
		r.logger().Error("events: webhook: connection has no data centre", "connection", src.ConnectionID, "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	if err := r.Verifier.Verify(ctx, req.Header.Get("X-ZDesk-JWT"), jwks, src.OrgID, src.WebhookID); err != nil {
		r.logger().Warn("events: webhook refused", "connection", src.ConnectionID, "err", err)
		http.Error(w, "invalid X-ZDesk-JWT", http.StatusUnauthorized)
		return
	}
	limit := r.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxWebhookBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read the body", http.StatusBadRequest)
		return
	}
	zevs, err := DecodeWebhook(body)
	if err != nil {
		r.logger().Warn("events: webhook body refused", "connection", src.ConnectionID, "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var norm []*Normalised
	for _, ze := range zevs {
		if ze.OrgID != "" && ze.OrgID != src.OrgID {
			r.logger().Warn("events: webhook event of another organisation skipped", "connection", src.ConnectionID, "eventType", ze.EventType)
			continue
		}
		n, err := Normalise(src.ConnectionID, ze)
		if errors.Is(err, ErrUnknownEvent) {
			r.logger().Debug("events: webhook event type not handled", "connection", src.ConnectionID, "eventType", ze.EventType)
			continue
		}
		if err != nil {
			r.logger().Warn("events: webhook event skipped", "connection", src.ConnectionID, "eventType", ze.EventType, "err", err)
			continue
		}
		norm = append(norm, n)
	}
	if _, err := r.Log.Append(ctx, src.ConnectionID, norm); err != nil {
		r.logger().Error("events: webhook: store events", "connection", src.ConnectionID, "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
	// For the connection's health display, at most once a minute: the
	// events are stored and acknowledged already.
	if now := r.Log.now(); now.Sub(src.LastEventAt) > time.Minute {
		if err := r.Store.TouchEventSource(context.WithoutCancel(ctx), src.ConnectionID, now); err != nil {
			r.logger().Warn("events: webhook: record the last event time", "connection", src.ConnectionID, "err", err)
		}
	}
}
