package action

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/zohodesk"
)

// unknownOutcome marks an error after which a write may or may not have
// happened.
type unknownOutcome struct{ err error }

func (u *unknownOutcome) Error() string { return u.err.Error() }
func (u *unknownOutcome) Unwrap() error { return u.err }

// OutcomeUnknown wraps err to tell the registry that the handler's writes
// may have taken effect even though it failed (for example a batch failed
// after earlier batches were sent). The registry then records the
// idempotency key as "unknown" instead of freeing it. The error is mapped as
// err itself would be. OutcomeUnknown(nil) is nil.
func OutcomeUnknown(err error) error {
	if err == nil {
		return nil
	}
	return &unknownOutcome{err: err}
}

// outcome classifies what a failed write did at Zoho.
type outcome int

const (
	nothingWritten outcome = iota // proven: no write reached Zoho
	maybeWritten                  // a write may have reached Zoho
)

// classify decides, from a handler's error, whether a write may have
// happened. Only errors that prove nothing was written count as
// nothingWritten: a Zoho 4xx answer, a request never sent, a local
// validation or resolution error. Anything else (5xx, a 2xx answer that
// could not be decoded, a request that may have been sent, a timeout, an
// unexpected error) may have written.
func classify(err error) outcome {
	var unk *unknownOutcome
	if errors.As(err, &unk) {
		return maybeWritten
	}
	var ae *zohodesk.APIError
	if errors.As(err, &ae) {
		if ae.StatusCode >= 500 {
			return maybeWritten
		}
		return nothingWritten
	}
	var dec *zohodesk.DecodeError
	if errors.As(err, &dec) {
		return maybeWritten // Zoho answered 2xx: the write may well have happened
	}
	var te *zohodesk.TransportError
	if errors.As(err, &te) {
		if te.MaybeSent {
			return maybeWritten
		}
		return nothingWritten
	}
	var de *deskconn.Error
	if errors.As(err, &de) || errors.Is(err, zohodesk.ErrInvalid) {
		return nothingWritten
	}
	return maybeWritten
}

