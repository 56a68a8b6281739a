package htmltext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFromHTML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		max      int
		want     string
		cut      bool
	}{
		{"plain", "Hello world", 0, "Hello world", false},
		{"entities", "Fish &amp; chips&nbsp;now", 0, "Fish & chips now", false},
		{"paragraphs", "<p>One</p><p>Two <b>bold</b></p>", 0, "One\n\nTwo bold", false},
		{"br and spaces", "a<br>b   \n c", 0, "a\nb c", false},
		{"list", "<ul><li>first</li><li>second</li></ul>", 0, "- first\n- second", false},
		{"script dropped", "<script>alert(1)</script><style>p{}</style>text", 0, "text", false},
		{"comment dropped", "a<!-- hidden -->b", 0, "ab", false},
		{"blockquote dropped", "Thanks!<blockquote>On Monday you wrote:<blockquote>old</blockquote>more</blockquote>", 0, "Thanks!", false},
		{"zoho quote dropped", `<div>Reply</div><div class="zmail_extra"><div>quoted <div>deep</div></div></div><p>after</p>`, 0, "Reply\n\nafter", false},
		{"signature dropped", `Hi<div id="gmail_signature">--<br>Bob</div>`, 0, "Hi", false},
		{"cut at runes", "<p>héllo wörld</p>", 5, "héllo", true},
		{"exact fit", "abc", 3, "abc", false},
		{"table", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", 0, "a b\nc", false},
		{"broken markup", "<p>open <b>never closed", 0, "open never closed", false},
		{"empty", "", 10, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, cut := FromHTML(tt.in, tt.max)
			if got != tt.want || cut != tt.cut {
				t.Errorf("FromHTML(%q, %d) = %q, %v; want %q, %v", tt.in, tt.max, got, cut, tt.want, tt.cut)
			}
		})
	}
}

func TestFromHTMLBoundsInput(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("<p>x</p>", 1<<20)
	got, cut := FromHTML(in, 10)
	if !cut || utf8.RuneCountInString(got) > 10 {
		t.Fatalf("FromHTML(8 MiB, 10) = %d runes, cut %v; want <= 10 runes and cut", utf8.RuneCountInString(got), cut)
	}
}

func FuzzFromHTML(f *testing.F) {
	for _, s := range []string{"<p>a</p>", "<blockquote><blockquote>x</blockquote>", "<div class=zmail_extra>q</div>t", "a&amp;<br/>b"} {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max > 1<<16 || max < -1 {
			return
		}
		got, _ := FromHTML(s, max)
		if max > 0 && utf8.RuneCountInString(got) > max {
			t.Fatalf("FromHTML returned %d runes, max %d", utf8.RuneCountInString(got), max)
		}
		if strings.Contains(got, "\n\n\n") {
			t.Fatalf("FromHTML returned three newlines in a row: %q", got)
		}
	})
}
