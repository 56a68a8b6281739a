package action

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/deskconn/deskconn/internal/jsonscan"
)

// errScan makes scanValue give up; parseJSON then parses again with
// encoding/json's Decoder to produce its exact error message.
var errScan = errors.New("scan: fall back")

// scanValue parses one value of raw, which json.Valid has accepted, from
// offset i into the same tree as parseValue (nil, bool, json.Number,
// string, []any, object) and returns it with the offset after it. It works
// on raw in place: each string is copied once, into its Go string, and
// nothing proportional to raw is buffered (unlike json.Decoder, which
// copies the whole document into its own buffer first). It returns errScan
// for nesting deeper than maxDepth.
func scanValue(raw []byte, i, depth int) (any, int, error) {
	if depth > maxDepth {
		return nil, 0, errScan
	}
	i = jsonscan.SkipSpace(raw, i)
	if i >= len(raw) {
		return nil, 0, errScan
	}
	switch c := raw[i]; {
	case c == '{':
		obj := object{}
		i = jsonscan.SkipSpace(raw, i+1)
		if i < len(raw) && raw[i] == '}' {
			return obj, i + 1, nil
		}
		for {
			i = jsonscan.SkipSpace(raw, i)
			if i >= len(raw) || raw[i] != '"' {
				return nil, 0, errScan
			}
			key, next, err := scanString(raw, i)
			if err != nil {
				return nil, 0, err
			}
			i = jsonscan.SkipSpace(raw, next)
			if i >= len(raw) || raw[i] != ':' {
				return nil, 0, errScan
			}
			v, next, err := scanValue(raw, i+1, depth+1)
			if err != nil {
				return nil, 0, err
			}
			obj = append(obj, member{key, v})
			i = jsonscan.SkipSpace(raw, next)
			if i >= len(raw) {
				return nil, 0, errScan
			}
			if raw[i] == '}' {
				return obj, i + 1, nil
			}
			if raw[i] != ',' {
				return nil, 0, errScan
			}
			i++
		}
	case c == '[':
		arr := []any{}
		i = jsonscan.SkipSpace(raw, i+1)
		if i < len(raw) && raw[i] == ']' {
			return arr, i + 1, nil
		}
		for {
			v, next, err := scanValue(raw, i, depth+1)
			if err != nil {
				return nil, 0, err
			}
			arr = append(arr, v)
			i = jsonscan.SkipSpace(raw, next)
			if i >= len(raw) {
				return nil, 0, errScan
			}
			if raw[i] == ']' {
				return arr, i + 1, nil
			}
			if raw[i] != ',' {
				return nil, 0, errScan
			}
			i++
		}
	case c == '"':
		return scanString(raw, i)
	case bytes.HasPrefix(raw[i:], []byte("true")):
		return true, i + 4, nil
	case bytes.HasPrefix(raw[i:], []byte("false")):
		return false, i + 5, nil
	case bytes.HasPrefix(raw[i:], []byte("null")):
		return nil, i + 4, nil
	case c == '-' || (c >= '0' && c <= '9'):
		j := i + 1
		for j < len(raw) && isNumberByte(raw[j]) {
			j++
		}
		return json.Number(raw[i:j]), j, nil
	}
	return nil, 0, errScan
}

// scanString reads the string literal starting at raw[i] (a '"').
func scanString(raw []byte, i int) (string, int, error) {
	escaped := false
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			escaped = true
			j++ // skip the escaped byte (a 'u' escape's hex digits are plain)
		case '"':
			if !escaped {
				return string(raw[i+1 : j]), j + 1, nil
			}
			var s string
			if err := json.Unmarshal(raw[i:j+1], &s); err != nil {
				return "", 0, errScan
			}
			return s, j + 1, nil
		}
	}
	return "", 0, errScan
}

func isNumberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}