// mapError turns a handler error into the domain error, exactly once:
//   - a *deskconn.Error anywhere in the chain (the handler's own, or the
//     connection manager's needs_reauth inside a transport error) passes
//     through as is;
//   - a *zohodesk.APIError maps by Zoho code, then by HTTP status;
//   - a *zohodesk.DecodeError (a 2xx answer that could not be read),
//     transport failures and timeouts are unavailable;
//   - anything else is internal, with the cause kept in Err only.
func mapError(a *Action, err error) *deskconn.Error {
	var de *deskconn.Error
	if errors.As(err, &de) {
		return de
	}
	var ae *zohodesk.APIError
	if errors.As(err, &ae) {
		return mapAPIError(a, ae)
	}
	var dec *zohodesk.DecodeError
	if errors.As(err, &dec) {
		return &deskconn.Error{Code: deskconn.CodeUnavailable, Err: err,
			Message:  fmt.Sprintf("Zoho Desk answered with HTTP %d but a response that could not be read (truncated or not JSON); try again later", dec.StatusCode),
			Upstream: &deskconn.Upstream{Status: dec.StatusCode, RequestID: dec.RequestID}}
	}
	var te *zohodesk.TransportError
	switch {
	case errors.As(err, &te):
		msg := "Zoho Desk could not be reached; try again later"
		var timeout *zohodesk.TimeoutError
		errors.As(err, &timeout)
		switch {
		case timeout != nil && timeout.Stalled:
			msg = fmt.Sprintf("the file transfer with Zoho Desk stalled (nothing moved for %s); try again later", timeout.After)
		case timeout != nil, errors.Is(err, context.DeadlineExceeded):
			msg = "Zoho Desk did not answer in time; try again later"
		case errors.Is(err, context.Canceled):
			msg = "the request was canceled before Zoho Desk answered"
		}
		return &deskconn.Error{Code: deskconn.CodeUnavailable, Message: msg, Err: err}
	case errors.Is(err, zohodesk.ErrInvalid):
		return &deskconn.Error{Code: deskconn.CodeInvalid,
			Message: strings.TrimPrefix(err.Error(), "zohodesk: "), Err: err}
	case errors.Is(err, zohodesk.ErrNotFound):
		return &deskconn.Error{Code: deskconn.CodeNotFound,
			Message: strings.TrimPrefix(err.Error(), "zohodesk: "), Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &deskconn.Error{Code: deskconn.CodeUnavailable, Message: "the action timed out; try again later", Err: err}
	case errors.Is(err, context.Canceled):
		return &deskconn.Error{Code: deskconn.CodeUnavailable, Message: "the request was canceled", Err: err}
	}
	return &deskconn.Error{Code: deskconn.CodeInternal, Message: "internal error", Err: err}
}

// mapAPIError maps a Zoho error response (DESIGN §4; go-style-anchors §4.3).
// The Zoho code decides first, then the HTTP status, as zohodesk.APIError.Is
// does.
func mapAPIError(a *Action, ae *zohodesk.APIError) *deskconn.Error {
	e := &deskconn.Error{Err: ae, Upstream: &deskconn.Upstream{
		Status: ae.StatusCode, ErrorCode: ae.Code, Message: ae.Message, RequestID: ae.RequestID,
	}}
	zohoSays := ""
	if ae.Message != "" {
		zohoSays = " (Zoho Desk: " + ae.Message + ")"
	}
	set := func(code deskconn.Code, format string, args ...any) *deskconn.Error {
		e.Code, e.Message = code, fmt.Sprintf(format, args...)
		return e
	}
	switch ae.Code {
	case zohodesk.CodeInvalidOAuth, zohodesk.CodeUnauthorized:
		return set(deskconn.CodeUnauthenticated,
			"Zoho Desk refused the connection's access token; try again, and if this persists reconnect the connection")
	case zohodesk.CodeScopeMismatch:
		if len(a.info.Scopes) > 0 {
			return set(deskconn.CodeForbidden,
				"the connection was not granted the Zoho OAuth scopes %s needs (%s); add them to the connection's scopes and reconnect it, approving all requested scopes%s",
				a.name, strings.Join(a.info.Scopes, ", "), zohoSays)
		}
		return set(deskconn.CodeForbidden,
			"the connection was not granted the Zoho OAuth scope this action needs; reconnect it and approve all requested scopes%s", zohoSays)
	case zohodesk.CodeOAuthOrgMismatch:
		e.Fields = []deskconn.FieldError{{Pointer: "/orgId", Code: problemInvalid,
			Message: "does not match this connection's organisation; omit it to use the connection's default organisation, or call list_organizations"}}
		return set(deskconn.CodeForbidden, "orgId does not match this connection's organisation")
	case zohodesk.CodeLicenseAccessLimited:
		return set(deskconn.CodeForbidden,
			"the organisation's Zoho Desk edition or licence does not allow this%s", zohoSays)
	case zohodesk.CodeForbidden:
		return set(deskconn.CodeForbidden,
			"the connection's Zoho user lacks the permission this action needs%s", zohoSays)
	case zohodesk.CodeURLNotFound:
		return set(deskconn.CodeNotFound,
			"Zoho Desk found no such object; check the id (list or search actions return valid ids)")
	case zohodesk.CodeInvalidData, zohodesk.CodeUnprocessableEntity, zohodesk.CodeBadRequest,
		zohodesk.CodeEmptyPayload, zohodesk.CodeUnsupportedMediaType:
		return invalidFromZoho(a, e, ae, zohoSays)
	case zohodesk.CodeResourceSizeExceeded:
		return set(deskconn.CodeInvalid, "the request is too large for Zoho Desk%s; send a smaller file or fewer items", zohoSays)
	case zohodesk.CodeThresholdExceeded:
		e.RetryAfter = ae.RetryAfter
		return set(deskconn.CodeRateLimited, "the organisation's daily Zoho Desk API credits are used up; retry after %s", retryText(ae))
	case zohodesk.CodeTooManyRequests:
		e.RetryAfter = ae.RetryAfter
		return set(deskconn.CodeRateLimited, "Zoho Desk is throttling this organisation; retry after %s", retryText(ae))
	}
	switch s := ae.StatusCode; {
	case s == http.StatusTooManyRequests:
		e.RetryAfter = ae.RetryAfter
		return set(deskconn.CodeRateLimited, "Zoho Desk is throttling this organisation; retry after %s", retryText(ae))
	case s == http.StatusNotFound:
		return set(deskconn.CodeNotFound,
			"Zoho Desk found no such object; check the id (list or search actions return valid ids)")
	case s == http.StatusUnauthorized:
		return set(deskconn.CodeUnauthenticated,
			"Zoho Desk refused the connection's access token; try again, and if this persists reconnect the connection")
	case s == http.StatusForbidden:
		return set(deskconn.CodeForbidden, "Zoho Desk refused this action%s", zohoSays)
	case s == http.StatusConflict:
		return set(deskconn.CodeConflict, "Zoho Desk reported a conflict%s", zohoSays)
	case s == http.StatusRequestEntityTooLarge:
		return set(deskconn.CodeInvalid, "the request is too large for Zoho Desk%s; send a smaller file or fewer items", zohoSays)
	case s == http.StatusBadRequest || s == http.StatusUnprocessableEntity || s == http.StatusUnsupportedMediaType:
		return invalidFromZoho(a, e, ae, zohoSays)
	case s >= 500:
		return set(deskconn.CodeUnavailable, "Zoho Desk failed with HTTP %d%s; try again later", s, zohoSays)
	}
	return set(deskconn.CodeInternal, "internal error")
}

func retryText(ae *zohodesk.APIError) string {
	if ae.RetryAfter > 0 {
		return ae.RetryAfter.String()
	}
	return "a short wait"
}

// invalidFromZoho builds an invalid error whose field pointers point into
// the action input: Zoho's pointer prefixed with Info.ZohoFieldPrefix.
func invalidFromZoho(a *Action, e *deskconn.Error, ae *zohodesk.APIError, zohoSays string) *deskconn.Error {
	e.Code = deskconn.CodeInvalid
	e.Message = "Zoho Desk rejected the input" + zohoSays
	if len(ae.Fields) > 0 {
		e.Message = "Zoho Desk rejected the input; fix the fields listed"
	}
	prefix := ""
	if a != nil {
		prefix = a.info.ZohoFieldPrefix
	}
	for _, f := range ae.Fields {
		ptr := f.Pointer
		if ptr != "" && !strings.HasPrefix(ptr, "/") {
			ptr = "/" + ptr
		}
		code := f.Type
		msg := f.Message
		switch f.Type {
		case problemMissing:
			if msg == "" {
				msg = "is required by Zoho Desk: add it"
			}
		case problemDuplicate:
			if msg == "" {
				msg = "is already used by another Zoho Desk record: choose another value"
			}
		default:
			code = problemInvalid
			if msg == "" {
				msg = "was rejected by Zoho Desk as invalid: check the value (lookup actions return valid ids)"
			}
		}
		e.Fields = append(e.Fields, deskconn.FieldError{Pointer: prefix + ptr, Code: code, Message: msg})
	}
	return e
}
