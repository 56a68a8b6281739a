package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/deskconn/deskconn/internal/demo/demotest"
	"github.com/deskconn/deskconn/internal/store"
)

// The connect page and the connections API show where a connection's
// events come from and why.
func TestConnectionShowsEventSource(t *testing.T) {
	t.Parallel()
	d, _ := demotest.Start(t)
	c, err := d.Manager.Get(t.Context(), d.TenantID, d.Connection)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Store.PutEventSource(t.Context(), &store.EventSource{ConnectionID: c.ID, TenantID: c.TenantID, Mode: store.SourcePolling,
		LastError: "webhooks need an https base URL"}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get(d.LoginURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `id="events-demo">polling`) || !strings.Contains(string(body), "webhooks need an https base URL") {
		t.Errorf("the connect page does not show the event source:\n%s", body)
	}
	res, got := demotest.Do(t, http.MethodGet, d.URL+"/v1/connections/demo", d.APIKey.Reveal(), "")
	ev, _ := got["events"].(map[string]any)
	if res.StatusCode != http.StatusOK || ev["mode"] != "polling" || ev["lastError"] != "webhooks need an https base URL" {
		t.Errorf("GET connection = %d %v, want its event source", res.StatusCode, got)
	}
}
