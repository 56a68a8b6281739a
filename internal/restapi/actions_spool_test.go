package restapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/egress"
	"github.com/deskconn/deskconn/internal/restapi"
)

// patternFile returns n bytes of a pattern that does not repeat with a
// period of 3 (so base64 of it does not repeat either).
func patternFile(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// b64Body streams `{<fields>"fileData":"<base64 of size pattern bytes>"}`
// without holding it: a pipe fed by a goroutine. It returns the body and
// the file's SHA-256.
func b64Body(size int64, fields string) (io.Reader, string) {
	h := sha256.New()
	pr, pw := io.Pipe()
	chunk := patternFile(48 << 10)
	go func() {
		_, err := io.WriteString(pw, "{"+fields+`"fileName":"big.bin","fileData":"`)
		enc := base64.NewEncoder(base64.StdEncoding, pw)
		for left := size; left > 0 && err == nil; {
			n := min(left, int64(len(chunk)))
			_, err = enc.Write(chunk[:n])
			left -= n
		}
		if err == nil {
			err = enc.Close()
		}
		if err == nil {
			_, err = io.WriteString(pw, `"}`)
		}
		pw.CloseWithError(err)
	}()
	for left := size; left > 0; {
		n := min(left, int64(len(chunk)))
		h.Write(chunk[:n])
		left -= n
	}
	return pr, hex.EncodeToString(h.Sum(nil))
}

// TestActionBodyMemoryIsBounded sends a 64 MiB base64 body through the
// REST server to an action that reads the file: the server must decode it
// to a temporary file as it streams in, not hold it (as the body, the
// parsed input and the decoded struct). The bound is on everything the
// process allocates during the call (client included), which also bounds
// the peak heap growth, whatever the garbage collector's timing.
func TestActionBodyMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 64 MiB")
	}
	// Not parallel: the measure is process-wide.
	const fileSize = 48 << 20 // 64 MiB as base64
	const budget = 24 << 20
	spool := t.TempDir()
	e := newActEnv(t, actOpts{maxBody: 80 << 20, maxFile: 64 << 20, spoolDir: spool})
	body, sum := b64Body(fileSize, "")

	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	read := func() (heap, allocs uint64) {
		metrics.Read(samples)
		return samples[0].Value.Uint64(), samples[1].Value.Uint64()
	}
	runtime.GC()
	base, alloc0 := read()
	peak := base
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if h, _ := read(); h > peak {
					peak = h
				}
			}
		}
	}()
	r := e.run(t, "main", "attach", "", nil) // warm up the routes
	_ = r
	r = e.do(t, http.MethodPost, "/v1/connections/main/actions/attach", e.keyA, body, nil)
	close(stop)
	<-done
	h, alloc1 := read()
	peak = max(peak, h)
	if r.status != http.StatusOK {
		t.Fatalf("attach: %d %s", r.status, r.body)
	}
	out := r.json(t)
	if out["size"] != float64(fileSize) || out["sha256"] != sum {
		t.Fatalf("the action read %v bytes with SHA-256 %v, want %d and %s", out["size"], out["sha256"], fileSize, sum)
	}
	allocated := alloc1 - alloc0
	t.Logf("64 MiB body: allocated %.1f MiB, peak heap growth %.1f MiB", float64(allocated)/(1<<20), float64(peak-min(peak, base))/(1<<20))
	if allocated > budget {
		t.Errorf("the call allocated %.1f MiB for a 64 MiB body, want under %d MiB: the body is held in memory", float64(allocated)/(1<<20), budget>>20)
	}
	assertEmptyDir(t, spool)
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("%d spooled files left after the request: %v", len(left), left[0].Name())
	}
}

