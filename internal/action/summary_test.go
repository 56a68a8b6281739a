package action

import (
	"strings"
	"testing"
)

func TestSummarizeIDs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"ids at two levels", `{"orgId":"2389290","ticketId":"1892000000042032","payload":{"contactId":7,"assigneeId":null,"subject":"x"}}`,
			"orgId=2389290, ticketId=1892000000042032, payload.contactId=7"},
		{"id lists", `{"ticketIds":["1","2",3]}`, "ticketIds=1,2,3"},
		{"no free text, secrets or files", `{"subject":"my password is hunter2","content":"hi","email":"a@b.example","fileData":"aGVsbG8=","idempotencyKey":"k-1","payload":{"fileName":"a.txt"}}`, ""},
		{"an id field with text in it is left out", `{"threadId":"hello world","ticketId":"data:text/plain;base64,aGk="}`, ""},
		{"too deep", `{"payload":{"cf":{"ticketId":"1"}}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := parseInput([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := summarizeIDs(obj); got != tc.want {
				t.Errorf("summarizeIDs = %q, want %q", got, tc.want)
			}
		})
	}
	var b strings.Builder
	b.WriteString(`{"ticketIds":[`)
	for i := range 50 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"189200000004203` + string(rune('0'+i%10)) + `"`)
	}
	b.WriteString(`]}`)
	obj, err := parseInput([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if got := summarizeIDs(obj); len(got) > maxSummaryLen+5 || strings.Count(got, ",") > maxSummaryIDs {
		t.Errorf("summary of 50 ids is not bounded: %d chars: %s", len(got), got)
	}
}
