package usage

import (
	"context"
	"strings"
	"sync"
	"time"
)

// editionCredits are a Zoho Desk edition's daily API credits: Base plus
// PerAgent for every active agent, light agents excluded. Sources:
// /work/shared/reference/zoho-desk-api.md §2.5, [D CRED] (Zoho's "Working
// with API credits" article) for Free, Express, Professional and
// Enterprise; [C] (a community post quoting the docs) for Standard, whose
// row the article's excerpt cut off.
type editionCredits struct{ Base, PerAgent int }

// editions maps the organisation's edition, as GET /api/v1/organizations
// spells it (Zoho's OAS enum FREE_2019, FREE, NEW_FREE, ENTERPRISE,
// PROFESSIONAL, EXPRESS, ZOHOONE; its text also names STANDARD and
// ULTIMATE), to its daily credits. [I] FREE_2019 and NEW_FREE are taken to
// be Free editions, and ZOHOONE (Zoho One, and CRM Plus, which Zoho groups
// with it) to have Enterprise's credits, as the CRED table lists them
// together. [GAP] ULTIMATE is not in the credits table: its limit is
// unknown, as is any edition not listed here.
var editions = map[string]editionCredits{
	"FREE":         {5000, 0},
	"FREE_2019":    {5000, 0},
	"NEW_FREE":     {5000, 0},
	"EXPRESS":      {25000, 100},
	"STANDARD":     {50000, 250},
	"PROFESSIONAL": {75000, 500},
	"ENTERPRISE":   {100000, 1000},
	"ZOHOONE":      {100000, 1000},
}

// DailyLimit returns the daily API credits of an organisation of edition
// with agents active full agents, and false for an edition whose limit is
// not known (see editions). Bought extra credits are not included: Zoho's
// API does not report them.
func DailyLimit(edition string, agents int) (int, bool) {
	e, ok := editions[strings.ToUpper(strings.TrimSpace(edition))]
	if !ok {
		return 0, false
	}
	return e.Base + e.PerAgent*max(agents, 0), true
}

// OrgInfo is what the daily limit depends on: the organisation's edition
// and number of active full agents, as fetched at FetchedAt. Err, when
// not empty, says why part of it could not be fetched; what was fetched
// is kept (Edition may be set and AgentsKnown false).
type OrgInfo struct {
	Edition     string
	Agents      int
	AgentsKnown bool
	FetchedAt   time.Time
	Err         string
}

// Org cache lifetimes: a fetched organisation is fetched again after
// OrgInfoTTL; one whose fetch failed, after OrgErrorTTL (a missing scope
// is fixed by reconnecting, which should show soon, yet a page view must
// not cost two Zoho calls each time).
const (
	OrgInfoTTL  = time.Hour
	OrgErrorTTL = 10 * time.Minute
)

// fetchTimeout bounds one fetch of an organisation's info.
const fetchTimeout = 15 * time.Second

// FetchOrgFunc fetches an organisation's edition and agent count. It
// returns what it could with the error of what it could not.
type FetchOrgFunc func(ctx context.Context, key OrgKey) (OrgInfo, error)

// OrgKey names an organisation and a connection that can reach it: the
// fetch uses that connection's token.
type OrgKey struct {
	TenantID, ConnectionID, OrgID string
}

// OrgCache keeps, in memory, each organisation's OrgInfo for OrgInfoTTL
// (OrgErrorTTL after a failure), and fetches it when a caller asks for one
// that is missing or stale; concurrent callers for the same organisation
// share one fetch. In memory rather than in the store: the edition and
// agent count change rarely, a fetch costs two cheap Zoho calls (2
// credits), so a replica or CLI process fetching its own copy once an
// hour costs next to nothing and needs no table. It is safe for concurrent
// use.
type OrgCache struct {
	fetch FetchOrgFunc
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]*orgEntry // by OrgID
}

type orgEntry struct {
	info  OrgInfo
	ready chan struct{} // closed when info is set
}

// NewOrgCache returns a cache that fetches with fetch; now is its clock
// (nil: time.Now).
func NewOrgCache(fetch FetchOrgFunc, now func() time.Time) *OrgCache {
	if now == nil {
		now = time.Now
	}
	return &OrgCache{fetch: fetch, now: now, entries: make(map[string]*orgEntry)}
}

// Get returns the organisation's info, fetching it when it is missing or
// stale. A waiter whose ctx ends gets the stale info, if any, with ok
// false.
func (c *OrgCache) Get(ctx context.Context, key OrgKey) (info OrgInfo, ok bool) {
	c.mu.Lock()
	e := c.entries[key.OrgID]
	if e != nil {
		select {
		case <-e.ready:
			if !c.stale(e.info) {
				c.mu.Unlock()
				return e.info, true
			}
		default: // a fetch is under way: wait for it below
		}
	}
	var prev OrgInfo
	fetching := e == nil
	if e != nil {
		select {
		case <-e.ready:
			prev, fetching = e.info, true
		default:
		}
	}
	if fetching {
		e = &orgEntry{ready: make(chan struct{})}
		c.entries[key.OrgID] = e
	}
	c.mu.Unlock()
	if fetching {
		// The fetch outlives a caller that gives up (a page closed): its
		// result serves the next one, and a cancelled fetch must not be
		// cached as a failure.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		info, err := c.fetch(fctx, key)
		cancel()
		info.FetchedAt = c.now()
		if err != nil {
			info.Err = err.Error()
			if info.Edition == "" && !info.AgentsKnown && prev.Edition != "" {
				// Keep what an earlier fetch learned; say why it is old.
				prev.Err, prev.FetchedAt = info.Err, info.FetchedAt
				info = prev
			}
		}
		e.info = info
		close(e.ready)
		return info, true
	}
	select {
	case <-e.ready:
		return e.info, true
	case <-ctx.Done():
		return prev, false
	}
}

func (c *OrgCache) stale(info OrgInfo) bool {
	ttl := OrgInfoTTL
	if info.Err != "" {
		ttl = OrgErrorTTL
	}
	return c.now().Sub(info.FetchedAt) >= ttl
}
