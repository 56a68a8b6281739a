package zohodesk

import (
	"bytes"
	"encoding/json"
	"errors"

	segjson "github.com/segmentio/encoding/json"
)

// Optional is a three-state request field for PATCH bodies: unset (the zero
// value; the field is left out of the JSON body, so Zoho leaves it as is),
// set to a value (Set), or explicitly null (Null; Zoho clears the field,
// e.g. "assigneeId": null unassigns a ticket). Fields of this type carry the
// `omitzero` JSON option.
type Optional[T any] struct {
	v    T
	set  bool
	null bool
}

// Set returns an Optional holding v.
func Set[T any](v T) Optional[T] { return Optional[T]{v: v, set: true} }

// Null returns an Optional that encodes as JSON null.
func Null[T any]() Optional[T] { return Optional[T]{set: true, null: true} }

// IsZero reports whether o is unset (so `omitzero` leaves it out).
func (o Optional[T]) IsZero() bool { return !o.set }

// IsNull reports whether o is an explicit null.
func (o Optional[T]) IsNull() bool { return o.set && o.null }

// Value returns the value and whether o holds one (false for unset and null).
func (o Optional[T]) Value() (T, bool) { return o.v, o.set && !o.null }

// MarshalJSON encodes the value, or null for Null (and for an unset value
// that is not left out by omitzero).
func (o Optional[T]) MarshalJSON() ([]byte, error) {
	if !o.set || o.null {
		return []byte("null"), nil
	}
	return json.Marshal(o.v)
}

// UnmarshalJSON decodes null as Null and anything else as Set.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*o = Null[T]()
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*o = Set(v)
	return nil
}

// marshalWithExtra encodes v (a struct) and adds the keys of extra that v
// did not already write. It lets request types carry fields this package
// does not name while the typed fields keep precedence.
func marshalWithExtra(v any, extra map[string]any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, x := range extra {
		if _, ok := m[k]; ok {
			continue
		}
		raw, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		m[k] = raw
	}
	return json.Marshal(m)
}

// decodeLenient decodes a Zoho object into v (a pointer to a plain struct).
// Zoho's schemas allow ids and counts as "string|integer"; when a top-level
// number arrives where v has a string, it is converted to its decimal text
// and decoding is retried, instead of failing the whole call.
func decodeLenient(b []byte, v any) error {
	err := segjson.Unmarshal(b, v)
	var te *json.UnmarshalTypeError
	if err == nil || !errors.As(err, &te) {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil {
		return err
	}
	for k, x := range m {
		if n, ok := x.(json.Number); ok {
			m[k] = n.String()
		}
	}
	nb, merr := json.Marshal(m)
	if merr != nil {
		return err
	}
	if err2 := json.Unmarshal(nb, v); err2 != nil {
		return err
	}
	return nil
}
