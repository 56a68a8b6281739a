package action

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/jsonscan"
	"github.com/deskconn/deskconn/internal/spelling"
	"github.com/google/jsonschema-go/jsonschema"
)

// Limits of the input validator.
const (
	// MaxProblems is the most field problems one error lists; a final entry
	// says how many more there were.
	MaxProblems = 50
	// maxDepth bounds the nesting of an input document.
	maxDepth = 64
	// maxEcho is the most characters of a bad value quoted back.
	maxEcho = 40
)

// Field problem codes (deskconn.FieldError.Code).
const (
	problemMissing   = "missing"
	problemInvalid   = "invalid"
	problemDuplicate = "duplicate"
	problemUnknown   = "unknown"
)

// member is one object member, in input order.
type member struct {
	key string
	val any
}

// object is a JSON object that keeps member order and duplicates.
type object []member

// parseInput parses raw as one JSON document that must be an object (kept
// as an object value, with member order and duplicates). Empty input and
// "null" parse as an empty object. Syntax errors become an invalid error
// carrying the byte offset.
func parseInput(raw []byte) (object, *deskconn.Error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return object{}, nil
	}
	v, err := parseJSON(raw)
	if err != nil {
		return nil, deskconn.Invalid("the input is not valid JSON: " + err.Error() + "; send one JSON object")
	}
	obj, ok := v.(object)
	if !ok {
		return nil, deskconn.Invalid("the input must be a JSON object, not "+jsonKind(v),
			deskconn.FieldError{Pointer: "", Code: problemInvalid, Message: "must be a JSON object, not " + jsonKind(v)})
	}
	return obj, nil
}

// parseOutput parses an output document (any JSON value).
func parseOutput(raw []byte) (any, *deskconn.Error) {
	v, err := parseJSON(raw)
	if err != nil {
		return nil, deskconn.Invalid("the output is not valid JSON: " + err.Error())
	}
	return v, nil
}

// parseJSON parses exactly one JSON value into nil, bool, json.Number,
// string, []any or object.
func parseJSON(raw []byte) (any, error) {
	if !utf8.Valid(raw) {
		return nil, errors.New("the text is not valid UTF-8")
	}
	// Well-formed input (the usual case) is scanned in place; anything
	// else is parsed again by json.Decoder, for its error message.
	if json.Valid(raw) {
		if v, end, err := scanValue(raw, 0, 0); err == nil && jsonscan.SkipSpace(raw, end) == len(raw) {
			return v, nil
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = fmt.Errorf("unexpected data after the JSON value at byte offset %d", dec.InputOffset())
		}
	}
	if err != nil {
		var syn *json.SyntaxError
		switch {
		case errors.As(err, &syn):
			err = fmt.Errorf("malformed JSON at byte offset %d: %s", syn.Offset, syn.Error())
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			err = fmt.Errorf("malformed JSON: the text ends early at byte offset %d", len(raw))
		}
		return nil, err
	}
	return v, nil
}

var errTooDeep = errors.New("the input is nested too deeply")

func parseValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w (more than %d levels) at byte offset %d", errTooDeep, maxDepth, dec.InputOffset())
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			obj := object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key expected at byte offset %d", dec.InputOffset())
				}
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				obj = append(obj, member{key, v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return obj, nil
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected %q at byte offset %d", tok, dec.InputOffset())
	default:
		return tok, nil
	}
}

// problems collects field problems up to MaxProblems.
type problems struct {
	list  []deskconn.FieldError
	extra int
}

func (p *problems) add(ptr, code, format string, args ...any) {
	if len(p.list) >= MaxProblems {
		p.extra++
		return
	}
	p.list = append(p.list, deskconn.FieldError{Pointer: ptr, Code: code, Message: fmt.Sprintf(format, args...)})
}

// validateInput checks an input object against s and reports every problem.
func validateInput(s *jsonschema.Schema, v object) *deskconn.Error { return validateAny(s, v) }

// validateAny checks v against s and reports every problem.
func validateAny(s *jsonschema.Schema, v any) *deskconn.Error {
	var p problems
	validateValue(s, v, "", &p)
	if len(p.list) == 0 {
		return nil
	}
	fields := p.list
	if p.extra > 0 {
		fields = append(fields, deskconn.FieldError{Pointer: "", Code: problemInvalid,
			Message: fmt.Sprintf("%d more problems not listed; fix the ones above and send again", p.extra)})
	}
	n := len(p.list) + p.extra
	msg := "the input has 1 problem; fix it and send again"
	if n > 1 {
		msg = fmt.Sprintf("the input has %d problems; fix all of them and send again", n)
	}
	return deskconn.Invalid(msg, fields...)
}

