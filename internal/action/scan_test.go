package action

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/deskconn/deskconn/internal/jsonscan"
)

// decoderParse is the reference: the json.Decoder path of parseJSON.
func decoderParse(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return parseValue(dec, 0)
}

// FuzzScanValue: for every well-formed document, the in-place scanner
// builds exactly the tree json.Decoder does (or falls back), and parseJSON
// accepts and refuses the same documents as the Decoder path.
func FuzzScanValue(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[true,false,null,"x\u00e9\"y\\"],"c":{"d":-1.5e3}}`,
		`{"a":"1","a":"2"}`, `[]`, `{}`, `"s"`, `0`, ` { "k" : [ 1 , 2 ] } `,
		`{"fileData":"aGVsbG8gd29ybGQ=\n"}`, `{"x":"\ud83d\ude00"}`, `[1,]`, `{"a"}`,
		strings.Repeat("[", 70) + strings.Repeat("]", 70),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, gotErr := parseJSON(raw)
		if !json.Valid(raw) || !utf8.Valid(raw) {
			if gotErr == nil {
				t.Fatalf("parseJSON accepted invalid JSON %q", raw)
			}
			return
		}
		want, wantErr := decoderParse(raw)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("parseJSON err %v, decoder err %v for %q", gotErr, wantErr, raw)
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("tree %#v, decoder tree %#v for %q", got, want, raw)
		}
		if v, end, err := scanValue(raw, 0, 0); err == nil && jsonscan.SkipSpace(raw, end) == len(raw) && !reflect.DeepEqual(v, want) {
			t.Fatalf("scanValue %#v, decoder %#v for %q", v, want, raw)
		}
	})
}

// TestHashInputFollowsTheDecodedInput: inputs that decode alike hash alike
// (member order, white space, escapes, empty omitempty fields, write
// options), any other value changes the hash.
func TestHashInputFollowsTheDecodedInput(t *testing.T) {
	type inner struct {
		A string   `json:"a,omitempty"`
		B []string `json:"b,omitempty"`
		M map[string]int
	}
	type in struct {
		WriteOptions
		X   string          `json:"x"`
		N   int             `json:"n,omitempty"`
		In  inner           `json:"in"`
		Raw json.RawMessage `json:"raw,omitempty"`
		P   *inner          `json:"p,omitempty"`
	}
	sum := func(s string) string {
		t.Helper()
		var v in
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		h, err := hashInput(&v)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	base := sum(`{"x":"hello","in":{"a":"1","M":{"k":1,"j":2}}}`)
	for _, same := range []string{
		`{"in":{"M":{"j":2,"k":1},"a":"1"},"x":"hello"}`,
		`{"x":"h\u0065llo","n":0,"in":{"a":"1","b":[],"M":{"k":1,"j":2}},"idempotencyKey":"k","dryRun":true,"confirm":true}`,
	} {
		if sum(same) != base {
			t.Errorf("%s: hash differs from the same input", same)
		}
	}
	for _, other := range []string{
		`{"x":"hello!","in":{"a":"1","M":{"k":1,"j":2}}}`,
		`{"x":"hello","n":1,"in":{"a":"1","M":{"k":1,"j":2}}}`,
		`{"x":"hello","in":{"a":"1","M":{"k":1,"j":3}}}`,
		`{"x":"hello","in":{"a":"1","b":["z"],"M":{"k":1,"j":2}}}`,
		`{"x":"hello","in":{"a":"1","M":{"k":1,"j":2}},"raw":{"q":1}}`,
		`{"x":"hello","in":{"a":"1","M":{"k":1,"j":2}},"p":{}}`,
		`{"x":"","in":{"a":"hello1","M":{"k":1,"j":2}}}`,
	} {
		if sum(other) == base {
			t.Errorf("%s: hash equals another input's", other)
		}
	}
}
