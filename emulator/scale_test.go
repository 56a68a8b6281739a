package emulator_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/deskconn/deskconn/emulator"
)

// perRequestCost serves GET path in-process runs times and reports the
// average heap allocations (count and bytes) of one request.
func perRequestCost(t *testing.T, emu *emulator.Emulator, token, path string, runs int) (allocs, bytes float64) {
	t.Helper()
	serve := func() {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Zoho-oauthtoken "+token)
		req.Header.Set("orgId", emulator.DemoOrgID) // in-process: canonical key, as net/http would parse it
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusNoContent {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	serve() // warm up (route tables, lazily built state)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		serve()
	}
	runtime.ReadMemStats(&after)
	allocs = testing.AllocsPerRun(runs, serve)
	return allocs, float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}

// TestPerRequestMemoryBounded checks that listing and searching tickets
// allocate about as much with 100k tickets as with the 300-ticket seed:
// a request may scan every ticket but must not make per-ticket garbage.
func TestPerRequestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100k-ticket emulator")
	}
	// Not parallel: allocation counts are process-wide.
	opts := func(extra int) emulator.Options {
		return emulator.Options{ExtraTickets: extra, DailyCredits: 1 << 30, MaxRequestLog: 1}
	}
	small, large := emulator.New(opts(0)), emulator.New(opts(100_000))
	token := func(emu *emulator.Emulator) string {
		_, access, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, allScopes)
		if err != nil {
			t.Fatal(err)
		}
		return access
	}
	smallTok, largeTok := token(small), token(large)
	// Each query fills its page at both sizes (or matches nothing at
	// both), so the two responses are the same size and only the scan
	// differs.
	paths := []string{
		"/api/v1/tickets?limit=100",
		"/api/v1/tickets?limit=100&from=100&sortBy=-createdTime",
		"/api/v1/tickets?limit=20&status=Open,Escalated&priority=High&assignee=Unassigned",
		"/api/v1/tickets?limit=100&sortBy=dueDate",
		"/api/v1/tickets?limit=50&sortBy=-recentThread&departmentIds=" + emulator.DemoDepartmentID,
		"/api/v1/tickets/search?subject=Refund*&limit=20",
		"/api/v1/tickets/search?subject=zzzqqq",
		"/api/v1/tickets/search?_all=synthetic&limit=100",
		"/api/v1/tickets/search?status=${OPEN},Escalated&limit=50&from=20",
		"/api/v1/tickets/search?contactName=*a*&sortBy=-modifiedTime&limit=100",
		"/api/v1/tickets/search?contactName=${notempty}&productName=${empty}&limit=20",
		"/api/v1/tickets/search?ticketNumber=${notempty}&email=${notempty}&priority=high,low&limit=20",
		"/api/v1/tickets/search?description=*ticket*&createdTimeRange=2020-01-01T00:00:00.000Z,2030-01-01T00:00:00.000Z&sortBy=createdTime",
		"/api/v1/tickets/search?_all=synth*&sortBy=-customerResponseTime&from=50&limit=50",
	}
	for _, p := range paths {
		sa, sb := perRequestCost(t, small, smallTok, p, 2)
		la, lb := perRequestCost(t, large, largeTok, p, 2)
		t.Logf("%s: seed %.0f allocs %.0f B; 100k %.0f allocs %.0f B", p, sa, sb, la, lb)
		// Per-ticket garbage would add at least 100k allocations, and a
		// slice of every matching ticket 800 KB and more (the byte count
		// is noisier than the allocation count, hence the wider margin).
		if la > sa*1.05+100 || lb > sb*1.25+512<<10 {
			t.Errorf("%s: 100k tickets cost %.0f allocs / %.0f B per request against %.0f / %.0f B for the seed",
				p, la, lb, sa, sb)
		}
	}
}
