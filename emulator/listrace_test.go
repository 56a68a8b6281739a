package emulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/deskconn/deskconn/emulator"
)

// TestListConsistentUnderConcurrentUpdates lists a ticket page (plain rows,
// rows with includes, and rows with fields=) while a writer keeps updating
// two tickets of that page: generation n sets the first ticket's subject,
// priority, status and cf_gen, then the second's. Every row must be
// internally consistent (all four fields of one generation, statusType and
// closedTime matching the status), and the page must be one snapshot: the
// first ticket is never behind the second or more than one generation
// ahead. Run with -race it also shows rows are encoded from copies, not
// from the tickets being updated.
func TestListConsistentUnderConcurrentUpdates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Options{DailyCredits: 1 << 30, MaxConcurrent: 64})
	page := e.do("GET", "/api/v1/tickets?limit=50", nil)
	if page.status != http.StatusOK {
		t.Fatalf("list: %d %s", page.status, page.body)
	}
	rows := page.json(t)["data"].([]any)
	first, second := rows[3].(map[string]any)["id"].(string), rows[40].(map[string]any)["id"].(string)

	// request sends one Desk call; it may run on any goroutine.
	request := func(method, path, body string) (int, []byte, error) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, e.srv.URL+path, rd)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Zoho-oauthtoken "+e.token)
		req.Header["orgId"] = []string{emulator.DemoOrgID}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		return resp.StatusCode, data, err
	}
	const generations = 60
	statuses := []struct{ name, typ string }{{"Open", "Open"}, {"On Hold", "On Hold"}, {"Closed", "Closed"}, {"Escalated", "Open"}}
	status := func(n int) (string, string) { s := statuses[n%len(statuses)]; return s.name, s.typ }

	update := func(n int) error {
		name, _ := status(n)
		body := fmt.Sprintf(`{"subject":"gen %d","priority":"gen %d","status":%q,"cf":{"cf_gen":"gen %d"}}`, n, n, name, n)
		for _, id := range []string{first, second} {
			if code, data, err := request("PATCH", "/api/v1/tickets/"+id, body); err != nil || code != http.StatusOK {
				return fmt.Errorf("PATCH %s: %d %s %v", id, code, data, err)
			}
		}
		return nil
	}
	// Generation 1 first: it makes both tickets the most recently
	// modified, so the sortBy=-recentThread page has them too.
	if err := update(1); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for n := 2; n <= generations; n++ {
			if err := update(n); err != nil {
				errs <- err
				return
			}
		}
	})
	// gen reads generation n from "gen n" (0 for the seeded value).
	gen := func(v any) int {
		s, _ := v.(string)
		n, err := strconv.Atoi(strings.TrimPrefix(s, "gen "))
		if !strings.HasPrefix(s, "gen ") || err != nil {
			return 0
		}
		return n
	}
	check := func(query string, row map[string]any) error {
		n := gen(row["subject"])
		if n == 0 {
			return fmt.Errorf("%s: subject %v is no generation", query, row["subject"])
		}
		if p := gen(row["priority"]); p != n {
			return fmt.Errorf("%s: torn row: subject gen %d, priority gen %d: %v", query, n, p, row)
		}
		name, typ := status(n)
		if row["status"] != name {
			return fmt.Errorf("%s: torn row: subject gen %d, status %v: %v", query, n, row["status"], row)
		}
		if st, ok := row["statusType"]; ok && st != typ {
			return fmt.Errorf("%s: statusType %v for status %s", query, st, name)
		}
		if ct, ok := row["closedTime"]; ok && (ct != nil) != (typ == "Closed") {
			return fmt.Errorf("%s: closedTime %v for status %s", query, ct, name)
		}
		if cf, ok := row["cf_gen"]; ok && gen(cf) != n {
			return fmt.Errorf("%s: torn row: subject gen %d, cf_gen %v", query, n, cf)
		}
		return nil
	}
	queries := []string{"limit=50", "limit=50&include=contacts,assignee,departments,team,products,isRead",
		"limit=50&fields=subject,priority,status,statusType,closedTime,cf_gen", "limit=50&sortBy=-recentThread"}
	for _, q := range queries {
		wg.Go(func() {
			for lists := 0; ; lists++ {
				select {
				case <-done:
					if lists > 0 {
						return
					}
				default:
				}
				code, data, err := request("GET", "/api/v1/tickets?"+q, "")
				if err != nil || code != http.StatusOK {
					errs <- fmt.Errorf("GET %s: %d %s %v", q, code, data, err)
					return
				}
				var body struct{ Data []map[string]any }
				if err := json.NewDecoder(bytes.NewReader(data)).Decode(&body); err != nil {
					errs <- fmt.Errorf("GET %s: %v", q, err)
					return
				}
				gens := map[string]int{}
				for _, row := range body.Data {
					id, _ := row["id"].(string)
					if id == first || id == second {
						if err := check(q, row); err != nil {
							errs <- err
							return
						}
						gens[id] = gen(row["subject"])
					}
				}
				if len(gens) != 2 {
					errs <- fmt.Errorf("GET %s: updated tickets missing from the page (%v)", q, gens)
					return
				}
				if a, b := gens[first], gens[second]; a != b && a != b+1 {
					errs <- fmt.Errorf("GET %s: not one snapshot: first ticket at gen %d, second at gen %d", q, a, b)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	final := e.do("GET", "/api/v1/tickets/"+second, nil).json(t)
	if final["subject"] != fmt.Sprintf("gen %d", generations) {
		t.Fatalf("the writer did not finish: %v", final["subject"])
	}
}
