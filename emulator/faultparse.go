package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// faultKinds lists every FaultKind in documentation order.
var faultKinds = []FaultKind{FaultLatency, FaultStatus, FaultResetBeforeBody, FaultResetAfterBody, FaultSlowBody,
	FaultTruncatedJSON, FaultWrongContentType,
	FaultHTML401,
}

// FaultKinds returns every fault kind, in documentation order.
func FaultKinds() []FaultKind { return slices.Clone(faultKinds) }

func validFaultKind(k FaultKind) bool {
	for _, known := range faultKinds {
		if k == known {
			return true
		}
	}
	return false
}

// faultFields are the JSON keys ParseFault accepts.
const faultFields = "kind, pathPrefix, method, times, latency, status, errorCode, retryAfter, slowChunkDelay"

// ParseFault decodes one fault from JSON, the body of POST
// /__emulator/faults and the value of `deskconn emulator --fault`:
//
//	{"kind":"status","status":503,"pathPrefix":"/api/v1/tickets","times":3}
//	{"kind":"latency","latency":"250ms"}
//
// The keys are those of Fault's JSON tags. latency and slowChunkDelay take a
// Go duration string ("250ms", "2s") or a number of nanoseconds. Decoding
// is strict: an unknown key, a wrong type, a negative number, an unknown
// kind or method, a status outside 100-599, or a key that the kind ignores
// (status and errorCode outside status/wrong_content_type, retryAfter
// outside status, slowChunkDelay outside slow_body) is an error that names
// the key and says what to change.
func ParseFault(data []byte) (Fault, error) {
	var raw struct {
		Kind           FaultKind       `json:"kind"`
		PathPrefix     string          `json:"pathPrefix"`
		Method         string          `json:"method"`
		Times          int             `json:"times"`
		Latency        json.RawMessage `json:"latency"`
		Status         int             `json:"status"`
		ErrorCode      string          `json:"errorCode"`
		RetryAfter     int             `json:"retryAfter"`
		SlowChunkDelay json.RawMessage `json:"slowChunkDelay"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return Fault{}, describeFaultJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Fault{}, errors.New("parse fault: want one JSON object, found more after it")
	}
	f := Fault{Kind: raw.Kind, PathPrefix: raw.PathPrefix, Method: strings.ToUpper(raw.Method), Times: raw.Times,
		Status: raw.Status, ErrorCode: raw.ErrorCode, RetryAfter: raw.RetryAfter}
	names := make([]string, len(faultKinds))
	for i, k := range faultKinds {
		names[i] = string(k)
	}
	switch {
	case f.Kind == "":
		return Fault{}, fmt.Errorf("parse fault: \"kind\" is missing: set it to one of %s", strings.Join(names, ", "))
	case !validFaultKind(f.Kind):
		return Fault{}, fmt.Errorf("parse fault: \"kind\" %q is unknown: use one of %s", f.Kind, strings.Join(names, ", "))
	case f.PathPrefix != "" && !strings.HasPrefix(f.PathPrefix, "/"):
		return Fault{}, fmt.Errorf("parse fault: \"pathPrefix\" %q must start with / (e.g. \"/api/v1/tickets\")", f.PathPrefix)
	case f.Method != "" && !validMethod(f.Method):
		return Fault{}, fmt.Errorf("parse fault: \"method\" %q is not an HTTP method: use GET, POST, PATCH, PUT or DELETE", raw.Method)
	case f.Times < 0:
		return Fault{}, fmt.Errorf("parse fault: \"times\" is %d: use 0 (every request) or a positive count", f.Times)
	case f.Status != 0 && (f.Status < 100 || f.Status > 599):
		return Fault{}, fmt.Errorf("parse fault: \"status\" %d is not an HTTP status: use 100-599", f.Status)
	case f.Status != 0 && f.Kind != FaultStatus && f.Kind != FaultWrongContentType:
		return Fault{}, fmt.Errorf("parse fault: \"status\" applies to kinds status and wrong_content_type, not %s: remove it", f.Kind)
	case f.ErrorCode != "" && f.Kind != FaultStatus:
		return Fault{}, fmt.Errorf("parse fault: \"errorCode\" applies to kind status, not %s: remove it", f.Kind)
	case f.RetryAfter < 0:
		return Fault{}, fmt.Errorf("parse fault: \"retryAfter\" is %d: use a number of seconds >= 0", f.RetryAfter)
	case f.RetryAfter != 0 && f.Kind != FaultStatus:
		return Fault{}, fmt.Errorf("parse fault: \"retryAfter\" applies to kind status, not %s: remove it", f.Kind)
	case len(raw.SlowChunkDelay) > 0 && f.Kind != FaultSlowBody:
		return Fault{}, fmt.Errorf("parse fault: \"slowChunkDelay\" applies to kind slow_body, not %s: remove it", f.Kind)
	}
	var err error
	if f.Latency, err = parseFaultDuration("latency", raw.Latency); err != nil {
		return Fault{}, err
	}
	if f.SlowChunkDelay, err = parseFaultDuration("slowChunkDelay", raw.SlowChunkDelay); err != nil {
		return Fault{}, err
	}
	if f.Kind == FaultLatency && f.Latency == 0 {
		return Fault{}, errors.New("parse fault: kind latency needs \"latency\" (e.g. \"250ms\")")
	}
	return f, nil
}

func validMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// parseFaultDuration reads a Go duration string or a number of nanoseconds;
// absent or null is zero.
func parseFaultDuration(name string, raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var d time.Duration
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("parse fault: %q %q is not a duration: use e.g. \"250ms\" or \"2s\"", name, s)
		}
	} else {
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return 0, fmt.Errorf("parse fault: %q %s is not a duration: use a string like \"250ms\" or whole nanoseconds", name, raw)
		}
		d = time.Duration(n)
	}
	if d < 0 {
		return 0, fmt.Errorf("parse fault: %q %s is negative: use a duration >= 0", name, d)
	}
	return d, nil
}

// describeFaultJSONError turns a decoding error into one that names the key.
func describeFaultJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Errorf("parse fault: %q must be a JSON %s, not %s", typeErr.Field, jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Errorf("parse fault: want a JSON object like {\"kind\":\"status\",\"status\":503}, not %s", typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("parse fault: invalid JSON at byte %d: %w", syntaxErr.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("parse fault: invalid JSON: it ends before the object is closed")
	case errors.Is(err, io.EOF):
		return errors.New("parse fault: empty: want a JSON object like {\"kind\":\"status\",\"status\":503}")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("parse fault: unknown key %s: the keys are %s", strings.TrimPrefix(err.Error(), "json: unknown field "), faultFields)
	}
	return fmt.Errorf("parse fault: %w", err)
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "int", "int64":
		return "number"
	}
	return goKind
}