// pointerToken escapes one JSON Pointer reference token (RFC 6901).
func pointerToken(s string) string {
	s = strings.ReplaceAll(s, "~", "~0")
	return strings.ReplaceAll(s, "/", "~1")
}

func validateValue(s *jsonschema.Schema, v any, ptr string, p *problems) {
	if s == nil {
		return
	}
	if isFalse(s) {
		p.add(ptr, problemUnknown, "is not allowed here; remove it")
		return
	}
	if types := schemaTypes(s); len(types) > 0 && !typeMatches(types, v) {
		p.add(ptr, problemInvalid, "must be %s, not %s", typeList(types), describe(v))
		return
	}
	if s.Const != nil && !jsonEqual(*s.Const, v) {
		p.add(ptr, problemInvalid, "must be %s; got %s", echo(*s.Const), describe(v))
		return
	}
	if s.Enum != nil {
		if !slices.ContainsFunc(s.Enum, func(e any) bool { return jsonEqual(e, v) }) {
			p.add(ptr, problemInvalid, "must be one of %s; got %s", enumList(s.Enum), describe(v))
			return
		}
	}
	switch v := v.(type) {
	case string:
		validateString(s, v, ptr, p)
	case json.Number:
		validateNumber(s, v, ptr, p)
	case []any:
		validateArray(s, v, ptr, p)
	case object:
		validateObject(s, v, ptr, p)
	}
}

func validateString(s *jsonschema.Schema, v, ptr string, p *problems) {
	n := utf8.RuneCountInString(v)
	if s.MinLength != nil && n < *s.MinLength {
		if *s.MinLength == 1 {
			p.add(ptr, problemInvalid, "must not be empty")
		} else {
			p.add(ptr, problemInvalid, "must be at least %d characters long; got %d", *s.MinLength, n)
		}
	}
	if s.MaxLength != nil && n > *s.MaxLength {
		p.add(ptr, problemInvalid, "must be at most %d characters long; got %d", *s.MaxLength, n)
	}
	if s.Pattern != "" && !compiled(s.Pattern).MatchString(v) {
		p.add(ptr, problemInvalid, "must match the pattern %s; got %s", s.Pattern, echo(v))
	}
	if s.Format != "" {
		if msg := checkFormat(s.Format, v); msg != "" {
			p.add(ptr, problemInvalid, "%s; got %s", msg, echo(v))
		}
	}
}

var patterns sync.Map // string -> *regexp.Regexp

func compiled(pattern string) *regexp.Regexp {
	if re, ok := patterns.Load(pattern); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(pattern) // checked at Define
	patterns.Store(pattern, re)
	return re
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkFormat returns "" if v has the format, else what it must look like.
func checkFormat(format, v string) string {
	switch format {
	case "date-time":
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			return "must be a date-time in RFC 3339 form, e.g. 2024-05-01T09:30:00Z or 2024-05-01T09:30:00.000+02:00"
		}
	case "date":
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return "must be a date in YYYY-MM-DD form, e.g. 2024-05-01"
		}
	case "email":
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v {
			return "must be a plain email address, e.g. jane@example.com"
		}
	case "uri":
		u, err := url.Parse(v)
		if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
			return "must be an absolute URL, e.g. https://example.com/file.pdf"
		}
	case "uuid":
		if !uuidRE.MatchString(v) {
			return "must be a UUID, e.g. 123e4567-e89b-12d3-a456-426614174000"
		}
	}
	return ""
}

func validateNumber(s *jsonschema.Schema, v json.Number, ptr string, p *problems) {
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.IsInf(f, 0) {
		p.add(ptr, problemInvalid, "must be a number within range; got %s", echo(string(v)))
		return
	}
	if s.Minimum != nil && f < *s.Minimum {
		p.add(ptr, problemInvalid, "must be at least %s; got %s", fmtNum(*s.Minimum), v)
	}
	if s.Maximum != nil && f > *s.Maximum {
		p.add(ptr, problemInvalid, "must be at most %s; got %s", fmtNum(*s.Maximum), v)
	}
	if s.ExclusiveMinimum != nil && f <= *s.ExclusiveMinimum {
		p.add(ptr, problemInvalid, "must be greater than %s; got %s", fmtNum(*s.ExclusiveMinimum), v)
	}
	if s.ExclusiveMaximum != nil && f >= *s.ExclusiveMaximum {
		p.add(ptr, problemInvalid, "must be less than %s; got %s", fmtNum(*s.ExclusiveMaximum), v)
	}
}

