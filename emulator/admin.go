package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// serveAdmin serves the unauthenticated test controls under /__emulator/.
// They exist for local use only (bind the emulator to loopback). They never
// reveal a token the emulator issued: the counters key token requests by
// TokenFingerprint, the request log redacts secrets in queries. Only
// POST /__emulator/tokens answers tokens: the ones it mints for the caller.
//
//	GET    /__emulator/requests        request log
//	GET    /__emulator/counters        counters (token requests by fingerprint)
//	POST   /__emulator/reset           restore the seed
//	POST   /__emulator/expire-tokens   expire every access token
//	POST   /__emulator/faults          add a Fault (JSON body, see ParseFault)
//	DELETE /__emulator/faults          clear faults
//	POST   /__emulator/tokens          mint {"clientId","user","orgId","scopes":[...]} -> {"refresh_token","access_token"}
//	POST   /__emulator/customer-reply  {"orgId","ticketId","content"}: the customer answers by e-mail (AddCustomerReply) -> {"threadId"}
//	PUT    /__emulator/webhook-faults  set WebhookFaults {"delay":"250ms","duplicate":true,"reorder":true,"dropEvery":3}
//	GET    /__emulator/webhook-deliveries  every webhook delivery attempt
func (e *Emulator) serveAdmin(out *resp, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/__emulator/")
	switch r.Method + " " + path {
	case "GET requests":
		out.json(http.StatusOK, e.Requests())
	case "GET counters":
		c := e.Counters()
		byPrint := make(map[string]int, len(c.TokenRequests))
		for tok, n := range c.TokenRequests {
			byPrint[TokenFingerprint(tok)] += n
		}
		c.TokenRequests = byPrint
		out.json(http.StatusOK, c)
	case "POST reset":
		e.Reset()
		out.noContent(http.StatusNoContent)
	case "POST expire-tokens":
		e.ExpireAccessTokens()
		out.noContent(http.StatusNoContent)
	case "POST faults":
		data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<16))
		if err != nil {
			writeZohoError(out, http.StatusBadRequest, "BAD_REQUEST", "The fault body could not be read (at most 64 KiB).", nil)
			return
		}
		f, err := ParseFault(data)
		if err != nil {
			writeZohoError(out, http.StatusBadRequest, "BAD_REQUEST", err.Error(), nil)
			return
		}
		e.AddFault(f)
		out.noContent(http.StatusNoContent)
	case "DELETE faults":
		e.SetFaults()
		out.noContent(http.StatusNoContent)
	case "POST tokens":
		var req struct {
			ClientID string   `json:"clientId"`
			User     string   `json:"user"`
			OrgID    string   `json:"orgId"`
			Scopes   []string `json:"scopes"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&req); err != nil {
			writeZohoError(out, http.StatusBadRequest, "BAD_REQUEST", "The body must be JSON.", nil)
			return
		}
		refresh, access, err := e.MintToken(req.ClientID, req.User, req.OrgID, req.Scopes)
		if err != nil {
			writeZohoError(out, http.StatusUnprocessableEntity, "INVALID_DATA", err.Error(), nil)
			return
		}
		out.json(http.StatusOK, map[string]string{"refresh_token": refresh, "access_token": access})
	case "POST customer-reply":
		var req struct {
			OrgID    string `json:"orgId"`
			TicketID string `json:"ticketId"`
			Content  string `json:"content"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&req); err != nil || req.Content == "" {
			writeZohoError(out, http.StatusBadRequest, "BAD_REQUEST", "The body must be JSON with orgId, ticketId and a non-empty content (at most 1 MiB).", nil)
			return
		}
		id, err := e.AddCustomerReply(req.OrgID, req.TicketID, req.Content)
		if err != nil {
			notFound(out)
			return
		}
		out.json(http.StatusOK, map[string]string{"threadId": id})
	case "PUT webhook-faults":
		e.putWebhookFaults(out, r) // webhooks.go
	case "GET webhook-deliveries":
		out.json(http.StatusOK, e.WebhookDeliveries())
	default:
		notFound(out)
	}
}

// TokenFingerprint is how the admin endpoints name a token: "sha256:" and
// the first 12 hex digits of its SHA-256, enough to tell tokens apart and
// not reversible.
func TokenFingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:6])
}
