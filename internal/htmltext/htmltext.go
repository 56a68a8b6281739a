// Package htmltext turns the HTML bodies Zoho Desk stores (article answers,
// thread contents) into plain text an agent can read.
package htmltext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxInputFactor bounds the work: FromHTML reads at most maxChars*maxInputFactor
// bytes of HTML (markup is usually several times longer than its text), and at
// least minInput bytes.
const (
	maxInputFactor = 16
	minInput       = 64 << 10
)

// FromHTML returns the visible text of the HTML fragment s, at most maxChars
// characters (runes) long; cut reports that text was left out because of the
// limit. maxChars <= 0 means no limit.
//
// Scripts, styles and comments are dropped. Quoted history and signatures are
// dropped where the mail client marks them: <blockquote>, and elements whose
// class or id names a known quote or signature block (Zoho Mail's
// "zmail_extra" and "zmail_signature", Gmail's "gmail_quote" and
// "gmail_signature", Outlook's "divRplyFwdMsg"). [I] Zoho Desk keeps the
// mail's own markup in thread content; these are the markers seen there.
//
// Block elements and <br> become line breaks, list items start with "- ",
// runs of spaces collapse to one and at most one blank line separates blocks.
// Time and memory are linear in min(len(s), bounded input size).
func FromHTML(s string, maxChars int) (text string, cut bool) {
	if maxChars > 0 {
		limit := maxChars * maxInputFactor
		if limit < minInput {
			limit = minInput
		}
		if len(s) > limit {
			s = s[:limit]
			cut = true
		}
	}
	w := writer{max: maxChars}
	z := html.NewTokenizer(strings.NewReader(s))
	var skipName string // tag whose content is being skipped
	skipDepth := 0
	for !w.full {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if skipDepth > 0 {
				if tag == skipName && tt == html.StartTagToken {
					skipDepth++
				}
				continue
			}
			if tt == html.StartTagToken && skipped(tag, hasAttr, z) {
				skipName, skipDepth = tag, 1
				continue
			}
			w.open(atom.Lookup(name))
		case html.EndTagToken:
			name, _ := z.TagName()
			if skipDepth > 0 {
				if string(name) == skipName {
					skipDepth--
				}
				continue
			}
			w.close(atom.Lookup(name))
		case html.TextToken:
			if skipDepth == 0 {
				w.text(string(z.Text()))
			}
		}
	}
	return w.String(), cut || w.full
}

// quoteMarkers are class or id fragments that mark quoted history or a
// signature block.
var quoteMarkers = []string{
	"zmail_extra", "zmail_signature", "gmail_quote", "gmail_signature",
	"divrplyfwdmsg", "zd_quote", "moz-cite-prefix", "yahoo_quoted",
}

func skipped(tag string, hasAttr bool, z *html.Tokenizer) bool {
	switch tag {
	case "script", "style", "head", "title", "template", "noscript", "blockquote":
		return true
	}
	if !hasAttr {
		return false
	}
	for {
		key, val, more := z.TagAttr()
		if k := string(key); k == "class" || k == "id" {
			v := strings.ToLower(string(val))
			for _, m := range quoteMarkers {
				if strings.Contains(v, m) {
					return true
				}
			}
		}
		if !more {
			return false
		}
	}
}

// writer accumulates text, collapsing white space (including no-break
// spaces) and counting runes.
type writer struct {
	b        strings.Builder
	max      int
	n        int  // runes written
	space    bool // a space is pending
	newlines int  // newlines pending (0, 1 or 2)
	full     bool
}

func (w *writer) open(a atom.Atom) {
	switch a {
	case atom.Br:
		w.lineBreak(1)
	case atom.Li:
		w.lineBreak(1)
		w.word("- ")
	case atom.Tr:
		w.lineBreak(1)
	case atom.Td, atom.Th:
		if w.b.Len() > 0 && w.newlines == 0 {
			w.space = true
		}
	default:
		if block(a) {
			w.lineBreak(2)
		}
	}
}

func (w *writer) close(a atom.Atom) {
	if a == atom.Li || a == atom.Tr {
		w.lineBreak(1)
	} else if block(a) {
		w.lineBreak(2)
	}
}

func block(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Ul, atom.Ol, atom.Table, atom.Pre, atom.Section, atom.Article,
		atom.Header, atom.Footer, atom.Hr, atom.Dl, atom.Dt, atom.Dd:
		return true
	}
	return false
}

func (w *writer) lineBreak(n int) {
	if w.b.Len() == 0 {
		return
	}
	w.space = false
	if n > w.newlines {
		w.newlines = n
	}
}

func (w *writer) text(s string) {
	for len(s) > 0 && !w.full {
		i := strings.IndexFunc(s, unicode.IsSpace)
		if i == 0 {
			if w.b.Len() > 0 && w.newlines == 0 {
				w.space = true
			}
			_, size := utf8.DecodeRuneInString(s)
			s = s[size:]
			continue
		}
		word := s
		if i > 0 {
			word, s = s[:i], s[i:]
		} else {
			s = ""
		}
		w.word(word)
	}
}

// word writes non-space text after any pending separator.
func (w *writer) word(s string) {
	if w.newlines > 0 {
		w.put(strings.Repeat("\n", w.newlines))
		w.newlines = 0
	} else if w.space {
		w.put(" ")
	}
	w.space = false
	w.put(s)
}

func (w *writer) put(s string) {
	for _, r := range s {
		if w.max > 0 && w.n >= w.max {
			w.full = true
			return
		}
		w.b.WriteRune(r)
		w.n++
	}
}

func (w *writer) String() string { return strings.TrimRightFunc(w.b.String(), unicode.IsSpace) }
