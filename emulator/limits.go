package emulator

import (
	"fmt"
	"strings"
	"time"
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

// The Desk API documents three kinds of 429 (DESKDOC, audit row 7): the
// daily credits are used up (THRESHOLD_EXCEEDED, with Retry-After), too
// many requests at the same time (concurrency), and too many requests
// within a given amount of time (time window). [GAP] The error codes of the
// last two could not be read from Zoho's documentation; the team reference
// (zoho-desk-api.md §2.4) gives TOO_MANY_REQUESTS for both, so the emulator
// sends that for both, without Retry-After, and tells them apart only by
// the message. Both are refused before the handler runs, so nothing has
// been done. A client must not take any other 429 code to mean that: a
// FaultStatus with Status 429 and another ErrorCode tests that.
const (
	codeConcurrency = "TOO_MANY_REQUESTS"
	codeWindow      = "TOO_MANY_REQUESTS"
	// The messages follow DESKDOC's wording of the two causes.
	messageConcurrency = "You have made too many requests simultaneously. Please try again after some time."
	messageWindow      = "You have made too many requests within a given amount of time. Please try again after some time."
)

// windowAdmitLocked reports whether org o may make one more Desk call at
// now under Options.WindowRequests, and if so counts it. Call with e.mu
// held.
func (e *Emulator) windowAdmitLocked(o *org, now time.Time) bool {
	n := e.opts.WindowRequests
	if n <= 0 {
		return true
	}
	kept := o.windowCalls[:0]
	for _, t := range o.windowCalls {
		if now.Sub(t) < e.opts.Window {
			kept = append(kept, t)
		}
	}
	o.windowCalls = kept
	if len(kept) >= n {
		return false
	}
	o.windowCalls = append(o.windowCalls, now)
	return true
}
