package jsonscan

import "testing"

func TestValueEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		end  int // offset ValueEnd gives for the value at 0; -1: none
		rest string
	}{
		{`"a\"}]b",1`, 8, `,1`},
		{`{"k":["]}\\"],"x":{}} ,`, 21, ` ,`},
		{`[1,[2,{"a":"["}]]]`, 17, `]`},
		{`-1.5e3}`, 6, `}`},
		{"true\n", 4, "\n"},
		{`null`, 4, ``},
		{`"open`, -1, ``},
		{`{"a":[1}`, -1, ``},
		{`,`, -1, ``},
		{``, -1, ``},
	} {
		end, ok := ValueEnd([]byte(tc.in), 0)
		if tc.end < 0 {
			if ok {
				t.Errorf("ValueEnd(%q) = %d, want no value", tc.in, end)
			}
			continue
		}
		if !ok || end != tc.end || tc.in[end:] != tc.rest {
			t.Errorf("ValueEnd(%q) = %d, %v; want %d (rest %q)", tc.in, end, ok, tc.end, tc.rest)
		}
	}
}

func TestSkipSpace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		from, i int
	}{
		{" \t\r\n{", 0, 4},
		{"{ }", 1, 2},
		{"  ", 0, 2},
		{"\v", 0, 0}, // not JSON whitespace
	} {
		if got := SkipSpace([]byte(tc.in), tc.from); got != tc.i {
			t.Errorf("SkipSpace(%q, %d) = %d, want %d", tc.in, tc.from, got, tc.i)
		}
	}
}
