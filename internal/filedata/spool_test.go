package filedata

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"os"
	"strings"
	"testing"
)

// spoolValue spools s through a new writer of sp in chunks of chunk bytes
// and returns its reference, or "" when Begin keeps s inline.
func spoolValue(t *testing.T, sp *Spooler, s string, chunk int) string {
	t.Helper()
	w, err := sp.Begin([]byte(s[:min(len(s), SpoolThreshold)]))
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if w == nil {
		return ""
	}
	for rest := s; len(rest) > 0; {
		n := min(chunk, len(rest))
		if _, err := w.Write([]byte(rest[:n])); err != nil {
			t.Fatalf("Write: %v", err)
		}
		rest = rest[n:]
	}
	ref, err := w.Finish()
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if !IsRef(ref) || len(ref) > 200 {
		t.Fatalf("reference %q is not a short spool reference", ref)
	}
	return ref
}

type opened struct {
	name, contentType, source string
	size                      int64
	data                      []byte
	err                       string
}

func openSpoolCase(t *testing.T, ctx context.Context, s string, max int64) opened {
	t.Helper()
	f, err := Open(ctx, s, "f.bin", Options{MaxBytes: max})
	if err != nil {
		return opened{err: err.Error()}
	}
	defer f.Body.Close()
	b, err := io.ReadAll(f.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return opened{name: f.Name, contentType: f.ContentType, source: f.Source, size: f.Size, data: b}
}

// TestSpoolMatchesOpen checks that a value spooled as it streams opens
// exactly as the same value inline does: same bytes, size and type, or the
// same error (with the same byte offset), whatever the chunking.
func TestSpoolMatchesOpen(t *testing.T) {
	t.Parallel()
	data := make([]byte, 5000)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	std := base64.StdEncoding.EncodeToString(data)
	url := base64.RawURLEncoding.EncodeToString(data)
	wrapped := ""
	for s := std; len(s) > 0; s = s[min(76, len(s)):] {
		wrapped += s[:min(76, len(s))] + "\r\n"
	}
	cases := map[string]string{
		"standard":         std,
		"url-safe raw":     url,
		"wrapped":          "  \n" + wrapped + "\t ",
		"data url":         "data:application/pdf;base64," + std,
		"data url no type": " data:;base64," + std,
		"one byte":         "QQ==",
		"two bytes raw":    "QUI",
		"bad char":         std[:3001] + "*" + std[3002:],
		"non-ascii":        std[:17] + "é" + std[17:],
		"after padding":    "QQ==" + std,
		"three pads":       std[:len(std)-4] + "A===",
		"truncated":        std[:len(std)-4] + "A",
		"wrong padding":    std[:len(std)-4] + "QQ=",
		"too large":        base64.StdEncoding.EncodeToString(append(data, data...)),
		"empty data url":   "data:text/plain;base64,",
		"whitespace only":  "   \n\t  ",
		"padding only":     "==",
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := openSpoolCase(t, context.Background(), s, 8000)
			for _, chunk := range []int{1, 3, 4096, len(s) + 1} {
				sp := NewSpooler(8000, t.TempDir())
				ref := spoolValue(t, sp, s, chunk)
				if ref == "" {
					t.Fatalf("Begin kept %s inline", name)
				}
				got := openSpoolCase(t, WithSpooler(context.Background(), sp), ref, 8000)
				if got.err != want.err || got.size != want.size || got.contentType != want.contentType ||
					got.source != want.source || !bytes.Equal(got.data, want.data) {
					t.Errorf("chunk %d: spooled opens as %+v (%d bytes), inline as %+v (%d bytes)", chunk, got.err, len(got.data), want.err, len(want.data))
				}
				if err := sp.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestSpoolKeepsURLsInline: values that are not base64 stay in the JSON.
func TestSpoolKeepsURLsInline(t *testing.T) {
	t.Parallel()
	sp := NewSpooler(0, t.TempDir())
	defer sp.Close()
	for _, s := range []string{"https://example.com/a.pdf?" + strings.Repeat("x", 100), " HTTP://example.com/", "ftp://example.com/a",
		"data:text/plain,hello", "data:" + strings.Repeat("x", SpoolThreshold)} {
		if ref := spoolValue(t, sp, s, 4096); ref != "" {
			t.Errorf("%.30q was spooled as %s, want it inline", s, ref)
		}
	}
}

// TestSpoolReference: a reference is deterministic for the same decoded
// content and type, differs for another content, resolves only within its
// Spooler, and its file is gone after Close.
func TestSpoolReference(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := NewSpooler(0, dir), NewSpooler(0, dir)
	refA := spoolValue(t, a, "aGVsbG8gd29ybGQ=", 3)
	refB := spoolValue(t, b, "aGVs\nbG8gd29y bGQ", 5) // same bytes, other spelling
	if refA != refB {
		t.Errorf("references differ for the same content: %q, %q", refA, refB)
	}
	if other := spoolValue(t, NewSpooler(0, dir), "aGVsbG8gd29ybGQh", 4); other == refA {
		t.Errorf("another content has the same reference %q", other)
	}
	if typed := spoolValue(t, NewSpooler(0, dir), "data:text/plain;base64,aGVsbG8gd29ybGQ=", 4); typed == refA {
		t.Errorf("a typed data URL has the reference of untyped base64 %q", typed)
	}
	// Without the Spooler in the context, a reference is not base64.
	if _, err := Open(context.Background(), refA, "a.txt", Options{}); err == nil || !strings.Contains(err.Error(), "not valid base64") {
		t.Errorf("Open(reference) without a spooler = %v, want invalid base64", err)
	}
	got := openSpoolCase(t, WithSpooler(context.Background(), b), refA, 0)
	if string(got.data) != "hello world" || got.size != 11 {
		t.Errorf("resolved through the other request's spooler: %+v", got)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(WithSpooler(context.Background(), a), refA, "a.txt", Options{}); err == nil {
		t.Error("a reference opens after its Spooler was closed")
	}
	b.Close()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "deskconn-spool-") {
			names = append(names, e.Name())
		}
	}
	// The two extra spoolers above were never closed: 2 files at most.
	if len(names) > 2 {
		t.Errorf("temporary files left after Close: %v", names)
	}
}
