package deskconn_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection enforces DESIGN §2: the public zohodesk client and the
// emulator import nothing of this module, the domain package imports only
// the standard library, and the action registry imports no adapter.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/deskconn/deskconn"
	rules := []struct {
		pkg       string
		forbidden []string // import path prefixes
	}{
		{pkg: mod + "/zohodesk", forbidden: []string{mod + "/"}},
		{pkg: mod + "/emulator", forbidden: []string{mod + "/", mod}},
		{pkg: mod, forbidden: []string{mod + "/"}},
		{pkg: mod + "/internal/htmltext", forbidden: []string{mod + "/", mod}},
		{pkg: mod + "/internal/action", forbidden: []string{mod + "/internal/restapi", mod + "/internal/mcpserver", mod + "/internal/cli", mod + "/internal/deskactions"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", r.pkg).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "no Go files") || strings.Contains(string(out), "cannot find package") {
				t.Errorf("package %s does not exist yet: %s", r.pkg, out)
				continue
			}
			t.Fatalf("go list -deps %s: %v\n%s", r.pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == r.pkg {
				continue
			}
			for _, f := range r.forbidden {
				if dep == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(dep, f)) {
					t.Errorf("%s imports %s; DESIGN §2 forbids it", r.pkg, dep)
				}
			}
		}
	}
}
