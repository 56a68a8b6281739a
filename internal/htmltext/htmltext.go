// Package htmltext turns the HTML of an e-mail or a Desk comment into plain
// text for an AI agent to read: block elements become line breaks, links
// keep their URL, and quoted history and signatures that the sender's mail
// program marked as such are dropped.
//
// The conversion is bounded: at most MaxInputBytes of HTML are read, at
// most MaxDepth levels of nesting are followed (deeper content is kept as
// text but no longer structured), and the output stops at the requested
// number of characters. It never panics on any input.
package htmltext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// MaxInputBytes is the most HTML FromHTML reads; the rest is ignored and
// the result is reported as cut.
const MaxInputBytes = 4 << 20

// MaxDepth is the deepest element nesting whose structure is followed.
const MaxDepth = 256

// FromHTML returns the plain text of the HTML fragment s, at most maxChars
// characters (runes) long; maxChars <= 0 means no limit other than the
// input cap. cut is true exactly when text was shortened because of
// maxChars or MaxInputBytes (trimming quoted history or a signature is not
// a cut: that content is not the message).
//
// Rules: <br>, <p>, <div>, <li>, <tr>, headings and other block elements
// start new lines; a link whose text differs from its URL is written
// "text (URL)"; <img> is written as its alt text; <script>, <style>,
// <head> and their content are dropped; <blockquote>, Gmail's
// "gmail_quote", Zoho Mail's "zmail_extra" and similar quoted-history
// markers, and signature blocks ("gmail_signature", "zmail_signature",
// Zoho Desk's "signature" divs, and the "-- " signature delimiter line)
// are trimmed. Runs of blank lines collapse to one; spaces collapse as a
// browser would.
func FromHTML(s string, maxChars int) (text string, cut bool) {
	inputCut := false
	if len(s) > MaxInputBytes {
		s = s[:MaxInputBytes]
		inputCut = true
	}
	w := &writer{}
	z := html.NewTokenizer(strings.NewReader(s))
	z.SetMaxBuf(0)
	w.walk(z)
	out := trimSignatureDelimiter(w.String())
	out, capped := capRunes(out, maxChars)
	return out, capped || inputCut
}

// writer accumulates text with browser-like whitespace handling.
type writer struct {
	b strings.Builder
	// pendingSpace: a space is due before the next word.
	pendingSpace bool
	// newlines already at the end of b (0, 1 or 2).
	trailingNL int
}

func (w *writer) String() string { return strings.TrimSpace(w.b.String()) }

// text writes character data, collapsing whitespace (pre keeps it).
func (w *writer) text(s string, pre bool) {
	if pre {
		if s != "" {
			w.flushSpace()
			w.b.WriteString(s)
			w.trailingNL = 0
			if strings.HasSuffix(s, "\n") {
				w.trailingNL = 1
			}
		}
		return
	}
	start := -1
	for i, r := range s {
		if unicode.IsSpace(r) {
			if start >= 0 {
				w.word(s[start:i])
				start = -1
			}
			w.pendingSpace = true
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		w.word(s[start:])
	}
}

// word writes one run of non-space characters.
func (w *writer) word(s string) {
	w.flushSpace()
	w.b.WriteString(s)
	w.trailingNL = 0
}

func (w *writer) flushSpace() {
	if w.pendingSpace && w.b.Len() > 0 && w.trailingNL == 0 {
		w.b.WriteByte(' ')
	}
	w.pendingSpace = false
}

// newline ends the current line; n=2 leaves a blank line (paragraphs).
func (w *writer) newline(n int) {
	w.pendingSpace = false
	if w.b.Len() == 0 {
		return
	}
	for w.trailingNL < n {
		w.b.WriteByte('\n')
		w.trailingNL++
	}
}

// blockBreaks says how many line breaks an element puts around itself.
func blockBreaks(a atom.Atom) int {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Table, atom.Ul, atom.Ol, atom.Pre, atom.Hr:
		return 2
	case atom.Div, atom.Li, atom.Tr, atom.Dd, atom.Dt, atom.Dl, atom.Section, atom.Article, atom.Header,
		atom.Footer, atom.Address, atom.Aside, atom.Nav, atom.Figure, atom.Figcaption, atom.Form, atom.Fieldset, atom.Center:
		return 1
	}
	return 0
}

// skipped reports elements whose whole content is dropped.
func skipped(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Head, atom.Title, atom.Template, atom.Noscript, atom.Iframe, atom.Object, atom.Svg, atom.Math:
		return true
	}
	return false
}

// quoteOrSignature reports whether an element is marked as quoted history
// or a signature by a common mail program.
func quoteOrSignature(a atom.Atom, attrs []html.Attribute) bool {
	if a == atom.Blockquote {
		return true
	}
	for _, at := range attrs {
		switch at.Key {
		case "class", "id":
			v := strings.ToLower(at.Val)
			for _, marker := range []string{"gmail_quote", "gmail_signature", "zmail_extra", "zmail_signature",
				"yahoo_quoted", "moz-cite-prefix", "moz-signature", "divrplyfwdmsg", "appendonsend", "signature"} {
				if strings.Contains(v, marker) {
					return true
				}
			}
		case "data-marker":
			if at.Val == "__QUOTED_TEXT__" || at.Val == "__SIG_PRE__" {
				return true
			}
		}
	}
	return false
}

