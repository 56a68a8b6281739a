package filedata

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/deskconn/deskconn"
)

// SpoolJSON reads a JSON document (an action input) from r and returns it as JSON, copied
// byte for byte except for the string value of every member named
// "fileData" (at any depth: create_ticket_attachment's and create_ticket's
// uploads) that is at least SpoolThreshold characters long and is
// base64: such a value is decoded, as it streams in, into a temporary file
// of sp, and replaced by its short reference. So a large base64 file costs
// a few buffers, never its size in memory.
//
// SpoolJSON checks only what it needs to follow the document (strings,
// keys, nesting); the caller validates the returned JSON as before, and
// translates offsets in the returned JSON to offsets in the body with the
// returned Shifts. A malformed diverted string is a *SyntaxError.
func SpoolJSON(r io.Reader, sp *Spooler) ([]byte, Shifts, error) {
	br := bodyReaders.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil) // holds nothing of r's
		bodyReaders.Put(br)
	}()
	s := &bodyScanner{br: br, sp: sp, threshold: SpoolThreshold}
	err := s.scan()
	return s.out.Bytes(), s.shifts, err
}

// bodyReaders keeps SpoolJSON's 64 KiB read buffers between bodies: every
// REST action call reads its input through one, and most inputs are a few
// dozen bytes, for which a new buffer each time was most of the call's
// allocation. Nothing returned by SpoolJSON refers to the buffer.
var bodyReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// SyntaxError is a syntax error found while scanning, worded as
// encoding/json words it, at Offset bytes into the body.
type SyntaxError struct {
	msg    string
	Offset int64
}

func (e *SyntaxError) Error() string { return e.msg }

// Shift records that a value ending before out offset At was replaced by
// one Delta bytes shorter.
type Shift struct{ At, Delta int64 }

// Shifts maps offsets of the returned JSON back to the body.
type Shifts []Shift

// BodyOffset returns the body offset of offset off of the returned JSON.
func (ss Shifts) BodyOffset(off int64) int64 {
	d := int64(0)
	for _, s := range ss {
		if s.At <= off {
			d += s.Delta
		}
	}
	return off + d
}

type bodyScanner struct {
	br     *bufio.Reader
	sp     *Spooler
	out    bytes.Buffer
	in     int64 // bytes consumed from the body
	shifts Shifts

	stack     []byte // '{' or '[' of the open containers
	expectKey bool   // the next string is an object key
	valuePos  bool   // after ':': the next value is a member's
	fileData  bool   // the last key was "fileData"
	passthru  bool   // something unexpected: copy the rest as it is
	threshold int    // SpoolThreshold (smaller in tests)
}

const maxScanDepth = 1000

func (s *bodyScanner) scan() error {
	for {
		if s.passthru {
			_, err := s.out.ReadFrom(s.br)
			return err
		}
		c, err := s.br.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		s.in++
		switch c {
		case '"':
			switch {
			case s.expectKey:
				err = s.key()
				s.expectKey, s.valuePos = false, false
			case s.valuePos && s.fileData:
				err = s.candidate()
				s.valuePos = false
			default:
				s.out.WriteByte(c)
				err = s.copyString()
				s.valuePos = false
			}
			if err != nil {
				return err
			}
			continue
		case '{', '[':
			if len(s.stack) >= maxScanDepth {
				s.passthru = true // the validator refuses such nesting anyway
			}
			s.stack = append(s.stack, c)
			s.expectKey, s.valuePos = c == '{', false
		case '}', ']':
			if len(s.stack) > 0 {
				s.stack = s.stack[:len(s.stack)-1]
			}
			s.expectKey, s.valuePos = false, false
		case ',':
			s.expectKey = len(s.stack) > 0 && s.stack[len(s.stack)-1] == '{'
			s.valuePos = false
		case ':':
			s.valuePos = true
		case ' ', '\t', '\n', '\r':
		default:
			s.expectKey, s.valuePos = false, false
		}
		s.out.WriteByte(c)
	}
}

