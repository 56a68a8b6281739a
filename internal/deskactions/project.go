package deskactions

import (
	"encoding/json"
	"slices"

	segjson "github.com/segmentio/encoding/json"

	"github.com/deskconn/deskconn/internal/jsonscan"
)

// keySet is the members a compact row keeps: their names in sorted order
// (the order project writes them in) and each name's index.
type keySet struct {
	names []string
	index map[string]int
}

// newKeySet returns the set of names (at most 64; no duplicates).
func newKeySet(names ...string) *keySet {
	if len(names) > 64 {
		panic("deskactions: a compact row keeps at most 64 keys")
	}
	ks := &keySet{names: slices.Sorted(slices.Values(names)), index: make(map[string]int, len(names))}
	for i, n := range ks.names {
		if _, dup := ks.index[n]; dup {
			panic("deskactions: key " + n + " given twice")
		}
		ks.index[n] = i
	}
	return ks
}

// spans holds where each kept member's value is in a row: the value of
// keys.names[i] is raw[s[i][0]:s[i][1]]; a zero end means absent.
type spans [64][2]int

// project keeps only keys of a JSON object (anything that is not an
// object is returned as is). The kept members are copied as they came, in
// key order, without re-encoding them: keys are plain identifiers. A key
// given twice keeps its last value, as decoding would.
//
// Rows reach it from a decoder that validated them, so it does not
// validate raw again: it finds the members with scanMembers (a byte scan)
// or, for a row that scan declines (an escaped key), with segmentio's
// tokenizer, copies the kept values' bytes and validates only the result,
// which is smaller; a result that is not valid JSON (raw was not) gives
// raw back. A row costs one scan, and allocates only its result.
func project(raw json.RawMessage, keys *keySet) json.RawMessage {
	var sp spans
	if !scanMembers(raw, keys, &sp) {
		sp = spans{}
		if !tokenizeMembers(raw, keys, &sp) {
			return raw
		}
	}
	size := 2
	for i, k := range keys.names {
		if s := sp[i]; s[1] > 0 {
			size += len(k) + s[1] - s[0] + 4
		}
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, k := range keys.names { // sorted
		s := sp[i]
		if s[1] == 0 {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		b = append(b, raw[s[0]:s[1]]...)
	}
	if b = append(b, '}'); !segjson.Valid(b) {
		return raw
	}
	return b
}

// scanMembers records in sp where the kept members' values are in the
// object raw, by scanning its bytes: it finds each top-level key and skips
// each value (strings by their quotes and escapes, objects and arrays by
// their brackets, scalars up to the next delimiter) without validating
// what it skips. It reports false, having possibly recorded some members,
// for a row it does not read as an object, and for a key with an escape
// (the tokenizer unescapes it).
//
// With it project takes 2.2–3.0 µs for a Zoho ticket row instead of
// 5.1–5.3 µs with the tokenizer alone (BenchmarkProject, 2 cores): the
// projection was the largest part of a compact list's own cost.
func scanMembers(raw []byte, keys *keySet, sp *spans) bool {
	i := jsonscan.SkipSpace(raw, 0)
	if i == len(raw) || raw[i] != '{' {
		return false
	}
	if i = jsonscan.SkipSpace(raw, i+1); i < len(raw) && raw[i] == '}' {
		return jsonscan.SkipSpace(raw, i+1) == len(raw)
	}
	for {
		if i == len(raw) || raw[i] != '"' {
			return false
		}
		j := i + 1
		for j < len(raw) && raw[j] != '"' {
			if raw[j] == '\\' {
				return false
			}
			j++
		}
		if j == len(raw) {
			return false
		}
		key := raw[i+1 : j]
		if i = jsonscan.SkipSpace(raw, j+1); i == len(raw) || raw[i] != ':' {
			return false
		}
		start := jsonscan.SkipSpace(raw, i+1)
		end, ok := jsonscan.ValueEnd(raw, start)
		if !ok {
			return false
		}
		if k, kept := keys.index[string(key)]; kept {
			sp[k] = [2]int{start, end}
		}
		if i = jsonscan.SkipSpace(raw, end); i == len(raw) {
			return false
		}
		switch raw[i] {
		case ',':
			i = jsonscan.SkipSpace(raw, i+1)
		case '}':
			return jsonscan.SkipSpace(raw, i+1) == len(raw)
		default:
			return false
		}
	}
}

// tokenizeMembers records in sp where the kept members' values are in the
// object raw, walking its members with segmentio's tokenizer (which
// unescapes keys). It reports false for a row that is not a whole object.
func tokenizeMembers(raw []byte, keys *keySet, sp *spans) bool {
	t := segjson.NewTokenizer(raw)
	if !t.Next() || t.Delim != '{' {
		return false
	}
	key := -1       // index in keys of the member being read, or -1
	closed := false // the object's closing brace was read
	for t.Next() {
		switch {
		case t.Depth == 0: // the object's closing brace
			closed = true
		case t.IsKey && t.Depth == 1:
			i, ok := keys.index[string(t.String())]
			if !ok {
				i = -1
			}
			key = i
		case t.Delim == ':' || t.Delim == ',' || key < 0:
		default: // the first token of a kept member's value
			start := len(raw) - t.Remaining() - len(t.Value)
			if t.Delim == '{' || t.Delim == '[' {
				for d := t.Depth; t.Next() && (t.Depth != d || (t.Delim != '}' && t.Delim != ']')); {
				}
			}
			sp[key] = [2]int{start, len(raw) - t.Remaining()}
			key = -1
		}
	}
	return t.Err == nil && closed
}
