// Package deskconn holds the domain vocabulary shared by every part of deskconn:
// the domain error with its stable codes, and the Secret type that never prints.
//
// It imports only the standard library. The Zoho wire lives in package
// zohodesk, the actions in internal/action and internal/deskactions, and each
// way in (REST, MCP, CLI) renders a *Error exactly once.
package deskconn

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Code is a stable, machine-readable error category. Codes never change
// meaning; adapters map them to HTTP statuses, MCP tool errors and exit codes.
type Code string

// The domain error codes (DESIGN §4).
const (
	CodeInvalid         Code = "invalid"         // the input is wrong; Fields says where
	CodeAmbiguous       Code = "ambiguous"       // a selector matched several objects; Candidates lists them
	CodeNotFound        Code = "not_found"       // the object (or connection) does not exist or is not visible
	CodeConflict        Code = "conflict"        // idempotency key reused with other input, or state conflict
	CodeUnauthenticated Code = "unauthenticated" // the caller's API key, or Zoho's token, was refused
	CodeNeedsReauth     Code = "needs_reauth"    // the connection's refresh token is dead: reconnect it
	CodeForbidden       Code = "forbidden"       // policy, scope, licence or org binding forbids it
	CodeRateLimited     Code = "rate_limited"    // Zoho (or deskconn) throttled; RetryAfter says when
	CodeUnavailable     Code = "unavailable"     // Zoho unreachable or 5xx; retrying later may work
	CodeInternal        Code = "internal"        // a bug; the message is generic
	// CodeOutcomeUnknown: a write under an idempotency key may have reached
	// Zoho Desk, and deskconn could not find out whether it took effect.
	// It is never retried with that key; the message names what to check
	// in Zoho Desk before sending it again with a new key.
	CodeOutcomeUnknown Code = "outcome_unknown"
)

// Codes lists every code, in a stable order.
var Codes = []Code{
	CodeInvalid, CodeAmbiguous, CodeNotFound, CodeConflict, CodeUnauthenticated,
	CodeNeedsReauth, CodeForbidden, CodeRateLimited, CodeUnavailable, CodeInternal,
	CodeOutcomeUnknown,
}

// FieldError is one problem with one field of an action's input.
type FieldError struct {
	// Pointer is an RFC 6901 JSON Pointer into the action input ("/payload/subject").
	Pointer string `json:"pointer"`
	// Code is "missing", "invalid", "duplicate" or "unknown" (an unknown field).
	Code string `json:"code"`
	// Message says what to change.
	Message string `json:"message"`
}

// Upstream describes the Zoho response behind an error, when there was one.
type Upstream struct {
	Status    int    `json:"status,omitempty"`
	ErrorCode string `json:"errorCode,omitempty"`
	Message   string `json:"message,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// Candidate is one of several objects an ambiguous selector matched.
type Candidate struct {
	ID      string `json:"id"`
	Label   string `json:"label"`
	Details string `json:"details,omitempty"`
}

// Error is the domain error every way in renders. Message is safe to show to
// a person or a model: it never contains a token, secret or API key.
type Error struct {
	Code       Code          `json:"code"`
	Message    string        `json:"message"`
	Fields     []FieldError  `json:"errors,omitempty"`
	Candidates []Candidate   `json:"candidates,omitempty"`
	RetryAfter time.Duration `json:"-"`
	Upstream   *Upstream     `json:"upstream,omitempty"`
	// Err is the cause, kept for errors.Is/As and logs; never rendered to callers.
	Err error `json:"-"`
}

// Error implements error. It lists field problems so that a plain string
// still says what to change.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	b.WriteString(": ")
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Pointer, f.Message)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns a *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an invalid-input error carrying every field problem.
func Invalid(message string, fields ...FieldError) *Error {
	return &Error{Code: CodeInvalid, Message: message, Fields: fields}
}

// ErrorCode returns the code of err: its *Error's code, or CodeInternal for
// any other non-nil error, or "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns err as a *Error. Anything that is not one becomes an
// internal error with a generic message (the cause is kept in Err).
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}

// Secret is a string that must never be printed or logged. Its String,
// GoString, LogValue and MarshalJSON all yield "REDACTED".
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return "REDACTED" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return `"REDACTED"` }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// MarshalJSON implements json.Marshaler.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"REDACTED"`), nil }

// Reveal returns the secret value. Call it only where the value is sent to
// the party that owns it.
func (s Secret) Reveal() string { return string(s) }