// chunk returns the buffered bytes (at least one, reading if needed).
func (s *bodyScanner) chunk() ([]byte, error) {
	if s.br.Buffered() == 0 {
		if _, err := s.br.Peek(1); err != nil {
			if err == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return s.br.Peek(s.br.Buffered())
}

func (s *bodyScanner) discard(n int) {
	_, _ = s.br.Discard(n) // n bytes are buffered
	s.in += int64(n)
}

// copyString copies the rest of a string (after its opening quote) to out.
func (s *bodyScanner) copyString() error {
	escaped := false
	for {
		b, err := s.chunk()
		if err != nil {
			return err
		}
		end := -1
		for i, c := range b {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				end = i + 1
			}
			if end >= 0 {
				break
			}
		}
		n := len(b)
		if end >= 0 {
			n = end
		}
		s.out.Write(b[:n])
		s.discard(n)
		if end >= 0 {
			return nil
		}
	}
}

// key copies an object key and notes whether it is "fileData".
func (s *bodyScanner) key() error {
	start := s.out.Len()
	s.out.WriteByte('"')
	if err := s.copyString(); err != nil {
		return err
	}
	raw := s.out.Bytes()[start:]
	s.fileData = false
	if len(raw) <= 64 {
		var k string
		s.fileData = json.Unmarshal(raw, &k) == nil && k == "fileData"
	}
	return nil
}

// candidate handles a fileData string value (after its opening quote): it
// is unescaped as it streams; once SpoolThreshold characters are in, the
// Spooler decides from them whether to spool it. A shorter value, one the
// Spooler keeps inline, and one with a syntax error before the decision
// are copied as they are.
func (s *bodyScanner) candidate() error {
	start := s.in - 1 // the opening quote
	var (
		u    unescaper
		raw  = []byte{'"'} // the value's bytes until it is spooled or kept inline
		head []byte        // its unescaped characters
		w    *SpoolWriter
		tmp  []byte
		n    int
		done bool
		serr error
	)
	inline := func() {
		s.out.Write(raw)
		raw, head = nil, nil
	}
	for {
		b, err := s.chunk()
		if err != nil {
			if w != nil {
				w.Abort()
			}
			return err
		}
		tmp, n, done, serr = u.feed(tmp[:0], b, s.in)
		if serr != nil && w == nil && raw != nil && len(head)+len(tmp) >= s.threshold {
			// The error comes after the characters that decide: decide as
			// a read that stopped there would have, so that how the body
			// was cut into reads never changes the outcome.
			h := append(head, tmp...)
			probe, err := s.sp.Begin(h[:s.threshold])
			if err != nil {
				return err
			}
			if probe != nil {
				probe.Abort()
				return serr
			}
		}
		if serr != nil && w == nil {
			// Let the JSON validator find and word the first error.
			inline()
			s.passthru = true
			return nil
		}
		if serr != nil {
			if w != nil {
				w.Abort()
			}
			return serr
		}
		switch {
		case w != nil:
			if _, err := w.Write(tmp); err != nil {
				w.Abort()
				return err
			}
		case raw != nil:
			raw = append(raw, b[:n]...)
			head = append(head, tmp...)
			// The decision depends on the value alone, never on how the
			// body was cut into reads: the same input must always come
			// out the same, for its idempotency hash.
			if len(head) >= s.threshold {
				if w, err = s.sp.Begin(head[:s.threshold]); err != nil {
					return err
				}
				if w == nil {
					inline() // not base64: copy the rest too
				} else {
					if _, err := w.Write(head); err != nil {
						w.Abort()
						return err
					}
					raw, head = nil, nil
				}
			}
		default:
			s.out.Write(b[:n])
		}
		s.discard(n)
		if !done {
			continue
		}
		if w == nil {
			if raw != nil {
				inline()
			}
			return nil
		}
		ref, err := w.Finish()
		if err != nil {
			return err
		}
		q := strconv.Quote(ref) // a reference is plain ASCII
		s.out.WriteString(q)
		s.shifts = append(s.shifts, Shift{At: int64(s.out.Len()), Delta: (s.in - start) - int64(len(q))})
		return nil
	}
}

// unescaper decodes a JSON string's content as it streams, checking it as
// encoding/json does.
type unescaper struct {
	state  int // 0 plain, 1 after '\\', 2-5 reading \u digits
	r      rune
	pendHi rune // a high surrogate waiting for its low half
}

// feed decodes b (whose first byte is at body offset off) into dst until the
// closing quote; n is the number of bytes of b consumed (the quote
// included when done).
func (u *unescaper) feed(dst, b []byte, off int64) (out []byte, n int, done bool, err error) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch u.state {
		case 0:
			switch {
			case c == '"':
				dst = u.flushHi(dst)
				return dst, i + 1, true, nil
			case c == '\\':
				u.state = 1
			case c < 0x20:
				return dst, i, false, &SyntaxError{"invalid character " + quoteChar(c) + " in string literal", off + int64(i) + 1}
			default:
				dst = u.flushHi(dst)
				// Copy the run of plain bytes at once.
				j := i + 1
				for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
					j++
				}
				dst = append(dst, b[i:j]...)
				i = j - 1
			}
		case 1:
			u.state = 0
			var e byte
			switch c {
			case '"', '\\', '/':
				e = c
			case 'b':
				e = '\b'
			case 'f':
				e = '\f'
			case 'n':
				e = '\n'
			case 'r':
				e = '\r'
			case 't':
				e = '\t'
			case 'u':
				u.state, u.r = 2, 0
				continue
			default:
				return dst, i, false, &SyntaxError{"invalid character " + quoteChar(c) + " in string escape code", off + int64(i) + 1}
			}
			dst = append(u.flushHi(dst), e)
		default:
			var d rune
			switch {
			case c >= '0' && c <= '9':
				d = rune(c - '0')
			case c >= 'a' && c <= 'f':
				d = rune(c-'a') + 10
			case c >= 'A' && c <= 'F':
				d = rune(c-'A') + 10
			default:
				return dst, i, false, &SyntaxError{"invalid character " + quoteChar(c) + " in \\u hexadecimal character escape", off + int64(i) + 1}
			}
			u.r = u.r<<4 | d
			if u.state++; u.state < 6 {
				continue
			}
			u.state = 0
			r := u.r
			switch {
			case u.pendHi != 0 && utf16.IsSurrogate(r) && r >= 0xDC00:
				r = utf16.DecodeRune(u.pendHi, r)
				u.pendHi = 0
			case r >= 0xD800 && r < 0xDC00:
				dst = u.flushHi(dst)
				u.pendHi = r
				continue
			default:
				dst = u.flushHi(dst)
			}
			dst = utf8.AppendRune(dst, r) // a lone low surrogate becomes U+FFFD, as in encoding/json
		}
	}
	return dst, len(b), false, nil
}

