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
		{"plain text", "Hello there", 0, "Hello there", false},
		{"collapses spaces", "  Hello \n\t  there  ", 0, "Hello there", false},
		{"entities", "Fish &amp; chips &lt;3", 0, "Fish & chips <3", false},
		{"br", "line one<br>line two<br/>line three", 0, "line one\nline two\nline three", false},
		{"paragraphs", "<p>First</p><p>Second</p>", 0, "First\n\nSecond", false},
		{"divs", "<div>Hi Anna,</div><div>Thanks!</div>", 0, "Hi Anna,\nThanks!", false},
		{"list", "<ul><li>one</li><li>two</li></ul>", 0, "- one\n- two", false},
		{"link keeps url", `See <a href="https://example.com/kb/1">the article</a>.`, 0, "See the article (https://example.com/kb/1).", false},
		{"bare link", `<a href="https://example.com">https://example.com</a>`, 0, "https://example.com", false},
		{"mailto link", `<a href="mailto:a@b.example">a@b.example</a>`, 0, "a@b.example", false},
		{"empty link text", `<a href="https://x.example/y"></a>`, 0, "https://x.example/y", false},
		{"script and style dropped", "<style>p{}</style><script>alert(1)</script>Body", 0, "Body", false},
		{"img alt", `<img src="x.png" alt="logo"> text`, 0, "logo text", false},
		{"blockquote trimmed", "Yes, that works.<blockquote>On Monday you wrote: old stuff</blockquote>", 0, "Yes, that works.", false},
		{"gmail quote trimmed", `Thanks<div class="gmail_quote">On Tue, Bob wrote:<br>earlier</div>`, 0, "Thanks", false},
		{"zoho quote trimmed", `Reply here<div class="zmail_extra"><div>---- On Mon ----</div>older</div>`, 0, "Reply here", false},
		{"signature div trimmed", `Kind regards<div class="gmail_signature">Bob<br>CEO</div>`, 0, "Kind regards", false},
		{"zoho desk signature", `Done.<div id="signature">Support Team</div>`, 0, "Done.", false},
		{"sig delimiter", "Hello<br>-- <br>Bob Smith<br>555-1234", 0, "Hello", false},
		{"pre keeps spaces", "<pre>a  b\n  c</pre>", 0, "a  b\n  c", false},
		{"table cells", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", 0, "a b\nc", false},
		{"unclosed tags", "<div><p>open <b>bold", 0, "open bold", false},
		{"stray end tag", "a</div>b", 0, "ab", false},
		{"cap", "Hello wonderful world", 5, "Hello", true},
		{"cap trims trailing space", "Hello wonderful world", 6, "Hello", true},
		{"cap runes not bytes", "héllo wörld", 4, "héll", true},
		{"exactly max not cut", "Hello", 5, "Hello", false},
		{"quote does not count as cut", "Hi<blockquote>" + strings.Repeat("x", 100) + "</blockquote>", 5, "Hi", false},
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

func TestFromHTMLHostile(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("<div>", 100000) + "deep" + strings.Repeat("</div>", 100000)
	if got, _ := FromHTML(deep, 0); got != "deep" {
		t.Errorf("deep nesting: got %q", got)
	}
	big := strings.Repeat("a ", MaxInputBytes) // twice the input cap
	got, cut := FromHTML(big, 0)
	if !cut {
		t.Error("input above MaxInputBytes: cut = false, want true")
	}
	if len(got) > MaxInputBytes {
		t.Errorf("output %d bytes is larger than the input cap", len(got))
	}
	quotes := strings.Repeat("<blockquote>", 5000) + "q"
	if got, _ := FromHTML("visible"+quotes, 0); got != "visible" {
		t.Errorf("unclosed quotes: got %q", got)
	}
}

func FuzzFromHTML(f *testing.F) {
	for _, s := range []string{"", "<p>a</p>", `<a href="x">y</a>`, "<blockquote>q", "<pre> x </pre>", "a<br>-- <br>sig", "\xff<div>\x00"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, maxChars int) {
		if maxChars > 1000 {
			maxChars %= 1000
		}
		got, cut := FromHTML(s, maxChars)
		if maxChars > 0 && utf8.RuneCountInString(got) > maxChars {
			t.Fatalf("output has %d runes, more than maxChars %d", utf8.RuneCountInString(got), maxChars)
		}
		full, fullCut := FromHTML(s, 0)
		if fullCut {
			t.Fatalf("uncapped conversion of %d bytes reported cut", len(s))
		}
		if wantCut := maxChars > 0 && utf8.RuneCountInString(full) > maxChars; cut != wantCut {
			t.Fatalf("cut = %v, want %v (full text %d runes, maxChars %d)", cut, wantCut, utf8.RuneCountInString(full), maxChars)
		}
		if !cut && got != full {
			t.Fatalf("not cut but differs from the uncapped text: %q vs %q", got, full)
		}
	})
}
