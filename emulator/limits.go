package emulator

import (
	"fmt"
	"strings"
)

// Editions returns the Zoho Desk editions the emulator models, cheapest
// first (facts §2.5).
func Editions() []string {
	return []string{"FREE", "EXPRESS", "STANDARD", "PROFESSIONAL", "ENTERPRISE", "ZOHOONE"}
}

// ParseEdition returns the canonical (upper-case) name of edition, matched
// case-insensitively against Editions, or an error listing them.
func ParseEdition(edition string) (string, error) {
	up := strings.ToUpper(strings.TrimSpace(edition))
	if _, ok := editionLimits[up]; !ok {
		return "", fmt.Errorf("unknown Zoho Desk edition %q: use one of %s", edition, strings.Join(Editions(), ", "))
	}
	return up, nil
}

// OrgLimits are the API limits an org is held to.
type OrgLimits struct {
	Edition       string
	DailyCredits  int // credits per UTC day (base + per active full agent, or Options.DailyCredits)
	MaxConcurrent int // concurrent Desk calls before 429 TOO_MANY_REQUESTS
}

// Limits returns the limits of orgID now (credits depend on its active
// agents) and whether the org exists.
func (e *Emulator) Limits(orgID string) (OrgLimits, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.st.orgs[orgID]
	if o == nil {
		return OrgLimits{}, false
	}
	return OrgLimits{Edition: o.Edition, DailyCredits: e.creditBudget(o), MaxConcurrent: e.concurrencyLimit(o.Edition)}, true
}
