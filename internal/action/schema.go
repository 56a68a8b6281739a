package action

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
)

// SchemaTag is the struct tag that adds validation keywords to a property's
// schema. (The "jsonschema" tag is only the property's description: the
// jsonschema-go library reserves "WORD=" forms there.)
//
// The tag is a comma-separated list of key=value pairs:
//
//	Priority string   `json:"priority,omitempty" jsonschema:"ticket priority" schema:"enum=Low|Medium|High"`
//	Limit    int      `json:"limit,omitempty" schema:"minimum=1,maximum=100,default=10"`
//	Fields   []string `json:"fields,omitempty" schema:"maxItems=30,items.maxLength=64"`
//	DueDate  string   `json:"dueDate,omitempty" schema:"format=date-time"`
//
// Keys: enum (values separated by "|", typed like the property: numbers for
// numeric properties), minimum, maximum, exclusiveMinimum, exclusiveMaximum,
// minLength, maxLength, minItems, maxItems, uniqueItems (no value), pattern
// (must not contain a comma), format (one of [Formats]), default (a JSON
// value, or a bare string). A key prefixed with "items." applies to the
// element schema of an array property. A bad tag makes [Define] panic.
const SchemaTag = "schema"

// Formats lists the values of "format" that the validator checks. Any other
// format makes [Define] panic, so a schema never promises a check that is
// not made.
var Formats = []string{"date-time", "date", "email", "uri", "uuid"}

// defaultTypeSchemas are the package's own overrides, applied under
// Info.TypeSchemas.
var defaultTypeSchemas = map[reflect.Type]*jsonschema.Schema{
	// Raw JSON (e.g. a Zoho object kept whole) is any JSON value, not an
	// array of bytes.
	reflect.TypeFor[json.RawMessage](): {},
	reflect.TypeFor[time.Time]():       {Type: "string", Format: "date-time"},
	reflect.TypeFor[map[string]any]():  {Type: "object"},
}

// buildSchema infers the schema of t, applies SchemaTag keywords, and checks
// that it only uses keywords the validator implements.
func buildSchema(t reflect.Type, types map[reflect.Type]*jsonschema.Schema) (*jsonschema.Schema, error) {
	opts := &jsonschema.ForOptions{TypeSchemas: make(map[reflect.Type]*jsonschema.Schema)}
	for k, v := range defaultTypeSchemas {
		opts.TypeSchemas[k] = v
	}
	for k, v := range types {
		opts.TypeSchemas[k] = v
	}
	s, err := jsonschema.ForType(t, opts)
	if err != nil {
		return nil, fmt.Errorf("infer schema: %w", err)
	}
	if err := applyTags(t, s, opts.TypeSchemas); err != nil {
		return nil, err
	}
	if err := checkSupported(s, "#"); err != nil {
		return nil, err
	}
	return s, nil
}

// applyTags walks the Go type next to its inferred schema and applies the
// SchemaTag keywords of every struct field.
func applyTags(t reflect.Type, s *jsonschema.Schema, overrides map[reflect.Type]*jsonschema.Schema) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s == nil || overrides[t] != nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return applyTags(t.Elem(), s.Items, overrides)
	case reflect.Map:
		return applyTags(t.Elem(), s.AdditionalProperties, overrides)
	case reflect.Struct:
		for _, f := range reflect.VisibleFields(t) {
			if f.Anonymous || !f.IsExported() {
				continue
			}
			name := jsonName(f)
			if name == "" {
				continue
			}
			ps := s.Properties[name]
			if ps == nil {
				continue
			}
			if tag, ok := f.Tag.Lookup(SchemaTag); ok {
				if err := applyTag(ps, tag); err != nil {
					return fmt.Errorf("field %s.%s: %w", t, f.Name, err)
				}
			}
			if err := applyTags(f.Type, ps, overrides); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonName returns the JSON name of a struct field, or "" if it is skipped.
func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return f.Name
	}
	return name
}

// applyTag applies one SchemaTag value to s.
func applyTag(s *jsonschema.Schema, tag string) error {
	for part := range strings.SplitSeq(tag, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, _ := strings.Cut(part, "=")
		target := s
		if rest, ok := strings.CutPrefix(key, "items."); ok {
			if s.Items == nil {
				return fmt.Errorf("schema tag %q: items.* on a non-array property", part)
			}
			target, key = s.Items, rest
		}
		if err := applyKeyword(target, key, val); err != nil {
			return fmt.Errorf("schema tag %q: %w", part, err)
		}
	}
	return nil
}

