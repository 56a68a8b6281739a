package deskactions

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestListOutputAppendJSON: AppendJSON means what json.Marshal means, for
// every member, and refuses a row that is not JSON.
func TestListOutputAppendJSON(t *testing.T) {
	t.Parallel()
	next := 200
	for _, o := range []ListOutput{
		{},
		{Data: []json.RawMessage{}, Limit: 100},
		{Data: []json.RawMessage{json.RawMessage(`{"id":"1","subject":"a <b> & \u2028 é"}`), json.RawMessage(` [1, {"x" : null}] `), json.RawMessage(`"s"`)},
			From: 100, Limit: 100, Count: 3, HasMore: true, NextFrom: &next, Truncated: true,
			Walk: &ListWalk{Order: "createdTime", Parallel: true, DuplicatesDropped: 2, Note: "n <&>"}},
	} {
		got, err := o.AppendJSON([]byte("prefix:"))
		if err != nil {
			t.Fatalf("AppendJSON(%+v) = %v", o, err)
		}
		enc, ok := strings.CutPrefix(string(got), "prefix:")
		if !ok {
			t.Fatalf("AppendJSON dropped what b held: %s", got)
		}
		want, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal([]byte(enc), &g); err != nil {
			t.Fatalf("AppendJSON = %s: not JSON: %v", enc, err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("AppendJSON = %s\njson.Marshal = %s", enc, want)
		}
	}
	bad := ListOutput{Data: []json.RawMessage{json.RawMessage(`{"id":1}`), json.RawMessage(`{"id":`)}}
	if _, err := bad.AppendJSON(nil); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Errorf("AppendJSON with an invalid row = %v, want an error naming row 1", err)
	}
}
