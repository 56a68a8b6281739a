// Package htmlpage writes deskconn's server-rendered pages (the web console
// and the MCP sign-in consent page) with the headers every one of them
// carries.
package htmlpage

import (
	"bytes"
	"html/template"
	"log/slog"
	"net/http"
)

// ContentSecurityPolicy is the policy of every page: nothing but the
// server's own stylesheets and images, no scripts, never framed. It has no
// form-action: the consent form's answer redirects to the MCP client.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"

// Write renders the template name of t with data, whole, before anything
// is sent, and writes it with status: not cached, under
// ContentSecurityPolicy, never framed. A template that fails is logged on
// log and answered with a plain 500 instead of half a page.
func Write(w http.ResponseWriter, log *slog.Logger, t *template.Template, status int, name string, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
