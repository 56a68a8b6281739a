package zohodesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Category sentinels. Use errors.Is(err, ErrNotFound) and so on; *APIError
// and *TransportError map themselves onto them.
var (
	// ErrNotFound: 404 (Zoho's URL_NOT_FOUND also means "no such id"), or
	// an agent looked up by email that does not exist.
	ErrNotFound = errors.New("zohodesk: not found")
	// ErrUnauthorized: the access token is invalid or expired
	// (INVALID_OAUTH, UNAUTHORIZED, or any other 401).
	ErrUnauthorized = errors.New("zohodesk: unauthorized")
	// ErrForbidden: FORBIDDEN, SCOPE_MISMATCH, OAUTH_ORG_MISMATCH,
	// LICENSE_ACCESS_LIMITED, or any other 403.
	ErrForbidden = errors.New("zohodesk: forbidden")
	// ErrRateLimited: 429, both THRESHOLD_EXCEEDED (daily credits, with
	// Retry-After) and TOO_MANY_REQUESTS (concurrency).
	ErrRateLimited = errors.New("zohodesk: rate limited")
	// ErrInvalid: 400 or 422 (INVALID_DATA, UNPROCESSABLE_ENTITY,
	// BAD_REQUEST, EMPTY_PAYLOAD, ...), 415, or a local validation error
	// raised before any request was sent.
	ErrInvalid = errors.New("zohodesk: invalid request")
	// ErrTooLarge: 413 RESOURCE_SIZE_EXCEEDED.
	ErrTooLarge = errors.New("zohodesk: request too large")
	// ErrUnavailable: 5xx, or a transport failure (no answer received).
	ErrUnavailable = errors.New("zohodesk: unavailable")
)

// Zoho Desk error codes documented in the Desk API "Errors" section. Unknown
// codes pass through APIError.Code untouched.
const (
	CodeBadRequest           = "BAD_REQUEST"
	CodeUnauthorized         = "UNAUTHORIZED"
	CodeInvalidOAuth         = "INVALID_OAUTH"
	CodeScopeMismatch        = "SCOPE_MISMATCH"
	CodeOAuthOrgMismatch     = "OAUTH_ORG_MISMATCH"
	CodeForbidden            = "FORBIDDEN"
	CodeLicenseAccessLimited = "LICENSE_ACCESS_LIMITED"
	CodeURLNotFound          = "URL_NOT_FOUND"
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	CodeResourceSizeExceeded = "RESOURCE_SIZE_EXCEEDED"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeInvalidData          = "INVALID_DATA"
	CodeEmptyPayload         = "EMPTY_PAYLOAD"
	CodeUnprocessableEntity  = "UNPROCESSABLE_ENTITY"
	CodeThresholdExceeded    = "THRESHOLD_EXCEEDED"
	CodeTooManyRequests      = "TOO_MANY_REQUESTS"
	CodeInternalServerError  = "INTERNAL_SERVER_ERROR"
)

// FieldError is one entry of a Zoho error's "errors" array.
type FieldError struct {
	// Pointer is Zoho's "fieldName", a JSON Pointer into the request body
	// (e.g. "/contactId"), kept as sent.
	Pointer string
	// Type is Zoho's "errorType": "invalid", "duplicate" or "missing".
	Type string
	// Message is Zoho's optional "errorMessage".
	Message string
}

// APIError is an error response from Zoho Desk (any status outside 2xx).
type APIError struct {
	StatusCode int
	// Code is Zoho's "errorCode" ("" if the body was not a Zoho error body).
	Code    string
	Message string
	Fields  []FieldError
	// RequestID is the request id response header, if Zoho sent one.
	RequestID string
	// Method and Path identify the request; Path has no query string.
	Method, Path string
	// RetryAfter is the parsed Retry-After header (0 if absent).
	RetryAfter time.Duration
	RateLimit  RateLimit
	// Raw is the start of the response body (at most 2 KiB), with anything
	// that looks like a token redacted.
	Raw string
	// Refreshed reports that this is a 401 INVALID_OAUTH after which the
	// client obtained a new access token but did not resend the request,
	// because its body was streamed and can be read only once (an upload).
	// Sending the request again, with the content opened afresh, uses the
	// new token.
	Refreshed bool
}

// Error returns "zohodesk: METHOD PATH: STATUS CODE: message" and the field
// problems. It never contains a token.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "zohodesk: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s %s", f.Pointer, f.Type)
		if f.Message != "" {
			b.WriteString(" (" + f.Message + ")")
		}
	}
	return b.String()
}

