package emulator_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
)

// BenchmarkEmulator measures requests per second the emulator serves over
// loopback HTTP/1.1 with keep-alive, from 16 concurrent clients (8 per
// GOMAXPROCS on the 2-core reference machine), for the four calls a
// connector makes most. Benchmarks only run with -bench:
//
//	go test -run '^$' -bench BenchmarkEmulator -benchtime 2s ./emulator
//
// The seed sub-benchmarks use the 300-ticket demo org; the 100k ones add
// 100,000 synthetic tickets (list pages stay O(page), search scans them all).
func BenchmarkEmulator(b *testing.B) {
	createBody := `{"subject":"Benchmark ticket","departmentId":"` + emulator.DemoDepartmentID + `","contactId":"` + emulator.DemoContactID + `"}`
	calls := []struct {
		name, method, path, body string
	}{
		{"get_ticket", "GET", "/api/v1/tickets/1892000000042032", ""},
		{"list_tickets_page", "GET", "/api/v1/tickets?limit=50&from=100", ""},
		{"search", "GET", "/api/v1/tickets/search?subject=Refund*&limit=10", ""},
		{"create_ticket", "POST", "/api/v1/tickets", createBody}, // last: it grows the org
	}
	for _, size := range []struct {
		name  string
		extra int
	}{{"seed", 0}, {"100k", 100_000}} {
		emu := emulator.New(emulator.Options{ExtraTickets: size.extra, DailyCredits: 1 << 40, MaxConcurrent: 1 << 10, MaxRequestLog: 100})
		srv := httptest.NewServer(emu)
		_, token, err := emu.MintToken(emulator.DemoClientID, emulator.DemoUser, emulator.DemoOrgID, allScopes)
		if err != nil {
			b.Fatal(err)
		}
		client := &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        64,
			MaxIdleConnsPerHost: 64,
			DisableCompression:  true,
			IdleConnTimeout:     time.Minute,
		}}
		for _, call := range calls {
			b.Run(size.name+"/"+call.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						var body io.Reader
						if call.body != "" {
							body = strings.NewReader(call.body)
						}
						req, err := http.NewRequest(call.method, srv.URL+call.path, body)
						if err != nil {
							b.Error(err)
							return
						}
						req.Header.Set("Authorization", "Zoho-oauthtoken "+token)
						req.Header.Set("orgId", emulator.DemoOrgID)
						if call.body != "" {
							req.Header.Set("Content-Type", "application/json")
						}
						resp, err := client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						_, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if err != nil || resp.StatusCode != http.StatusOK {
							b.Errorf("%s %s: %d %v", call.method, call.path, resp.StatusCode, err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			})
		}
		client.CloseIdleConnections()
		srv.Close()
	}
}
