package htmlpage_test

import (
	"bytes"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/htmlpage"
)

var pages = template.Must(template.New("").Parse(`{{define "ok.html"}}<p>{{.}}</p>{{end}}{{define "bad.html"}}{{.Missing}}{{end}}`))

func TestWrite(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	rec := httptest.NewRecorder()
	htmlpage.Write(rec, log, pages, http.StatusTeapot, "ok.html", "<script>")
	if rec.Code != http.StatusTeapot || rec.Body.String() != "<p>&lt;script&gt;</p>" {
		t.Errorf("page = %d %q", rec.Code, rec.Body.String())
	}
	for k, want := range map[string]string{
		"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
		"Content-Security-Policy": htmlpage.ContentSecurityPolicy, "X-Frame-Options": "DENY",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	// A template that fails sends no half page.
	rec = httptest.NewRecorder()
	htmlpage.Write(rec, log, pages, http.StatusOK, "bad.html", "a string has no field Missing")
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "<p>") || !strings.Contains(logs.String(), "bad.html") {
		t.Errorf("failed page = %d %q, log %q", rec.Code, rec.Body.String(), logs.String())
	}
}