func applyKeyword(s *jsonschema.Schema, key, val string) error {
	num := func() (*float64, error) {
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return nil, fmt.Errorf("not a number")
		}
		return &f, nil
	}
	count := func() (*int, error) {
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("not a non-negative integer")
		}
		return &n, nil
	}
	var err error
	switch key {
	case "enum":
		if val == "" {
			return fmt.Errorf("empty enum")
		}
		s.Enum = nil
		for v := range strings.SplitSeq(val, "|") {
			ev, err := typedValue(s, v)
			if err != nil {
				return err
			}
			s.Enum = append(s.Enum, ev)
		}
		if slices.Contains(s.Types, "null") {
			s.Enum = append(s.Enum, nil)
		}
	case "minimum":
		s.Minimum, err = num()
	case "maximum":
		s.Maximum, err = num()
	case "exclusiveMinimum":
		s.ExclusiveMinimum, err = num()
	case "exclusiveMaximum":
		s.ExclusiveMaximum, err = num()
	case "minLength":
		s.MinLength, err = count()
	case "maxLength":
		s.MaxLength, err = count()
	case "minItems":
		s.MinItems, err = count()
	case "maxItems":
		s.MaxItems, err = count()
	case "uniqueItems":
		s.UniqueItems = true
	case "pattern":
		if _, err := regexp.Compile(val); err != nil {
			return fmt.Errorf("bad pattern: %w", err)
		}
		s.Pattern = val
	case "format":
		if !slices.Contains(Formats, val) {
			return fmt.Errorf("unsupported format %q (supported: %s)", val, strings.Join(Formats, ", "))
		}
		s.Format = val
	case "default":
		if json.Valid([]byte(val)) {
			s.Default = json.RawMessage(val)
		} else {
			b, _ := json.Marshal(val)
			s.Default = b
		}
	default:
		return fmt.Errorf("unknown key %q", key)
	}
	return err
}

// typedValue converts an enum value from a tag to the property's JSON type.
func typedValue(s *jsonschema.Schema, v string) (any, error) {
	typ := s.Type
	if typ == "" {
		for _, t := range s.Types {
			if t != "null" {
				typ = t
			}
		}
	}
	switch typ {
	case "integer", "number":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("enum value %q is not a number", v)
		}
		return f, nil
	case "boolean":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("enum value %q is not a boolean", v)
		}
		return b, nil
	default:
		return v, nil
	}
}

// supportedKeywords are the Schema fields the validator implements (plus
// annotations). Any other non-zero field is refused at Define.
var supportedKeywords = map[string]bool{
	"Title": true, "Description": true, "Default": true, "Deprecated": true,
	"ReadOnly": true, "WriteOnly": true, "Examples": true, "PropertyOrder": true,
	"Type": true, "Types": true, "Enum": true, "Const": true,
	"Minimum": true, "Maximum": true, "ExclusiveMinimum": true, "ExclusiveMaximum": true,
	"MinLength": true, "MaxLength": true, "Pattern": true, "Format": true,
	"Items": true, "MinItems": true, "MaxItems": true, "UniqueItems": true,
	"Required": true, "Properties": true, "AdditionalProperties": true,
	"Not": true, // only as the "false" schema {"not": {}}
}

// unsupportedFields lists the fields of jsonschema.Schema that are not
// supportedKeywords, in field order: worked out once, since every action's
// schemas are checked at start.
var unsupportedFields = sync.OnceValue(func() []schemaField {
	t := reflect.TypeFor[jsonschema.Schema]()
	var out []schemaField
	for i := range t.NumField() {
		if name := t.Field(i).Name; !supportedKeywords[name] {
			out = append(out, schemaField{index: i, name: name})
		}
	}
	return out
})

type schemaField struct {
	index int
	name  string
}

// checkSupported reports the first keyword in s that the validator does not
// implement, with its location.
func checkSupported(s *jsonschema.Schema, at string) error {
	if s == nil {
		return nil
	}
	v := reflect.ValueOf(s).Elem()
	for _, f := range unsupportedFields() {
		if !v.Field(f.index).IsZero() {
			return fmt.Errorf("schema at %s uses %s, which the action validator does not implement", at, f.name)
		}
	}
	if s.Not != nil && !isFalse(s) {
		return fmt.Errorf("schema at %s uses not (other than the false schema)", at)
	}
	if s.Format != "" && !slices.Contains(Formats, s.Format) {
		return fmt.Errorf("schema at %s uses unsupported format %q", at, s.Format)
	}
	if s.Pattern != "" {
		if _, err := regexp.Compile(s.Pattern); err != nil {
			return fmt.Errorf("schema at %s: bad pattern: %w", at, err)
		}
	}
	for name, p := range s.Properties {
		if err := checkSupported(p, at+"/properties/"+name); err != nil {
			return err
		}
	}
	if s.AdditionalProperties != nil && !isFalse(s.AdditionalProperties) {
		if err := checkSupported(s.AdditionalProperties, at+"/additionalProperties"); err != nil {
			return err
		}
	}
	return checkSupported(s.Items, at+"/items")
}

// isFalse reports whether s is the schema that matches nothing ({"not":{}}),
// which jsonschema-go uses for additionalProperties: false.
func isFalse(s *jsonschema.Schema) bool {
	if s == nil || s.Not == nil {
		return false
	}
	n := reflect.ValueOf(s.Not).Elem()
	if !n.IsZero() {
		return false
	}
	c := *s
	c.Not = nil
	return reflect.ValueOf(c).IsZero()
}

// schemaTypes returns the JSON types a schema allows (nil: any).
func schemaTypes(s *jsonschema.Schema) []string {
	if s.Type != "" {
		return []string{s.Type}
	}
	return s.Types
}
