package deskactions

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestStringList(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		`["a","b"]`:      {"a", "b"},
		`"a,b"`:          {"a", "b"},
		`" a , ,b "`:     {"a", "b"},
		`""`:             nil,
		`null`:           nil,
		`["a"," ","b "]`: {"a", "b"},
		`"contacts"`:     {"contacts"},
	} {
		var l StringList
		if err := json.Unmarshal([]byte(in), &l); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !slices.Equal([]string(l), want) {
			t.Errorf("%s = %q, want %q", in, l, want)
		}
	}
	for _, bad := range []string{`5`, `{"a":1}`, `[1]`, `true`} {
		var l StringList
		if err := json.Unmarshal([]byte(bad), &l); err == nil {
			t.Errorf("%s accepted as %q", bad, l)
		}
	}
}

func TestUploadRefRoundTrip(t *testing.T) {
	t.Parallel()
	var refs []UploadRef
	in := `["123",{"fileName":"a.txt","fileData":"aGk="}]`
	if err := json.Unmarshal([]byte(in), &refs); err != nil {
		t.Fatal(err)
	}
	if refs[0].ID != "123" || refs[1].File == nil || refs[1].File.FileData != "aGk=" {
		t.Fatalf("refs = %+v", refs)
	}
	out, err := json.Marshal(refs)
	if err != nil || string(out) != in {
		t.Fatalf("marshal = %s, %v; want %s", out, err, in)
	}
	for _, bad := range []string{`5`, `{"fileName":"a","fileData":"b","x":1}`, `[]`, `null`} {
		var u UploadRef
		if err := json.Unmarshal([]byte(bad), &u); err == nil {
			t.Errorf("%s accepted as %+v", bad, u)
		}
	}
}

func TestNullable(t *testing.T) {
	t.Parallel()
	var p struct {
		A Nullable `json:"a,omitzero"`
		B Nullable `json:"b,omitzero"`
		C Nullable `json:"c,omitzero"`
	}
	if err := json.Unmarshal([]byte(`{"a":null,"b":"x"}`), &p); err != nil {
		t.Fatal(err)
	}
	if !p.A.Set || !p.A.Null || !p.B.Set || p.B.Value != "x" || p.C.Set {
		t.Fatalf("decoded %+v", p)
	}
	out, _ := json.Marshal(p)
	if string(out) != `{"a":null,"b":"x"}` {
		t.Fatalf("marshal = %s", out)
	}
	if err := json.Unmarshal([]byte(`{"a":5}`), &p); err == nil {
		t.Fatal("number accepted")
	}
}

func TestHTMLToText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"<div>Synthetic ticket 1</div>":              "Synthetic ticket 1",
		"<p>Line&nbsp;one</p><p>two &amp; three</p>": "Line one\ntwo & three",
		"a<br>b<br/>c":                     "a\nb\nc",
		"<div>x</div>\n\n\n\n<div>y</div>": "x\n\ny",
		"":                                 "",
		"plain":                            "plain",
		"<script>alert(1)</script>text":    "alert(1)text",
	} {
		if got := htmlToText(in); got != want {
			t.Errorf("htmlToText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSortPrefix(t *testing.T) {
	t.Parallel()
	for _, c := range [][3]string{
		{"createdTime", "-", "-createdTime"}, {"createdTime", "desc", "-createdTime"}, {"createdTime", "", "createdTime"},
		{"createdTime", "asc", "createdTime"}, {"-createdTime", "asc", "-createdTime"}, {"", "-", ""},
	} {
		if got := sortPrefix(c[0], c[1]); got != c[2] {
			t.Errorf("sortPrefix(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
