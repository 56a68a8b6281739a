package usage

import (
	"context"
	"fmt"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// Token states of Health.Token.
const (
	TokenValid          = "valid"           // the access token is valid
	TokenExpired        = "expired"         // refreshed on the next call
	TokenNeedsReconnect = "needs_reconnect" // Zoho refused the refresh token
	TokenNone           = "not_connected"   // no token yet
)

// Health is a connection's health as the console, GET
// /v1/connections/{connection} ("health") and `deskconn connections show`
// report it. Its JSON field names are part of the REST API.
type Health struct {
	// Token is one of the Token* states; TokenNote says it for people.
	Token     string `json:"token"`
	TokenNote string `json:"tokenNote"`
	// AccessTokenExpiresAt is when the access token expires: the next
	// refresh happens on the first call after it. Absent before a connect.
	AccessTokenExpiresAt *time.Time `json:"accessTokenExpiresAt,omitempty"`
	LastError            string     `json:"lastError,omitempty"`
	Credits              Credits    `json:"credits"`
	LastHour             CallCounts `json:"lastHour"`
}

// Credits are the Zoho Desk organisation's API credits today. Remaining
// is organisation-wide: every app using the organisation's API spends
// from it, not deskconn alone.
type Credits struct {
	// Remaining is from the last X-Rate-Limit-Remaining-v3 this process
	// saw, at RemainingAt; both absent before any.
	Remaining   *int       `json:"remaining,omitempty"`
	RemainingAt *time.Time `json:"remainingAt,omitempty"`
	// Edition and Agents (active, light agents excluded) make DailyLimit;
	// each is absent when it could not be fetched, DailyLimit when either
	// is missing or the edition's limit is unknown.
	Edition    string `json:"edition,omitempty"`
	Agents     *int   `json:"agents,omitempty"`
	DailyLimit *int   `json:"dailyLimit,omitempty"`
	// Used is DailyLimit − Remaining, when both are known and Remaining
	// is not above DailyLimit.
	Used *int `json:"used,omitempty"`
	// AboveLimit: Remaining exceeds the edition's DailyLimit, so the
	// organisation has more (bought extra credits?); Used is then absent.
	AboveLimit bool `json:"aboveLimit,omitempty"`
	// LimitError says why the edition or agents could not be fetched.
	LimitError string `json:"limitError,omitempty"`
	// Summary says all of it in one line for people.
	Summary string `json:"summary"`
}

// CallCounts are a connection's action calls, reads included, and how
// many failed, in the last 60 minutes. Counts not yet flushed by a
// process that crashed are lost (up to a minute of them).
type CallCounts struct {
	Calls  int64  `json:"calls"`
	Errors int64  `json:"errors"`
	Note   string `json:"note"`
	// CountError says why stored counts could not be read (the counts
	// are then this process's unflushed ones only).
	CountError string `json:"countError,omitempty"`
}

// CallCountNote is CallCounts.Note.
const CallCountNote = "every action call, reads included, over the last 60 minutes; counts are saved about once a minute, so a crash can lose up to a minute of them"

// Reporter builds Health. Its fields may be nil: without Counter the call
// counts are zero, without Orgs the limit is unknown, without Credits the
// remaining credits are unknown.
type Reporter struct {
	Counter *Counter
	Orgs    *OrgCache
	// Credits returns the organisation's remaining credits and when they
	// were seen (metrics.Metrics.CreditsRemaining).
	Credits func(orgID string) (remaining int, at time.Time, ok bool)
	Now     func() time.Time
}

// Health reports c's health. It fetches the organisation's edition and
// agents only when the cache has none fresh (at most once an hour per
// organisation); a failing fetch or store read leaves out what it could
// not learn and says why, never fails the report.
func (r *Reporter) Health(ctx context.Context, c *store.Connection) Health {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	h := Health{LastError: c.LastError}
	if !c.AccessExpiry.IsZero() {
		t := c.AccessExpiry.UTC()
		h.AccessTokenExpiresAt = &t
	}
	switch {
	case c.Status == store.StatusNeedsReauth:
		h.Token, h.TokenNote = TokenNeedsReconnect, "refused by Zoho: reconnect"
	case len(c.SealedRefreshToken) == 0:
		h.Token, h.TokenNote = TokenNone, "none yet: connect first"
	case c.AccessExpiry.After(now()):
		h.Token, h.TokenNote = TokenValid, "valid; refreshed on the first call after it expires"
	default:
		h.Token, h.TokenNote = TokenExpired, "access token expired; refreshed on the next call"
	}
	h.Credits = r.credits(ctx, c)
	h.LastHour.Note = CallCountNote
	calls, errs, err := r.Counter.LastHour(ctx, c.TenantID, c.ID)
	h.LastHour.Calls, h.LastHour.Errors = calls, errs
	if err != nil {
		h.LastHour.CountError = err.Error()
	}
	return h
}

func (r *Reporter) credits(ctx context.Context, c *store.Connection) Credits {
	var cr Credits
	if c.OrgID == "" {
		cr.Summary = "unknown until the connection is bound to an organisation"
		return cr
	}
	limitKnown := false
	if r.Orgs != nil && c.Status == store.StatusActive {
		info, _ := r.Orgs.Get(ctx, OrgKey{TenantID: c.TenantID, ConnectionID: c.ID, OrgID: c.OrgID})
		cr.Edition, cr.LimitError = info.Edition, info.Err
		if info.AgentsKnown {
			n := info.Agents
			cr.Agents = &n
		}
		if l, ok := DailyLimit(info.Edition, info.Agents); ok && info.AgentsKnown {
			cr.DailyLimit, limitKnown = &l, true
		}
	}
	// After the fetch: its own answer from Zoho may be the latest count.
	if r.Credits != nil {
		if rem, at, ok := r.Credits(c.OrgID); ok {
			at = at.UTC()
			cr.Remaining, cr.RemainingAt = &rem, &at
		}
	}
	switch {
	case limitKnown && cr.Remaining != nil && *cr.Remaining > *cr.DailyLimit:
		cr.AboveLimit = true
		cr.Summary = fmt.Sprintf("%d left today, more than the %d a day of edition %s with %d agents: the limit is above the edition's base (extra credits bought?)",
			*cr.Remaining, *cr.DailyLimit, cr.Edition, *cr.Agents)
	case limitKnown && cr.Remaining != nil:
		used := *cr.DailyLimit - *cr.Remaining
		cr.Used = &used
		cr.Summary = fmt.Sprintf("%d used of %d today (edition %s, %d agents)", used, *cr.DailyLimit, cr.Edition, *cr.Agents)
	case limitKnown:
		cr.Summary = fmt.Sprintf("daily limit %d (edition %s, %d agents); used is known after the next call to Zoho", *cr.DailyLimit, cr.Edition, *cr.Agents)
	case cr.Remaining != nil:
		cr.Summary = fmt.Sprintf("%d left today; the daily limit is unknown (%s)", *cr.Remaining, r.whyNoLimit(cr))
	default:
		cr.Summary = fmt.Sprintf("no call to Zoho seen yet; the daily limit is unknown (%s)", r.whyNoLimit(cr))
	}
	cr.Summary += ". Credits are the organisation's, shared by every app that uses its API"
	return cr
}

func (r *Reporter) whyNoLimit(cr Credits) string {
	switch {
	case r.Orgs == nil:
		return "not fetched here"
	case cr.LimitError != "":
		return "could not fetch the edition or agents: " + cr.LimitError
	case cr.Edition == "":
		return "the connection is not active"
	default:
		return "Zoho's documentation gives no credits for edition " + cr.Edition
	}
}
