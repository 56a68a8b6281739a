package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumTab is one headless Chromium tab of a browser test. Failed steps
// leave a screenshot in its artifacts directory (DESKCONN_TEST_ARTIFACTS,
// else a temporary one).
type chromiumTab struct {
	t         *testing.T
	ctx       context.Context
	artifacts string
}

// newChromiumTab starts Chromium (DESKCONN_TEST_CHROMIUM; the test is
// skipped without it) with a window of 1200×1000. timeout bounds the whole
// walk against a hung browser; it is not a speed check.
func newChromiumTab(t *testing.T, timeout time.Duration) *chromiumTab {
	t.Helper()
	chromium := os.Getenv("DESKCONN_TEST_CHROMIUM")
	if chromium == "" {
		t.Skip("DESKCONN_TEST_CHROMIUM is unset (path to a chromium binary)")
	}
	artifacts := t.TempDir()
	if dir := os.Getenv("DESKCONN_TEST_ARTIFACTS"); dir != "" {
		artifacts = filepath.Join(dir, t.Name())
		if err := os.MkdirAll(artifacts, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 1000))
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelT()
		cancel()
		cancelAlloc()
	})
	return &chromiumTab{t: t, ctx: ctx, artifacts: artifacts}
}

// shot saves a full-page screenshot as name.png in the artifacts.
func (b *chromiumTab) shot(name string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		buf, err := chromedp.FullScreenshot(90)(ctx, tg)
		if err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, os.WriteFile(filepath.Join(b.artifacts, name+".png"), buf, 0o644)
	}
}

// steps runs actions; a failure fails the test naming the step, after a
// screenshot.
func (b *chromiumTab) steps(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		_ = chromedp.Do(b.ctx, b.shot("failed-"+name))
		b.t.Fatalf("%s: %v (screenshots in %s)", name, err, b.artifacts)
	}
}

// text returns the trimmed text of the element sel (a CSS selector).
func (b *chromiumTab) text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(sel))
	if err != nil {
		b.t.Fatalf("read %s: %v (screenshots in %s)", sel, err, b.artifacts)
	}
	return strings.TrimSpace(v)
}
