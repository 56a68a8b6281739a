package deskactions

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// project keeps the listed members of an object, sorted, as they came; it
// returns anything else unchanged.
func TestProject(t *testing.T) {
	t.Parallel()
	keys := newKeySet("subject", "id", "contact")
	for _, tc := range []struct{ in, want string }{
		{`{"id":"1","subject":"a <b> & c","cf":{"x":1},"contact":{"email":"e@x","id":"9"},"extra":[1,2]}`,
			`{"contact":{"email":"e@x","id":"9"},"id":"1","subject":"a <b> & c"}`},
		{`{"other":1}`, `{}`},
		{`{}`, `{}`},
		{`[1,2]`, `[1,2]`},
		{`null`, `null`},
		{`{"id":`, `{"id":`},
		{`{"id":[1,,2]}`, `{"id":[1,,2]}`},
		// An escaped key is the same key; the last of a repeated key wins;
		// nested members of the same name are not top-level members.
		{`{"\u0069d":"1","x":{"subject":"no"},"subject":"a","subject":"b"}`, `{"id":"1","subject":"b"}`},
		{` { "id" : [ {"id":[]} , "]" ] , "contact" : null } `, `{"contact":null,"id":[ {"id":[]} , "]" ]}`},
		// Brackets and escaped quotes inside strings do not end a value.
		{`{"x":"}{\"","id":"a\"}]b","subject":{"k":["]}\\"]},"contact":-1.5e3}`,
			`{"contact":-1.5e3,"id":"a\"}]b","subject":{"k":["]}\\"]}}`},
		{"{\n\t\"id\"\r\n:\ttrue\n}\n", `{"id":true}`},
		{`{"id":1}x`, `{"id":1}x`},
	} {
		got := project(json.RawMessage(tc.in), keys)
		if string(got) != tc.want {
			t.Errorf("project(%s) = %s, want %s", tc.in, got, tc.want)
		}
		if json.Valid([]byte(tc.in)) && !json.Valid(got) {
			t.Errorf("project(%s) = %s is not JSON", tc.in, got)
		}
	}
}

func BenchmarkProject(b *testing.B) {
	row := json.RawMessage(`{"id":"1892000000042032","ticketNumber":"101","subject":"Printer on fire","description":null,"status":"Open","statusType":"Open","priority":"High","channel":"Email","createdTime":"2026-11-20T10:00:00.000Z","modifiedTime":"2026-11-21T10:00:00.000Z","dueDate":null,"departmentId":"1892000000006907","contactId":"1892000000042001","assigneeId":null,"webUrl":"https://desk.zoho.com/support/x/ShowHomePage.do#Cases/dv/1892000000042032","isOverDue":false,"cf":{"cf_a":null,"cf_b":"x"},"customFields":{"A":null,"B":"x"},"onholdTime":null,"layoutId":"1892000000074011","sharedDepartments":[],"language":"English","isSpam":false,"threadCount":"3","commentCount":"0"}`)
	b.ReportAllocs()
	for b.Loop() {
		project(row, compactKeys)
	}
}

// FuzzProject: whatever Zoho sends, project answers the input unchanged or
// valid JSON holding only the listed keys.
func FuzzProject(f *testing.F) {
	f.Add(`{"id":"1","subject":"a","x":{"y":[1,"}"]}}`)
	f.Add(`{"id":"\u0022","subject":null}`)
	f.Add(`[{"id":1}]`)
	f.Fuzz(func(t *testing.T, in string) {
		got := project(json.RawMessage(in), newKeySet("id", "subject"))
		if string(got) == in {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(got, &m); err != nil {
			t.Fatalf("project(%q) = %q: not a JSON object: %v", in, got, err)
		}
		for k := range m {
			if k != "id" && k != "subject" {
				t.Fatalf("project(%q) kept %q", in, k)
			}
		}
	})
}

// FuzzMemberScan: on valid JSON, the byte scan finds the members the
// tokenizer finds, or declines the row (which the tokenizer then reads).
func FuzzMemberScan(f *testing.F) {
	f.Add(`{"id":"1","subject":"a","x":{"y":[1,"}"]}}`)
	f.Add(`{"x":"\\","id":[{"a":"]"}],"subject":"\"{"}`)
	f.Add(` {"\u0069d":1, "id" : null } `)
	f.Fuzz(func(t *testing.T, in string) {
		if !json.Valid([]byte(in)) {
			return
		}
		keys := newKeySet("id", "subject")
		var scanned, tokenized spans
		if !scanMembers([]byte(in), keys, &scanned) {
			return
		}
		if !tokenizeMembers([]byte(in), keys, &tokenized) {
			t.Fatalf("%q: the scan read an object the tokenizer did not", in)
		}
		if scanned != tokenized {
			t.Fatalf("%q: the scan found %v, the tokenizer %v", in, scanned[:2], tokenized[:2])
		}
	})
}

// FuzzRowID: on valid JSON in UTF-8, rowID is what decoding says: the
// string value of the object's last top-level "id" member, or "".
func FuzzRowID(f *testing.F) {
	f.Add(`{"id":"1892000000042032","subject":"x"}`)
	f.Add(`{"\u0069d":"7","id":"a\"b"}`)
	f.Add(`{"x":{"id":"0"},"id":12}`)
	f.Fuzz(func(t *testing.T, in string) {
		if !json.Valid([]byte(in)) || !utf8.ValidString(in) {
			return
		}
		want := ""
		var m map[string]any
		if json.Unmarshal([]byte(in), &m) == nil {
			want, _ = m["id"].(string)
		}
		if got := rowID(json.RawMessage(in)); got != want {
			t.Fatalf("rowID(%q) = %q, decoding gives %q", in, got, want)
		}
	})
}

func TestRowID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{`{"id":"1892000000042032","subject":"x"}`, "1892000000042032"},
		{`{"contact":{"id":"9"},"id":"1"}`, "1"},
		{`{"\u0069d":"2"}`, "2"},
		{`{"id":"a\"b"}`, `a"b`},
		{`{"id":12}`, ""},
		{`{"id":null}`, ""},
		{`{"x":[{"id":"3"}]}`, ""},
		{`[{"id":"4"}]`, ""},
		{`"id"`, ""},
		{`{"id":"5","id":"6"}`, "6"},
		{`{"\u0069d":"7","id":"8"}`, "8"},
		{` { "x" : {"id":"0"} , "id" : "9" } `, "9"},
		{`{"id":"\u0031\\"}`, `1\`},
	} {
		if got := rowID(json.RawMessage(tc.in)); got != tc.want {
			t.Errorf("rowID(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
