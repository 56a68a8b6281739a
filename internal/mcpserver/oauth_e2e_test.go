package mcpserver

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestOAuthSignIn is the hosted-agent flow end to end: the official
// TypeScript SDK's OAuth client (testdata/node/oauth.mjs), given only the
// URL of /mcp/demo on the built `deskconn serve --demo`, discovers the
// metadata from the 401, registers, and prints the authorization URL; real
// headless Chromium opens a login link, then that URL, grants read-only
// access on the consent page, and is redirected to the script's loopback
// callback; the script then lists and calls tools, refreshes, and checks
// that a reused refresh token revokes the grant.
func TestOAuthSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the deskconn binary")
	}
	node, chromium := os.Getenv("DESKCONN_TEST_NODE"), os.Getenv("DESKCONN_TEST_CHROMIUM")
	if node == "" || chromium == "" {
		t.Skip("DESKCONN_TEST_NODE or DESKCONN_TEST_CHROMIUM is unset (scripts/env sets them)")
	}
	if _, err := os.Stat(filepath.Join("testdata", "node", "node_modules", "@modelcontextprotocol", "sdk")); err != nil {
		t.Skip("testdata/node/node_modules is missing: run scripts/setup (npm ci)")
	}
	d := startDemo(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	login := exec.CommandContext(ctx, d.bin, append(d.mcpArgs()[:4], "login", "--tenant", "demo")...)
	login.Env = append(os.Environ(), "DESKCONN_DATA_DIR="+d.dataDir)
	out, err := login.Output()
	if err != nil {
		t.Fatalf("deskconn login: %v", err)
	}
	loginURL := strings.TrimSpace(string(out))
	if !strings.HasPrefix(loginURL, d.url+"/login?token=") {
		t.Fatalf("deskconn login printed %q, want a link on %s", loginURL, d.url)
	}

	cmd := exec.CommandContext(ctx, node, "oauth.mjs")
	cmd.Dir = filepath.Join("testdata", "node")
	cmd.Env = append(os.Environ(), "DESKCONN_MCP_URL="+d.url+"/mcp/demo")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	authorize := make(chan string, 1)
	lines := make(chan []string, 1)
	go func() {
		var all []string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			all = append(all, sc.Text())
			if u, ok := strings.CutPrefix(sc.Text(), "AUTHORIZE "); ok {
				authorize <- u
			}
		}
		lines <- all
	}()
	var authURL string
	select {
	case authURL = <-authorize:
	case all := <-lines:
		_ = cmd.Wait()
		t.Fatalf("oauth.mjs ended before asking for authorization:\n%s\n%s", strings.Join(all, "\n"), stderr.String())
	case <-ctx.Done():
		t.Fatalf("oauth.mjs did not ask for authorization: %s", stderr.String())
	}
	if !strings.HasPrefix(authURL, d.url+"/oauth/authorize?") {
		t.Fatalf("authorization URL %q is not deskconn's", authURL)
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 1000))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	text := func(id string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("read #%s: %v", id, err)
		}
		return strings.TrimSpace(v)
	}
	if err := chromedp.Do(bctx,
		chromedp.Navigate(loginURL),
		chromedp.WaitVisible(chromedp.ID("add-form")),
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("consent-form")),
	); err != nil {
		t.Fatalf("open the consent page: %v\n%s", err, stderr.String())
	}
	if name, conn := text("client-name"), text("fixed-connection"); name != "TS SDK e2e agent" || conn != "demo" {
		t.Errorf("consent page shows client %q, connection %q", name, conn)
	}
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.ID("access-read")),
		chromedp.Click(chromedp.ID("allow")),
		chromedp.WaitVisible(chromedp.ID("done")),
	); err != nil {
		t.Fatalf("grant access: %v\n%s", err, stderr.String())
	}
	var all []string
	select {
	case all = <-lines:
	case <-ctx.Done():
		t.Fatalf("oauth.mjs did not finish: %s", stderr.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("oauth.mjs: %v\n%s\n%s", err, strings.Join(all, "\n"), stderr.String())
	}
	if len(all) == 0 || all[len(all)-1] != "ok" {
		t.Fatalf("oauth.mjs did not finish:\n%s\n%s", strings.Join(all, "\n"), stderr.String())
	}
	t.Logf("oauth.mjs:\n%s", strings.Join(all, "\n"))
}