func validateArray(s *jsonschema.Schema, v []any, ptr string, p *problems) {
	if s.MinItems != nil && len(v) < *s.MinItems {
		p.add(ptr, problemInvalid, "must have at least %d item(s); got %d", *s.MinItems, len(v))
	}
	if s.MaxItems != nil && len(v) > *s.MaxItems {
		p.add(ptr, problemInvalid, "must have at most %d items; got %d: split the request or remove some", *s.MaxItems, len(v))
	}
	if s.UniqueItems {
		for i := range v {
			for j := range i {
				if jsonEqual(v[i], v[j]) {
					p.add(ptr+"/"+strconv.Itoa(i), problemDuplicate, "repeats item %d; remove the duplicate", j)
					break
				}
			}
		}
	}
	for i, e := range v {
		validateValue(s.Items, e, ptr+"/"+strconv.Itoa(i), p)
	}
}

func validateObject(s *jsonschema.Schema, v object, ptr string, p *problems) {
	seen := make(map[string]bool, len(v))
	for _, m := range v {
		if seen[m.key] {
			p.add(ptr+"/"+pointerToken(m.key), problemDuplicate, "appears more than once; send it once")
		}
		seen[m.key] = true
	}
	get := func(key string) (any, bool) {
		for i := len(v) - 1; i >= 0; i-- { // last wins, as in encoding/json
			if v[i].key == key {
				return v[i].val, true
			}
		}
		return nil, false
	}
	// Known properties first, in schema order, then the unknown ones in
	// input order.
	order := propertyOrder(s)
	for _, name := range order {
		val, ok := get(name)
		cp := ptr + "/" + pointerToken(name)
		if !ok {
			if slices.Contains(s.Required, name) {
				p.add(cp, problemMissing, "is required: add %q (%s)", name, typeList(schemaTypes(s.Properties[name])))
			}
			continue
		}
		validateValue(s.Properties[name], val, cp, p)
	}
	for _, name := range s.Required {
		if _, known := s.Properties[name]; !known {
			if _, ok := get(name); !ok {
				p.add(ptr+"/"+pointerToken(name), problemMissing, "is required: add %q", name)
			}
		}
	}
	reported := make(map[string]bool)
	for _, m := range v {
		if _, known := s.Properties[m.key]; known || reported[m.key] {
			continue
		}
		reported[m.key] = true
		cp := ptr + "/" + pointerToken(m.key)
		switch {
		case s.AdditionalProperties == nil:
		case isFalse(s.AdditionalProperties):
			p.add(cp, problemUnknown, "%s", unknownFieldMessage(m.key, order))
		default:
			validateValue(s.AdditionalProperties, m.val, cp, p)
		}
	}
}

// propertyOrders holds propertyOrder's answer for each schema it was asked
// about: an action's schemas are built once, when it is defined, and never
// change, so the cache is bounded by the catalogue. Working it out on every
// call was 40 % of validating a create_ticket input.
var propertyOrders sync.Map // *jsonschema.Schema → []string

// propertyOrder returns the property names of s: PropertyOrder first, then
// any others sorted. The slice is shared: do not modify it.
func propertyOrder(s *jsonschema.Schema) []string {
	if o, ok := propertyOrders.Load(s); ok {
		return o.([]string)
	}
	o, _ := propertyOrders.LoadOrStore(s, slices.Clip(computePropertyOrder(s)))
	return o.([]string)
}

func computePropertyOrder(s *jsonschema.Schema) []string {
	order := make([]string, 0, len(s.Properties))
	for _, n := range s.PropertyOrder {
		if _, ok := s.Properties[n]; ok && !slices.Contains(order, n) {
			order = append(order, n)
		}
	}
	var rest []string
	for n := range s.Properties {
		if !slices.Contains(order, n) {
			rest = append(rest, n)
		}
	}
	slices.Sort(rest)
	return append(order, rest...)
}

