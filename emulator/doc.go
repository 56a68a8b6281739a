// Package emulator is an in-memory Zoho Accounts (OAuth 2.0) and Zoho Desk
// API v1, faithful enough that a client that works against it works against
// Zoho. It imports nothing of this module: its wire types are its own.
//
// Use it in tests:
//
//	emu := emulator.New(emulator.Options{Now: clock.Now})
//	srv := httptest.NewServer(emu)
//	refresh, access, _ := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, []string{"Desk.tickets.ALL"})
//	// GET srv.URL+"/api/v1/tickets" with "Authorization: Zoho-oauthtoken "+access and "orgId: 2389290"
//
// or run `deskconn emulator --addr 127.0.0.1:8443`. In single-DC mode (the
// default) Accounts (/oauth/...) and Desk (/api/v1/...) share one host. With
// Options.DataCenters (see StartTLS) it serves every DC at once, told apart
// by Host, over TLS with a generated CA.
//
// # What is modelled
//
// Accounts: the consent page (GET /oauth/v2/auth, form POST to
// /oauth/v2/auth/consent with button[name=approve] / button[name=deny] and
// select[name=orgId]), codes valid 2 minutes and single-use, the token
// endpoint (authorization_code, refresh_token; params in query or form;
// errors as HTTP 200 {"error":...}), no refresh-token rotation, the
// 10-requests-per-10-minutes throttle per refresh token, 15 live access
// tokens per refresh token, 20 refresh tokens per user and client, both
// revoke forms and /oauth/serverinfo.
//
// Desk: organizations, accessibleOrganizations, departments, teams,
// products, roles, profiles, myinfo, contacts (list, search, create, get),
// tickets (create, list, get, update, moveToTrash, search), uploads, ticket
// attachments (create, list, content) and agents (add, list, get, by email,
// deactivate, activate), webhooks (create, list, get, update, delete, with
// URL validation, edition limits, JWKS and JWT-signed delivery). Auth is checked in this order: token (401
// INVALID_OAUTH), scope (SCOPE_MISMATCH), orgId present (422), orgId bound
// to the token (OAUTH_ORG_MISMATCH), daily credits (429 THRESHOLD_EXCEEDED
// with Retry-After), per-org concurrency (429 TOO_MANY_REQUESTS), unknown
// query parameters (422).
//
// The seed is described in SEED.md.
//
// # Where it knowingly differs from Zoho
//
//   - SCOPE_MISMATCH and OAUTH_ORG_MISMATCH are 403 and a missing orgId is
//     422 UNPROCESSABLE_ENTITY; Zoho documents none of these statuses [GAP].
//   - The refresh throttle answers HTTP 200 {"error":"Access Denied"}; the
//     exact Zoho body is undocumented [GAP].
//   - Trashed tickets answer 404 URL_NOT_FOUND on get/update [GAP].
//   - moveToTrash accepts at most Options.MaxTrashBatch (50) ids and uploads
//     at most Options.MaxAttachmentBytes (20 MiB); Zoho documents neither.
//   - Unknown JSON body fields are refused with 422 INVALID_DATA (Zoho's
//     strictness varies); unknown query parameters with 422 too.
//   - Search is a linear scan (allocation-free per ticket, so memory per
//     request stays bounded at 100k tickets) with simple semantics: comma = OR, trailing *
//     = prefix, subject/description/_all = substring; no relevance ranking
//     (relevance keeps creation order) and no indexing delay. Search does
//     not support accountId, accountName, tag or custom-field parameters.
//   - Ticket list: viewId and filters are not supported (422); the default
//     order is creation order (ascending). Sorting by dueDate,
//     recentThread (= modifiedTime), responseDueDate or
//     customerResponseTime sorts the matching ticket pointers per request.
//   - No accounts, threads, comments, views, layouts or blueprints.
//     accountId in bodies is always invalid.
//   - Webhooks (webhooks.go) fire Ticket_Add, Ticket_Update and
//     Contact_Add for changes made through this API; failed deliveries are
//     not retried (Zoho's policy is undocumented [GAP]). WebhookFaults
//     inject delay, duplicates, reordering and drops.
//   - Credits reset at 00:00 UTC, not in the DC's time zone; every request
//     that passes auth costs credits (1 per get/create, 3+ per list).
//   - Admin endpoints under /__emulator/ are unauthenticated.
package emulator
