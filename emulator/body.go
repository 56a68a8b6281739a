package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// jsonBody is a decoded JSON object that records field errors as JSON
// Pointers while its fields are read.
type jsonBody struct {
	fields map[string]json.RawMessage
	prefix string
	errs   *[]fieldError
	seen   map[string]bool
}

// readJSON reads c's body as a JSON object, writing 413/415/400/422 itself
// and returning false when it cannot.
func (c *call) readJSON() (*jsonBody, bool) {
	data, ok := c.readBody()
	if !ok {
		return nil, false
	}
	if ct := c.r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeZohoError(c.out, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "", nil)
			return nil, false
		}
	}
	b, err := parseJSONObject(data)
	if err != nil {
		if errors.Is(err, errEmptyPayload) {
			writeZohoError(c.out, http.StatusUnprocessableEntity, "EMPTY_PAYLOAD", "", nil)
			return nil, false
		}
		writeZohoError(c.out, http.StatusBadRequest, "BAD_REQUEST", "The request body is not a valid JSON object.", nil)
		return nil, false
	}
	return b, true
}

// readRequestBody reads the request body for rt into c (body and bodyErr,
// or file for multipart routes). It does I/O and must be called without
// the state lock held. GET requests carry no body and are not read.
func (c *call) readRequestBody(rt *route) {
	if c.r.Method == http.MethodGet || c.r.Body == nil {
		return
	}
	if rt.multipart {
		if c.e.opts.RequireUploadLength && c.r.ContentLength < 0 {
			c.file = filePart{err: errLengthRequired} // Options.RequireUploadLength
			return
		}
		c.file = readFilePart(c.r, c.e.opts.MaxAttachmentBytes)
		return
	}
	c.body, c.bodyErr = readCapped(c.r.Body, c.e.opts.MaxBodyBytes)
}

// readCapped reads all of r if it holds at most limit bytes; otherwise it
// stops after limit+1 bytes and returns errTooLarge.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

// readBody returns the body read by readRequestBody; when it could not be
// read or was over MaxBodyBytes it writes 400 or 413 and returns false.
// It does no I/O, so handlers call it under the state lock.
func (c *call) readBody() ([]byte, bool) {
	switch {
	case errors.Is(c.bodyErr, errTooLarge):
		writeZohoError(c.out, http.StatusRequestEntityTooLarge, "RESOURCE_SIZE_EXCEEDED", "", nil)
		return nil, false
	case c.bodyErr != nil:
		writeZohoError(c.out, http.StatusBadRequest, "BAD_REQUEST", "The request body could not be read.", nil)
		return nil, false
	}
	return c.body, true
}

var errEmptyPayload = errors.New("empty payload")

// parseJSONObject decodes data as one JSON object (nothing after it).
func parseJSONObject(data []byte) (*jsonBody, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errEmptyPayload
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("body is null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	errs := []fieldError{}
	return &jsonBody{fields: m, errs: &errs, seen: map[string]bool{}}, nil
}

func (b *jsonBody) ptr(name string) string { return b.prefix + "/" + name }

func (b *jsonBody) fail(name, typ string) {
	*b.errs = append(*b.errs, fieldError{FieldName: b.ptr(name), ErrorType: typ})
}

func (b *jsonBody) failed() bool { return len(*b.errs) > 0 }

func (b *jsonBody) has(name string) bool { _, ok := b.fields[name]; return ok }

func (b *jsonBody) isNull(name string) bool {
	raw, ok := b.fields[name]
	return ok && string(bytes.TrimSpace(raw)) == "null"
}

// str reads a string field; ids sent as JSON numbers are accepted too.
// maxLen 0 means unlimited. present is false when absent; null reports an
// explicit null.
func (b *jsonBody) str(name string, maxLen int) (v string, present, null bool) {
	b.seen[name] = true
	raw, ok := b.fields[name]
	if !ok {
		return "", false, false
	}
	if b.isNull(name) {
		return "", true, true
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		var n json.Number
		if err2 := json.Unmarshal(raw, &n); err2 != nil {
			b.fail(name, "invalid")
			return "", true, false
		}
		v = n.String()
	}
	if maxLen > 0 && len([]rune(v)) > maxLen {
		b.fail(name, "invalid")
	}
	return v, true, false
}

// id reads an id field: a numeric string.
func (b *jsonBody) id(name string) (v string, present, null bool) {
	v, present, null = b.str(name, 0)
	if present && !null {
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			b.fail(name, "invalid")
		}
	}
	return v, present, null
}

// strList reads an array of strings (ids as numbers accepted).
func (b *jsonBody) strList(name string, maxN int) (v []string, present bool) {
	b.seen[name] = true
	raw, ok := b.fields[name]
	if !ok || b.isNull(name) {
		return nil, ok
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || (maxN > 0 && len(items) > maxN) {
		b.fail(name, "invalid")
		return nil, true
	}
	v = []string{}
	for i, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err != nil {
			var n json.Number
			if err2 := json.Unmarshal(it, &n); err2 != nil {
				b.fail(name+"/"+strconv.Itoa(i), "invalid")
				continue
			}
			s = n.String()
		}
		v = append(v, s)
	}
	return v, true
}

// object reads a nested object; errors inside carry its pointer prefix.
func (b *jsonBody) object(name string) (*jsonBody, bool) {
	b.seen[name] = true
	raw, ok := b.fields[name]
	if !ok || b.isNull(name) {
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		b.fail(name, "invalid")
		return nil, false
	}
	return &jsonBody{fields: m, prefix: b.ptr(name), errs: b.errs, seen: map[string]bool{}}, true
}

// anyMap reads an object of arbitrary values (cf).
func (b *jsonBody) anyMap(name string) (map[string]any, bool) {
	b.seen[name] = true
	raw, ok := b.fields[name]
	if !ok || b.isNull(name) {
		return nil, ok
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		b.fail(name, "invalid")
	}
	return m, true
}

// timeField reads an ISO-8601 timestamp (or null).
func (b *jsonBody) timeField(name string) (t time.Time, present, null bool) {
	v, present, null := b.str(name, 0)
	if !present || null {
		return time.Time{}, present, null
	}
	t, err := parseZohoTime(v)
	if err != nil {
		b.fail(name, "invalid")
	}
	return t, true, false
}

// rejectUnknown flags every field not read so far: the emulator is strict so
// a misspelt JSON key cannot pass silently ([I] Zoho's own strictness varies).
func (b *jsonBody) rejectUnknown() {
	var unknown []string
	for k := range b.fields {
		if !b.seen[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		b.fail(k, "invalid")
	}
}

func parseZohoTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.000Z", time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not an ISO-8601 timestamp")
}

// ts formats t the Zoho way (ISO-8601, ms, UTC); zero is null.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// ns returns nil for "" (Zoho prints absent values as null).
func ns(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

func strs(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