// unknownFieldMessage says to remove an unknown field, suggesting a close
// known name (a different case, or one or two typos away).
func unknownFieldMessage(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		d := editDistance(strings.ToLower(key), strings.ToLower(k))
		if strings.EqualFold(key, k) {
			d = 0
		}
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field %q; did you mean %q?", key, best)
	}
	if len(known) == 0 {
		return fmt.Sprintf("unknown field %q; this object takes no fields: remove it", key)
	}
	list := known
	if len(list) > 20 {
		list = append(slices.Clone(list[:20]), "…")
	}
	return fmt.Sprintf("unknown field %q; remove it (allowed fields: %s)", key, strings.Join(list, ", "))
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	return spelling.Distance(a, b)
}

// typeMatches reports whether v has one of the JSON types. An "integer" is
// written without fraction or exponent and fits in 64 bits, so that it
// always decodes into a Go int.
func typeMatches(types []string, v any) bool {
	for _, t := range types {
		switch t {
		case "null":
			if v == nil {
				return true
			}
		case "boolean":
			if _, ok := v.(bool); ok {
				return true
			}
		case "string":
			if _, ok := v.(string); ok {
				return true
			}
		case "number":
			if _, ok := v.(json.Number); ok {
				return true
			}
		case "integer":
			if n, ok := v.(json.Number); ok {
				if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
					return true
				}
			}
		case "array":
			if _, ok := v.([]any); ok {
				return true
			}
		case "object":
			if _, ok := v.(object); ok {
				return true
			}
		}
	}
	return false
}

// typeList renders allowed types for a message: "a string", "an integer or
// null".
func typeList(types []string) string {
	if len(types) == 0 {
		return "any JSON value"
	}
	var names []string
	for _, t := range types {
		if t != "null" {
			names = append(names, article(t))
		}
	}
	if slices.Contains(types, "null") {
		names = append(names, "null")
	}
	return strings.Join(names, " or ")
}

func article(t string) string {
	switch t {
	case "integer", "object", "array":
		if t == "integer" {
			return "an integer (a whole number without quotes)"
		}
		return "an " + t
	case "boolean":
		return "a boolean (true or false, without quotes)"
	case "number":
		return "a number (without quotes)"
	}
	return "a " + t
}

// jsonKind names the JSON type of a parsed value.
func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		if _, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return "an integer"
		}
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case object:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// describe names a value's type and, for scalars, quotes it (truncated).
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool, json.Number, string:
		return jsonKind(v) + " " + echo(v)
	}
	return jsonKind(v)
}

// echo renders a scalar as JSON, truncated to maxEcho characters.
func echo(v any) string {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = string(v)
	default:
		b, _ := json.Marshal(v)
		s = string(b)
	}
	if utf8.RuneCountInString(s) > maxEcho {
		r := []rune(s)
		s = string(r[:maxEcho]) + "…"
	}
	return s
}

func enumList(enum []any) string {
	parts := make([]string, len(enum))
	for i, e := range enum {
		parts[i] = echo(e)
	}
	return strings.Join(parts, ", ")
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// jsonEqual compares a schema value (from Go: string, float64, int, bool,
// nil) with a parsed input value.
func jsonEqual(schemaVal, v any) bool {
	if n, ok := v.(json.Number); ok {
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return false
		}
		switch e := schemaVal.(type) {
		case float64:
			return e == f
		case int:
			return float64(e) == f
		case int64:
			return float64(e) == f
		case json.Number:
			g, err := strconv.ParseFloat(string(e), 64)
			return err == nil && g == f
		}
		return false
	}
	switch v := v.(type) {
	case nil:
		return schemaVal == nil
	case bool:
		b, ok := schemaVal.(bool)
		return ok && b == v
	case string:
		s, ok := schemaVal.(string)
		return ok && s == v
	case []any:
		e, ok := schemaVal.([]any)
		if !ok || len(e) != len(v) {
			return false
		}
		for i := range v {
			if !jsonEqual(e[i], v[i]) {
				return false
			}
		}
		return true
	case object:
		// Objects in enums are not used by actions; compare canonical JSON.
		a, _ := json.Marshal(toPlain(schemaVal))
		b, _ := json.Marshal(toPlain(v))
		return bytes.Equal(a, b)
	}
	return false
}

// toPlain converts a parsed value to encoding/json's generic form.
func toPlain(v any) any {
	switch v := v.(type) {
	case object:
		m := make(map[string]any, len(v))
		for _, mem := range v {
			m[mem.key] = toPlain(mem.val)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = toPlain(e)
		}
		return out
	}
	return v
}