// Is maps the error onto the category sentinels. The Zoho code decides first
// (SCOPE_MISMATCH is ErrForbidden even when sent with 401), then the status.
func (e *APIError) Is(target error) bool {
	switch e.Code {
	case CodeInvalidOAuth, CodeUnauthorized:
		return target == ErrUnauthorized
	case CodeForbidden, CodeScopeMismatch, CodeOAuthOrgMismatch, CodeLicenseAccessLimited:
		return target == ErrForbidden
	case CodeURLNotFound:
		return target == ErrNotFound
	case CodeThresholdExceeded, CodeTooManyRequests:
		return target == ErrRateLimited
	case CodeInvalidData, CodeUnprocessableEntity, CodeBadRequest, CodeEmptyPayload, CodeUnsupportedMediaType:
		return target == ErrInvalid
	case CodeResourceSizeExceeded:
		return target == ErrTooLarge
	}
	switch s := e.StatusCode; {
	case s == http.StatusNotFound:
		return target == ErrNotFound
	case s == http.StatusUnauthorized:
		return target == ErrUnauthorized
	case s == http.StatusForbidden:
		return target == ErrForbidden
	case s == http.StatusTooManyRequests:
		return target == ErrRateLimited
	case s == http.StatusBadRequest || s == http.StatusUnprocessableEntity || s == http.StatusUnsupportedMediaType:
		return target == ErrInvalid
	case s == http.StatusRequestEntityTooLarge:
		return target == ErrTooLarge
	case s >= 500:
		return target == ErrUnavailable
	}
	return false
}

// Temporary reports whether the same request may succeed later: 429, and
// 5xx other than 501. Whether it is safe to resend depends on the method
// (see RetryPolicy).
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests ||
		(e.StatusCode >= 500 && e.StatusCode != http.StatusNotImplemented)
}

// TransportError means no complete response was received from Zoho: the
// connection failed, timed out, or the context ended.
type TransportError struct {
	Method, Path string
	// MaybeSent reports whether any part of the request may have reached
	// Zoho. When false the request certainly was not processed; when true
	// a create may or may not have happened ("unknown outcome").
	MaybeSent bool
	// Attempts is the number of attempts made.
	Attempts int
	// Err is the cause (a context error, a net error, ...).
	Err error
}