// voidElement reports elements that never have an end tag.
func voidElement(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input, atom.Link, atom.Meta, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}

type frame struct {
	a    atom.Atom
	name string
	// skip: this element's content is not written.
	skip bool
	// href of an open link and the text length when it opened.
	href      string
	textStart int
}

// walk streams tokens and writes text. It keeps a stack of open elements
// bounded by MaxDepth; elements beyond it are not tracked (their text is
// still written unless an ancestor is skipped).
func (w *writer) walk(z *html.Tokenizer) {
	var stack []frame
	skipDepth := 0 // number of open skipping frames
	preDepth := 0
	overflow := 0 // open elements beyond MaxDepth
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if skipDepth == 0 {
				w.text(html.UnescapeString(string(z.Text())), preDepth > 0)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			var attrs []html.Attribute
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				attrs = append(attrs, html.Attribute{Key: string(k), Val: string(v)})
			}
			if skipDepth == 0 {
				w.open(a, attrs)
			}
			if tt == html.SelfClosingTagToken || voidElement(a) {
				continue
			}
			if len(stack) >= MaxDepth {
				overflow++
				continue
			}
			f := frame{a: a, name: string(name), skip: skipped(a) || quoteOrSignature(a, attrs)}
			if a == atom.A {
				f.href = attrVal(attrs, "href")
				f.textStart = w.b.Len()
			}
			if f.skip {
				skipDepth++
			}
			if a == atom.Pre || a == atom.Textarea {
				preDepth++
			}
			stack = append(stack, f)
		case html.EndTagToken:
			name, _ := z.TagName()
			if overflow > 0 {
				overflow--
				continue
			}
			// Close up to the matching open element; an end tag with no
			// matching start is ignored, as browsers do.
			i := len(stack) - 1
			for i >= 0 && stack[i].name != string(name) {
				i--
			}
			if i < 0 {
				continue
			}
			for len(stack) > i {
				f := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if f.skip {
					skipDepth--
				}
				if f.a == atom.Pre || f.a == atom.Textarea {
					preDepth--
				}
				if skipDepth == 0 && !f.skip {
					w.close(f)
				}
			}
		}
	}
}

func attrVal(attrs []html.Attribute, key string) string {
	for _, a := range attrs {
		if a.Key == key {
			return strings.TrimSpace(a.Val)
		}
	}
	return ""
}

// open writes what an element contributes at its start.
func (w *writer) open(a atom.Atom, attrs []html.Attribute) {
	switch a {
	case atom.Br:
		w.pendingSpace = false
		w.b.WriteByte('\n')
		w.trailingNL++
		if w.trailingNL > 2 {
			w.trailingNL = 2
		}
		return
	case atom.Img:
		if alt := attrVal(attrs, "alt"); alt != "" {
			w.text(alt, false)
		}
		return
	case atom.Li:
		w.newline(1)
		w.text("- ", true)
		return
	case atom.Td, atom.Th:
		w.pendingSpace = true
		return
	}
	if n := blockBreaks(a); n > 0 {
		w.newline(n)
	}
}

// close writes what an element contributes at its end.
func (w *writer) close(f frame) {
	if f.a == atom.A {
		if href := f.href; href != "" && !strings.HasPrefix(strings.ToLower(href), "javascript:") && !strings.HasPrefix(href, "#") {
			linkText := ""
			if f.textStart <= w.b.Len() {
				linkText = strings.TrimSpace(w.b.String()[f.textStart:])
			}
			plainHref := strings.TrimPrefix(href, "mailto:")
			if linkText != href && linkText != plainHref {
				if linkText == "" {
					w.text(href, false)
				} else {
					w.pendingSpace = true
					w.text("("+href+")", false)
				}
			}
		}
		return
	}
	if n := blockBreaks(f.a); n > 0 {
		w.newline(n)
	}
}

// trimSignatureDelimiter drops everything from a "-- " line (the standard
// signature delimiter, RFC 3676 §4.3) to the end.
func trimSignatureDelimiter(s string) string {
	if strings.HasPrefix(s, "-- \n") || s == "--" {
		return ""
	}
	for _, d := range []string{"\n-- \n", "\n--\n"} {
		if i := strings.LastIndex(s, d); i >= 0 {
			return strings.TrimSpace(s[:i])
		}
	}
	if strings.HasSuffix(s, "\n--") {
		return strings.TrimSpace(s[:len(s)-3])
	}
	return s
}

// capRunes cuts s to at most n runes (n <= 0: no cap).
func capRunes(s string, n int) (string, bool) {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s, false
	}
	i := 0
	for j := range s {
		if i == n {
			return strings.TrimRightFunc(s[:j], unicode.IsSpace), true
		}
		i++
	}
	return s, false
}