// flushHi writes a high surrogate that no low half followed, as U+FFFD.
func (u *unescaper) flushHi(dst []byte) []byte {
	if u.pendHi == 0 {
		return dst
	}
	u.pendHi = 0
	return utf8.AppendRune(dst, utf8.RuneError)
}

// quoteChar formats c as encoding/json's syntax errors do.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	q := strconv.Quote(string(c))
	return "'" + q[1:len(q)-1] + "'"
}

// SpoolFileData reads an action input from r as the REST API reads an
// action body (without its cap, which the caller applies to r): every
// base64 fileData value of SpoolThreshold characters or more is
// decoded into a temporary file of sp as it streams in and replaced by its
// reference, which Open resolves through
// WithSpooler(ctx, sp). The rest of the input is returned as it
// came; the registry validates it. A malformed spooled value is an invalid
// error naming its byte offset; read errors are returned as they are.
func SpoolFileData(r io.Reader, sp *Spooler) (json.RawMessage, error) {
	out, _, err := SpoolJSON(r, sp)
	var jse *SyntaxError
	switch {
	case errors.As(err, &jse):
		return nil, deskconn.Errorf(deskconn.CodeInvalid, "the input is not valid JSON (%s, at byte %d); send one JSON object", jse.Error(), jse.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, deskconn.Errorf(deskconn.CodeInvalid, "the input is not valid JSON: it ends in the middle of a value; send one JSON object")
	case err != nil:
		return nil, err
	}
	return out, nil
}
