package connection

import (
	"strings"
)

// deskScopeGroups are the scope groups of Zoho Desk's OAuth scopes
// (Desk.<group>.<OPERATION>), from Zoho's API documentation (reference
// zoho-desk-api.md §2.3). A scope outside them is refused when a
// connection is added or edited, with the closest known name.
var deskScopeGroups = []string{
	"tickets", "contacts", "basic", "settings", "search", "products", "tasks", "activities", "calls", "events",
	"articles", "community", "feeds", "zia", "extensions", "integrations", "phonebridge",
	"agents", "teams", "departments", "organization", "permissions",
}

var deskScopeOps = []string{"READ", "CREATE", "UPDATE", "DELETE", "ALL"}

// knownScopes lists every scope name deskconn accepts.
var knownScopes = func() []string {
	var out []string
	for _, g := range deskScopeGroups {
		if g == "search" {
			out = append(out, "Desk.search.READ")
			continue
		}
		for _, op := range deskScopeOps {
			out = append(out, "Desk."+g+"."+op)
		}
	}
	return append(out, "Desk.imports", "Desk.exports")
}()

// KnownScope reports whether s is a Zoho Desk scope name (the operation's
// case is not significant: Zoho's texts use both).
func KnownScope(s string) bool {
	for _, k := range knownScopes {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}

// ClosestScope returns the known scope name nearest to s by edit distance
// (case-insensitive).
func ClosestScope(s string) string {
	best, bestD := "", -1
	ls := strings.ToLower(s)
	for _, k := range knownScopes {
		if d := editDistance(ls, strings.ToLower(k)); bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	if len(a) > 200 || len(b) > 200 {
		return max(len(a), len(b)) // too long to be a scope: no need to be exact
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
