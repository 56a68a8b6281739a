package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// serveAdmin serves the unauthenticated test controls under /__emulator/.
// They exist for local use only (bind the emulator to loopback).
//
//	GET    /__emulator/requests        request log
//	GET    /__emulator/counters        counters
//	POST   /__emulator/reset           restore the seed
//	POST   /__emulator/expire-tokens   expire every access token
//	POST   /__emulator/faults          add a Fault (JSON body, see ParseFault)
//	DELETE /__emulator/faults          clear faults
//	POST   /__emulator/tokens          mint {"clientId","user","orgId","scopes":[...]} -> {"refresh_token","access_token"}
//	PUT    /__emulator/webhook-faults  set WebhookFaults {"delay":"250ms","duplicate":true,"reorder":true,"dropEvery":3}
//	GET    /__emulator/webhook-deliveries  every webhook delivery attempt
func (e *Emulator) serveAdmin(out *resp, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/__emulator/")
	switch r.Method + " " + path {
	case "GET requests":
		out.json(http.StatusOK, e.Requests())
	case "GET counters":
		out.json(http.StatusOK, e.Counters())
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
	case "PUT webhook-faults":
		e.putWebhookFaults(out, r) // webhooks.go
	case "GET webhook-deliveries":
		out.json(http.StatusOK, e.WebhookDeliveries())
	default:
		notFound(out)
	}
}
