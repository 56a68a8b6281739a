package action

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// hashInput returns the SHA-256 of a canonical form of a decoded input v
// (a pointer to an action's In). It follows encoding/json's view of the
// value, as a re-marshalled input would: fields under their JSON names,
// omitempty fields left out when empty, json.Marshaler types by their
// JSON, map keys sorted; the embedded WriteOptions are left out (they say
// how to run the call, not what it does). Strings are hashed in place,
// length-prefixed: a large string (a base64 file) is never copied, as
// json.Marshal would copy it into a growing buffer.
func hashInput(v any) ([]byte, error) {
	h := sha256.New()
	w := &hasher{h: h}
	if err := w.value(reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

type hasher struct {
	h   hash.Hash
	buf [4096]byte
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	writeOptionsType  = reflect.TypeFor[WriteOptions]()
)

func (w *hasher) tag(t byte, n int) {
	var b [9]byte
	b[0] = t
	binary.BigEndian.PutUint64(b[1:], uint64(n))
	w.h.Write(b[:])
}

// str writes tag, len(s) and s through buf: converting a large s to
// []byte would copy it.
func (w *hasher) str(t byte, s string) {
	w.tag(t, len(s))
	for len(s) > 0 {
		n := copy(w.buf[:], s)
		w.h.Write(w.buf[:n])
		s = s[n:]
	}
}

func (w *hasher) value(v reflect.Value) error {
	if !v.IsValid() {
		w.tag('n', 0)
		return nil
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		w.tag('n', 0)
		return nil
	}
	if v.Type().Implements(marshalerType) || v.Type().Implements(textMarshalerType) {
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return fmt.Errorf("hash input: %w", err)
		}
		w.str('j', string(b))
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return w.value(v.Elem())
	case reflect.String:
		w.str('s', v.String())
	case reflect.Bool:
		w.str('b', strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.str('i', strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		w.str('u', strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		w.str('f', strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			w.tag('n', 0)
			return nil
		}
		w.tag('a', v.Len())
		for i := range v.Len() {
			if err := w.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.IsNil() {
			w.tag('n', 0)
			return nil
		}
		keys := v.MapKeys()
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = fmt.Sprint(k.Interface())
		}
		order := make([]int, len(keys))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return strings.Compare(names[a], names[b]) })
		w.tag('m', len(keys))
		for _, i := range order {
			w.str('k', names[i])
			if err := w.value(v.MapIndex(keys[i])); err != nil {
				return err
			}
		}
	case reflect.Struct:
		w.tag('o', 0)
		if err := w.fields(v); err != nil {
			return err
		}
		w.tag('e', 0)
	default:
		return fmt.Errorf("hash input: unsupported kind %s", v.Kind())
	}
	return nil
}

// fields hashes a struct's fields as encoding/json marshals them; embedded
// structs without a JSON name are inlined.
func (w *hasher) fields(v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type == writeOptionsType {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if err := w.fields(fv); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if slices.Contains(strings.Split(opts, ","), "omitempty") && isEmptyValue(fv) {
			continue
		}
		w.str('k', name)
		if err := w.value(fv); err != nil {
			return err
		}
	}
	return nil
}

// isEmptyValue is encoding/json's test for omitempty.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
