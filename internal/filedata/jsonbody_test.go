package filedata

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// scanSmall runs the body scanner with a threshold of a few characters, so
// that small inputs exercise the spooling path.
func scanSmall(t testing.TB, body []byte) ([]byte, Shifts, int, error) {
	return scanReader(t, bytes.NewReader(body))
}

func scanReader(t testing.TB, r io.Reader) ([]byte, Shifts, int, error) {
	sp := NewSpooler(1<<20, t.TempDir())
	defer sp.Close()
	s := &bodyScanner{br: bufio.NewReaderSize(r, 16), sp: sp, threshold: 5}
	err := s.scan()
	return s.out.Bytes(), s.shifts, len(s.shifts), err
}

// FuzzBodyScanner: whatever the body, the scanner does not panic; a body
// without spooled values comes out byte for byte; a valid JSON body comes
// out valid, and an invalid one is never made valid.
func FuzzBodyScanner(f *testing.F) {
	for _, s := range []string{
		`{"fileData":"aGVsbG8gd29ybGQ="}`,
		`{"uploads":[{"fileName":"a","fileData":"aGVs\nbG8="}],"x":[1,{"fileData":"QUJD"}]}`,
		`{"fileData":"https://example.com/a"}`,
		`{"fileData":"aGVsbG8\u0041\/x"} x`,
		`{"file\u0044ata":"aGVsbG8gd29ybGQ=","fileData":5}`,
		`{"fileData":"aGVsbG8` + "\x01" + `"}`,
		`[[[{"fileData":"aGVsbG8gd29ybGQ="`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, _, spooled, err := scanSmall(t, body)
		// However the body is cut into reads, it comes out the same (the
		// idempotency hash of a retry depends on it).
		if out1, _, _, err1 := scanReader(t, iotest.OneByteReader(bytes.NewReader(body))); !bytes.Equal(out, out1) || (err == nil) != (err1 == nil) {
			t.Fatalf("read whole: %q (%v); read byte by byte: %q (%v)", out, err, out1, err1)
		}
		if spooled == 0 && err == nil && !bytes.Equal(out, body) {
			t.Fatalf("nothing spooled but the body changed:\n%q\n%q", body, out)
		}
		if json.Valid(body) {
			if err != nil || !json.Valid(out) {
				t.Fatalf("valid body %q came out as %q (%v)", body, out, err)
			}
		} else if err == nil && json.Valid(out) {
			t.Fatalf("invalid body %q came out valid: %q", body, out)
		}
	})
}

// TestBodyScannerIgnoresChunking: the same body comes out the same
// whether it arrives at once or byte by byte.
func TestBodyScannerIgnoresChunking(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"fileData":"aGVsbG8gd29ybGQ="}`,
		`{"fileData":"aGVs\nbG8gd29y\u0062GQ="}`,
		`{"uploads":[{"fileData":"aGV"}, {"fileData":"data:text/plain;base64,aGVsbG8="}]}`,
		`{"fileData":"https://example.com/x"}`,
	} {
		a, _, na, erra := scanSmall(t, []byte(body))
		b, _, nb, errb := scanReader(t, iotest.OneByteReader(strings.NewReader(body)))
		if !bytes.Equal(a, b) || na != nb || erra != nil || errb != nil {
			t.Errorf("%s: at once %s (%d spooled, %v); byte by byte %s (%d spooled, %v)", body, a, na, erra, b, nb, errb)
		}
	}
}

// TestBodyScannerSpoolsFileDataOnly: only string values of members named
// fileData are spooled, at any depth; keys, other members and short
// values are kept.
func TestBodyScannerSpoolsFileDataOnly(t *testing.T) {
	t.Parallel()
	body := `{"fileData":"aGVsbG8gd29ybGQ=", "note":"aGVsbG8gd29ybGQ=", "uploads":[{"fileData":"QUJDREVG"},"123"],` +
		`"x":{"fileData":"QQ=="},"fileData2":"aGVsbG8gd29ybGQ=","y":["fileData","aGVsbG8gd29ybGQ="]}`
	out, sh, n, err := scanSmall(t, []byte(body))
	if err != nil || n != 2 {
		t.Fatalf("spooled %d values (%v) of %s: %s", n, err, body, out)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	ref := got["fileData"].(string)
	up := got["uploads"].([]any)[0].(map[string]any)["fileData"].(string)
	if !IsRef(ref) || !IsRef(up) || strings.Count(string(out), "deskconn-spooled-file:") != 2 {
		t.Errorf("out = %s", out)
	}
	if got["note"] != "aGVsbG8gd29ybGQ=" || got["fileData2"] != "aGVsbG8gd29ybGQ=" || got["x"].(map[string]any)["fileData"] != "QQ==" {
		t.Errorf("values that are not long fileData strings changed: %s", out)
	}
	// Offsets after the spooled values map back to the body.
	end := int64(len(out))
	if got := sh.BodyOffset(end); got != int64(len(body)) {
		t.Errorf("BodyOffset(end of out) = %d, want %d", got, len(body))
	}
}

// TestSpoolJSONReusesNothingOfAnEarlierBody: bodies read one after the
// other through the pooled read buffers come out as they went in, with
// nothing of a longer earlier body left in a shorter later one.
func TestSpoolJSONReusesNothingOfAnEarlierBody(t *testing.T) {
	sp := NewSpooler(1<<20, t.TempDir())
	defer sp.Close()
	long := `{"payload":{"subject":"` + strings.Repeat("x", 70<<10) + `"}}`
	for _, body := range []string{long, `{"ticketId":"1"}`, long, `{}`, `{"a":[1,2]}`} {
		got, _, err := SpoolJSON(strings.NewReader(body), sp)
		if err != nil {
			t.Fatalf("SpoolJSON(%.40s) = %v", body, err)
		}
		if string(got) != body {
			t.Fatalf("SpoolJSON(%.40s) = %.60s (%d bytes), want the body (%d bytes)", body, got, len(got), len(body))
		}
	}
}

// BenchmarkSpoolJSONSmall: the REST input of a get_ticket call, which every
// action call reads through SpoolJSON.
func BenchmarkSpoolJSONSmall(b *testing.B) {
	sp := NewSpooler(1<<20, b.TempDir())
	defer sp.Close()
	body := []byte(`{"ticketId":"1892000000042001"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := SpoolJSON(bytes.NewReader(body), sp); err != nil {
			b.Fatal(err)
		}
	}
}
