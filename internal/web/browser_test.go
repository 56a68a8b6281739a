package web_test

import (
	"context"
	"os"
	"path/filepath"
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
	chromium := os.Getenv("DESKCONN_TEST_CHROMIUM")
	if chromium == "" {
		t.Skip("DESKCONN_TEST_CHROMIUM is unset (path to a chromium binary)")
	}
	artifacts := os.Getenv("DESKCONN_TEST_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else {
		artifacts = filepath.Join(artifacts, t.Name())
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	// The person consents on the emulator's consent page.
	d, err := demo.Start(t.Context(), demo.Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", ConsentPage: true, Emulator: emulator.Options{DefaultUser: emulator.SingleOrgUser}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 1000))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return chromedp.Void{}, err
			}
			return chromedp.Void{}, os.WriteFile(filepath.Join(artifacts, name+".png"), buf, 0o644)
		}
	}
	text := func(id string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("read #%s: %v (screenshots in %s)", id, err, artifacts)
		}
		return strings.TrimSpace(v)
	}
	steps := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			_ = chromedp.Do(ctx, shot("failed-"+name))
			t.Fatalf("%s: %v (screenshots in %s)", name, err, artifacts)
		}
	}
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
	t.Logf("screenshots in %s", artifacts)
}
