package filedata

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
)

var encodings = []*base64.Encoding{
	base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
}

// openAll opens fileData with no fetcher and reads it whole. A successful
// Open must stream without error and deliver exactly Size bytes.
func openAll(t *testing.T, fileData string) ([]byte, error) {
	t.Helper()
	f, err := Open(t.Context(), fileData, "f.bin", Options{MaxBytes: 1 << 20})
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Open(%q) error %v is not an *Error", fileData, err)
		}
		if e.Offset > int64(len(fileData)) {
			t.Fatalf("Open(%q): offset %d past the end", fileData, e.Offset)
		}
		return nil, err
	}
	defer f.Body.Close()
	got, err := io.ReadAll(f.Body)
	if err != nil {
		t.Fatalf("Open(%q) validated but streaming failed: %v", fileData, err)
	}
	if int64(len(got)) != f.Size {
		t.Fatalf("Open(%q): Size %d but %d bytes streamed", fileData, f.Size, len(got))
	}
	return got, nil
}

// FuzzBase64: any bytes, encoded in any of the four alphabets/padding
// styles, optionally line-wrapped and data:-prefixed, round-trip exactly.
func FuzzBase64(f *testing.F) {
	f.Add([]byte("hello, world"), uint8(0), uint8(0), false)
	f.Add([]byte{0xfb, 0xff, 0xbf, 0xfe}, uint8(3), uint8(4), true)
	f.Add([]byte("a"), uint8(1), uint8(1), false)
	f.Add([]byte("\x89PNG\r\n\x1a\n"), uint8(2), uint8(76), true)
	f.Fuzz(func(t *testing.T, data []byte, enc, wrap uint8, prefix bool) {
		s := encodings[int(enc)%len(encodings)].EncodeToString(data)
		if wrap > 0 {
			s = wrapLines(s, int(wrap))
		}
		if prefix {
			s = "data:application/x-test;base64," + s
		}
		got, err := openAll(t, s)
		if len(data) == 0 {
			if !errors.Is(err, ErrEmpty) {
				t.Fatalf("empty data: %v; want ErrEmpty", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Open(%q): %v", s, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("round trip of %q: got %q", data, got)
		}
	})
}

// FuzzDataURL: arbitrary fileData never panics; errors are *Error; what
// encoding/base64 decodes (in any alphabet), Open decodes identically, with
// or without a data: prefix.
func FuzzDataURL(f *testing.F) {
	for _, s := range []string{
		"data:text/plain;base64,aGVsbG8=", "data:;base64,QQ", "data:text/plain,hi", "data:,",
		"QUJD", "QQ==", "QQ=", "QQ==QQ==", "Q", "-_-_", "QU\nJD\r\n", "data:a/b;c=d;BASE64,+/+/",
		"JVBERi0xLjQKJeLjz9MKMyAwIG9...", "https://files.example/x", "ftp://x", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := openAll(t, s)
		for _, enc := range encodings {
			want, derr := enc.DecodeString(s)
			if derr != nil || len(want) == 0 {
				continue
			}
			if err != nil {
				t.Fatalf("encoding/base64 decodes %q but Open fails: %v", s, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Open(%q) = %q; encoding/base64 gives %q", s, got, want)
			}
			prefixed, err := openAll(t, "data:text/plain;base64,"+s)
			if err != nil || !bytes.Equal(prefixed, want) {
				t.Fatalf("data URL of %q = %q, %v; want %q", s, prefixed, err, want)
			}
		}
		if err == nil && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "data:") {
			// Anything Open accepts is base64 that encoding/base64 accepts
			// once whitespace is removed and the alphabet made standard.
			clean := strings.Map(func(r rune) rune {
				switch {
				case strings.ContainsRune(whitespace, r):
					return -1
				case r == '-':
					return '+'
				case r == '_':
					return '/'
				}
				return r
			}, s)
			want, derr := base64.RawStdEncoding.DecodeString(strings.TrimRight(clean, "="))
			if derr != nil || !bytes.Equal(got, want) {
				t.Fatalf("Open(%q) = %q but encoding/base64 gives %q, %v", s, got, want, derr)
			}
		}
	})
}