func (e *TransportError) Error() string {
	sent := "not sent"
	if e.MaybeSent {
		sent = "may have been sent"
	}
	return fmt.Sprintf("zohodesk: %s %s: request %s (after %d attempt(s)): %v", e.Method, e.Path, sent, e.Attempts, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Is matches ErrRequestNotSent when MaybeSent is false, and ErrUnavailable
// for every transport failure except one caused by the caller's context
// ending (that one matches context.Canceled or context.DeadlineExceeded
// through Unwrap).
func (e *TransportError) Is(target error) bool {
	switch target {
	case ErrRequestNotSent:
		return !e.MaybeSent
	case ErrUnavailable:
		return !errors.Is(e.Err, context.Canceled) && !errors.Is(e.Err, context.DeadlineExceeded)
	}
	return false
}

// Temporary reports true: a transport failure may pass.
func (e *TransportError) Temporary() bool { return true }

// DecodeError means Zoho answered with a success status (2xx) but a body
// the client could not decode: truncated JSON, an HTML page from a proxy or
// a maintenance screen, a shape that does not fit the expected type. The
// request was sent and Zoho (or something in front of it) answered, so a
// write may have taken effect: its outcome is unknown.
//
// It matches ErrUnavailable with errors.Is (the fault is on Zoho's side),
// never ErrRequestNotSent. It never holds the whole body: Excerpt is a short,
// redacted start of it, for diagnosis.
type DecodeError struct {
	Method, Path string
	// StatusCode is the (successful) HTTP status of the answer.
	StatusCode int
	// ContentType is the response's Content-Type header, as sent.
	ContentType string
	// RequestID is the request id response header, if Zoho sent one.
	RequestID string
	// Excerpt is the start of the body (at most maxDecodeExcerpt bytes,
	// valid UTF-8), with anything that looks like a token redacted.
	Excerpt string
	// Err is the decoding error (it never contains the body).
	Err error
}

// maxDecodeExcerpt bounds DecodeError.Excerpt.
const maxDecodeExcerpt = 128

// Error returns "zohodesk: METHOD PATH: undecodable STATUS response
// (CONTENT-TYPE): cause". It names neither the body nor a token.
func (e *DecodeError) Error() string {
	ct := e.ContentType
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("zohodesk: %s %s: undecodable %d response (%s): %v", e.Method, e.Path, e.StatusCode, ct, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Is matches ErrUnavailable.
func (e *DecodeError) Is(target error) bool { return target == ErrUnavailable }

// RequestSent reports true: the request reached Zoho, which answered. For
// a write this means the outcome is unknown, not "nothing happened".
func (e *DecodeError) RequestSent() bool { return true }

// Temporary reports true: a garbled answer may not repeat. Whether it is
// safe to resend depends on the method, as for any answered request.
func (e *DecodeError) Temporary() bool { return true }

// newDecodeError builds a DecodeError, keeping only a short redacted
// excerpt of body.
func newDecodeError(method, path string, resp *http.Response, body []byte, err error) *DecodeError {
	// Redact a longer prefix first, so that a token cut by the excerpt's
	// end is still recognised and removed.
	head := body[:min(len(body), maxRawError)]
	ex := redact(strings.ToValidUTF8(string(head), "\uFFFD"))
	if len(ex) > maxDecodeExcerpt {
		ex = strings.ToValidUTF8(ex[:maxDecodeExcerpt], "")
	}
	return &DecodeError{
		Method: method, Path: path, StatusCode: resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"), RequestID: resp.Header.Get(HeaderRequestID),
		Excerpt: ex, Err: err,
	}
}

// ErrRequestNotSent is matched (errors.Is) by a *TransportError whose
// MaybeSent is false.
var ErrRequestNotSent = errors.New("zohodesk: request not sent")

// validationError is a local error raised before any request is sent.
type validationError struct{ msg string }

func (e *validationError) Error() string        { return "zohodesk: " + e.msg }
func (e *validationError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &validationError{msg: fmt.Sprintf(format, args...)}
}

const maxRawError = 2 << 10

// tokenLike matches Zoho OAuth tokens and codes and JSON or form values of
// secret-bearing keys. A token is "NNNN.<hex>.<hex>" where the four digits
// depend on the data centre ("1000." in us, "1005." in in: a live
// desk.zoho.in token), so any four digits match; the two parts must be at
// least 8 characters long, which spares dates and version numbers. No word
// boundary is required: a token glued to other characters is still one.
var tokenLike = regexp.MustCompile(`\d{4}\.[0-9A-Za-z]{8,}\.[0-9A-Za-z]{8,}|(?i)(\b(?:access_token|refresh_token|client_secret|code|token)"?\s*[:=]\s*"?)[^"&,\s}]+`)

// redact removes token-like strings from s.
func redact(s string) string {
	return tokenLike.ReplaceAllStringFunc(s, func(m string) string {
		if sub := tokenLike.FindStringSubmatch(m); sub != nil && sub[1] != "" {
			return sub[1] + "[REDACTED]"
		}
		return "[REDACTED]"
	})
}

// decodeErrorBody builds an APIError from a status and a (possibly
// non-JSON, possibly truncated) body. It never fails: unknown shapes keep
// Code empty and the body in Raw.
func decodeErrorBody(status int, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	raw := body
	if len(raw) > maxRawError {
		raw = raw[:maxRawError]
	}
	e.Raw = redact(strings.ToValidUTF8(string(raw), "\uFFFD"))
	var wire struct {
		ErrorCode string          `json:"errorCode"`
		Message   json.RawMessage `json:"message"`
		Errors    json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &wire) != nil {
		return e
	}
	e.Code = wire.ErrorCode
	e.Message = redact(stringish(wire.Message))
	var fields []struct {
		FieldName    json.RawMessage `json:"fieldName"`
		ErrorType    json.RawMessage `json:"errorType"`
		ErrorMessage json.RawMessage `json:"errorMessage"`
	}
	if json.Unmarshal(wire.Errors, &fields) == nil {
		for _, f := range fields {
			e.Fields = append(e.Fields, FieldError{
				Pointer: stringish(f.FieldName),
				Type:    stringish(f.ErrorType),
				Message: redact(stringish(f.ErrorMessage)),
			})
		}
	}
	return e
}

// stringish returns a JSON string's value, or the compact JSON text of any
// other value ("" for absent or null).
func stringish(m json.RawMessage) string {
	if len(m) == 0 || string(m) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(m, &s) == nil {
		return s
	}
	out := strings.TrimSpace(string(m))
	if !utf8.ValidString(out) {
		out = strings.ToValidUTF8(out, "\uFFFD")
	}
	return out
}