// TestSpooledFileKeepsBehaviour: a base64 file large enough to be spooled
// behaves as an inline one: the action reads the same bytes, dry run
// reports its size, an idempotency key replays for the same file and
// conflicts for another, bad base64 is invalid on /fileData naming its
// byte offset, and the temporary files are gone after every request.
func TestSpooledFileKeepsBehaviour(t *testing.T) {
	t.Parallel()
	spool := t.TempDir()
	e := newActEnv(t, actOpts{spoolDir: spool})
	data := patternFile(300 << 10)
	b64 := base64.StdEncoding.EncodeToString(data)
	sum := sha256.Sum256(data)
	input := func(fields, fileData string) string {
		return `{` + fields + `"fileName":"big.bin","fileData":"` + fileData + `"}`
	}

	r := e.run(t, "main", "attach", input("", b64), nil)
	if out := r.json(t); r.status != 200 || out["size"] != float64(len(data)) || out["sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("attach: %d %s", r.status, r.body)
	}
	// JSON escapes and MIME line breaks are decoded too.
	escaped := strings.ReplaceAll(b64[:1000], "/", `\/`) + `\r\n` + `\u0041` + b64[1001:]
	if b64[1000] != 'A' {
		escaped = strings.ReplaceAll(b64[:1000], "/", `\/`) + `\r\n` + b64[1000:]
	}
	r = e.run(t, "main", "attach", input("", escaped), nil)
	if out := r.json(t); r.status != 200 || out["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("escaped base64: %d %s", r.status, r.body)
	}

	r = e.run(t, "main", "attach", input(`"dryRun":true,`, b64), nil)
	if r.status != 200 || !strings.Contains(string(r.body), fmt.Sprintf(`"size":%d`, len(data))) || strings.Contains(string(r.body), "deskconn-spooled") {
		t.Errorf("dry run: %d %s", r.status, r.body)
	}

	key := map[string]string{restapi.IdempotencyKeyHeader: "spool-1"}
	first := e.run(t, "main", "attach", input("", b64), key)
	again := e.run(t, "main", "attach", input("", " "+b64[:100]+"\\n"+b64[100:]), key) // same file, other spelling
	if first.status != 200 || again.status != 200 || string(first.body) != string(again.body) {
		t.Errorf("replay: %d %s / %d %s", first.status, first.body, again.status, again.body)
	}
	other := base64.StdEncoding.EncodeToString(append(data[:len(data)-1:len(data)-1], 'x'))
	if r := e.run(t, "main", "attach", input("", other), key); r.status != http.StatusConflict {
		t.Errorf("same key, other file: %d %s, want 409", r.status, r.body)
	}

	bad := b64[:200000] + "*" + b64[200001:]
	r = e.run(t, "main", "attach", input("", bad), nil)
	p := r.problem(t)
	if r.status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Pointer != "/fileData" ||
		!strings.Contains(p.Errors[0].Message, "unexpected character '*' at byte offset 200000") {
		t.Errorf("bad base64: %d %+v", r.status, p)
	}

	// Over the file cap (20 MiB by default): the exact size is named.
	big := int64(egress.DefaultMaxBytes + 3)
	body, _ := b64Body(big, "")
	r = e.do(t, http.MethodPost, "/v1/connections/main/actions/attach", e.keyA, body, nil)
	if p := r.problem(t); r.status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Pointer != "/fileData" ||
		!strings.Contains(p.Errors[0].Message, fmt.Sprintf("fileData is %d bytes, over the %d-byte limit", big, egress.DefaultMaxBytes)) {
		t.Errorf("file over the cap: %d %+v", r.status, p)
	}
	assertEmptyDir(t, spool)
}

// TestSpooledBodySyntaxErrors: a body with a large base64 value is still
// refused as malformed JSON with the offset in the body as sent.
func TestSpooledBodySyntaxErrors(t *testing.T) {
	t.Parallel()
	spool := t.TempDir()
	e := newActEnv(t, actOpts{spoolDir: spool})
	b64 := base64.StdEncoding.EncodeToString(patternFile(120 << 10))
	// The offset of an error after the value is what it is for a short
	// value, moved by the length difference.
	offsetOf := func(body string) int {
		r := e.run(t, "main", "attach", body, nil)
		var off int
		if i := strings.LastIndex(string(r.body), "at byte "); i < 0 || r.status != http.StatusBadRequest {
			t.Fatalf("short body %s: %d %s", body, r.status, r.body)
		} else if _, err := fmt.Sscanf(string(r.body[i:]), "at byte %d", &off); err != nil {
			t.Fatal(err)
		}
		return off
	}
	short := `{"fileName":"a.bin","fileData":"QQ=="`
	prefix := `{"fileName":"a.bin","fileData":"` + b64 + `"`
	shift := len(prefix) - len(short)
	cases := []struct {
		name, body, want string
	}{
		{"after the value", prefix + `,"x":tru}`, fmt.Sprintf("at byte %d", offsetOf(short+`,"x":tru}`)+shift)},
		{"data after the object", prefix + `} {}`, fmt.Sprintf("at byte %d", offsetOf(short+`} {}`)+shift)},
		{"control character in the value", `{"fileData":"` + b64 + "\n" + b64 + `"}`, "invalid character '\\n' in string literal"},
		{"bad escape in the value", `{"fileData":"` + b64 + `\x"}`, "invalid character 'x' in string escape code"},
		{"cut off in the value", `{"fileData":"` + b64, "ends in the middle of a value"},
	}
	for _, c := range cases {
		r := e.run(t, "main", "attach", c.body, nil)
		if p := r.problem(t); r.status != http.StatusBadRequest || p.Code != deskconn.CodeInvalid || !strings.Contains(p.Detail, c.want) {
			t.Errorf("%s: %d %q, want 400 mentioning %q", c.name, r.status, p.Detail, c.want)
		}
	}
	assertEmptyDir(t, spool)
}

// TestDefaultBodyCapIsTight: the default cap is what the largest valid
// input needs, no more: a 20 MiB file in MIME-wrapped base64 plus 1 MiB.
func TestDefaultBodyCapIsTight(t *testing.T) {
	t.Parallel()
	wrapped := (egress.DefaultMaxBytes + 2) / 3 * 4 * 78 / 76
	if restapi.DefaultMaxActionBodyBytes < wrapped+512<<10 || restapi.DefaultMaxActionBodyBytes > wrapped+2<<20 {
		t.Errorf("DefaultMaxActionBodyBytes = %d, want between %d and %d", restapi.DefaultMaxActionBodyBytes, wrapped+512<<10, wrapped+2<<20)
	}
}
