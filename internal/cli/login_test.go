package cli

import (
	"net/http"
	"strings"
	"testing"
)

// TestLoginCommand: `deskconn login` prints a fresh one-time link that the
// running server (same database, not restarted) honours once.
func TestLoginCommand(t *testing.T) {
	t.Parallel()
	cd := startServedDemo(t)
	code, stdout, stderr := cd.run(t, "", "login", "--tenant", "demo")
	link := strings.TrimSpace(stdout)
	if code != 0 || !strings.HasPrefix(link, cd.d.URL+"/login?token=") || !strings.Contains(stderr, `tenant "demo"`) {
		t.Fatalf("login: exit %d: %q %s (server %s)", code, stdout, stderr, cd.d.URL)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	open := func() *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, link, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	first := open()
	if first.StatusCode/100 != 3 || len(first.Cookies()) == 0 {
		t.Fatalf("first use: %d, cookies %v; want a redirect that signs in", first.StatusCode, first.Cookies())
	}
	if again := open(); again.StatusCode != http.StatusUnauthorized {
		t.Errorf("second use: %d, want 401 (one-time link)", again.StatusCode)
	}
	// Another link for the same tenant is independent of the first.
	if code, stdout, _ := cd.run(t, "", "login", "--tenant", "demo"); code != 0 || strings.TrimSpace(stdout) == link {
		t.Errorf("second login: exit %d, same link %v", code, strings.TrimSpace(stdout) == link)
	}
	if code, _, stderr := cd.run(t, "", "login", "--ttl", "-1h"); code == 0 || !strings.Contains(stderr, "--ttl") {
		t.Errorf("negative ttl: exit %d: %s", code, stderr)
	}
}
