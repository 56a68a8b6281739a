package cli

import (
	"strings"
	"testing"
)

// TestRunCustomerActions runs contact and knowledge-base actions through
// `deskconn run`: they come from the registry like the others, a second
// contact with one e-mail exits 4 (conflict) naming the first, and article
// search prints its hits.
func TestRunCustomerActions(t *testing.T) {
	t.Parallel()
	cd := startCLIDemo(t)
	in := `{"payload":{"lastName":"Prince","firstName":"Diana","email":"diana@themyscira.example"}}`
	code, stdout, stderr := cd.run(t, in, "run", "create_contact", "--tenant", "demo", "--input", "-")
	if code != 0 || !strings.Contains(stdout, `"email": "diana@themyscira.example"`) {
		t.Fatalf("create_contact: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	code, stdout, stderr = cd.run(t, in, "run", "create_contact", "--tenant", "demo", "--input", "-")
	if code != 4 || stdout != "" || !strings.Contains(stderr, "conflict: ") || !strings.Contains(stderr, "already exists") {
		t.Fatalf("duplicate create_contact: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	code, stdout, stderr = cd.run(t, `{"text":"password"}`, "run", "search_articles", "--tenant", "demo", "--input", "-")
	if code != 0 || !strings.Contains(stdout, "Reset your Zylker Cloud password") {
		t.Fatalf("search_articles: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}
