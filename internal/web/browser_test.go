package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/store"
)

// TestBrowserConnectFlow drives real headless Chromium: a person opens the
// login link, fills the connect form, clicks Connect, accepts on the
// emulator's consent page and lands on a page showing the connected org.
func TestBrowserConnectFlow(t *testing.T) {
	tab := newChromiumTab(t, 90*time.Second)
	// The person consents on the emulator's consent page.
	d, err := demo.Start(t.Context(), demo.Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", ConsentPage: true, Emulator: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)

	shot, steps := tab.shot, tab.steps
	text := func(id string) string { return tab.text("#" + id) }
	steps("open the login link",
		chromedp.Navigate(d.LoginURL),
		chromedp.WaitVisible(chromedp.ID("add-form")),
		shot("1-connect-page"))
	steps("fill the connect form",
		chromedp.SendKeys(chromedp.ID("name"), "browser"),
		chromedp.SendKeys(chromedp.ID("client_id"), emulator.DemoClientID),
		chromedp.SendKeys(chromedp.ID("client_secret"), emulator.DemoClientSecret),
		shot("2-form-filled"),
		chromedp.Click(chromedp.ID("add")),
		chromedp.WaitVisible(chromedp.ID("connect-browser")),
		shot("3-connection-added"))
	steps("click Connect",
		chromedp.Click(chromedp.ID("connect-browser")),
		chromedp.WaitVisible(chromedp.ID("approve")),
		shot("4-zoho-consent"))
	consentUser := text("user-email")
	steps("accept on the consent page",
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("connected-org")),
		shot("5-connected"))
	org, status := text("connected-org"), text("status-browser")
	if consentUser != emulator.SingleOrgUser {
		t.Errorf("consent page user = %q", consentUser)
	}
	if strings.TrimSpace(org) != "Zylker" || strings.TrimSpace(status) != "active" {
		t.Fatalf("connected page shows org %q status %q", org, status)
	}
	c, err := d.Manager.Get(t.Context(), d.TenantID, "browser")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != store.StatusActive || c.OrgID != emulator.DemoOrgID {
		t.Fatalf("stored connection: %s %s", c.Status, c.OrgID)
	}
	t.Logf("screenshots in %s", tab.artifacts)
}
