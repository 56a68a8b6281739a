//go:build unix

package events_test

import (
	"flag"
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/zohodesk"
	"golang.org/x/time/rate"
)

var ingestProfile = flag.String("ingestprofile", "", "BenchmarkEmulatorIngest: write a CPU profile of the timed deliveries only (not the ticket creation) to this file")

// BenchmarkEmulatorIngest measures what `deskconn bench --scenario events`
// measures, in one process: b.N tickets are created in the emulator while
// its webhook deliveries are held, then the deliveries (8 in flight, one
// signed event each) are released and timed until the emulator has had
// every answer, each after deskconn verified, normalised and committed its
// event. It reports events/s and the process's CPU time per event (user +
// system, both sides: the emulator's delivery and deskconn's receiver),
// which a loaded machine disturbs less than wall time. -ingestprofile FILE
// writes a CPU profile of the timed part only (-cpuprofile would include
// the ticket creation).
func BenchmarkEmulatorIngest(b *testing.B) {
	// One kept-alive connection per delivery in flight, as the bench tool's
	// client has (Go's default keeps 2, so 8 in flight would keep dialling).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 8
	held := &heldTransport{base: tr}
	b.Cleanup(held.release)
	s := startStackWith(b, emulator.Options{WebhookConcurrency: 8, WebhookClient: &http.Client{Transport: held, Timeout: 10 * time.Second}})
	if status, body := s.api(b.Context(), http.MethodPost, "/v1/connections/demo/events/enable", `{"mode":"webhook"}`); status != http.StatusOK {
		b.Fatalf("enable = %d %s", status, body)
	}
	_, access, err := s.d.Emulator.MintToken(emulator.DemoClientID, emulator.SingleOrgUser, emulator.DemoOrgID, []string{"Desk.tickets.ALL"})
	if err != nil {
		b.Fatal(err)
	}
	desk, err := zohodesk.New(zohodesk.Config{BaseURL: s.d.EmulatorURL + "/api/v1", Tokens: zohodesk.StaticToken(access), Limiter: zohodesk.NewOrgLimiter(8, rate.Inf, 1)})
	if err != nil {
		b.Fatal(err)
	}
	held.hold()
	var wg sync.WaitGroup
	work := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for range work {
				if _, _, err := desk.Tickets.Create(b.Context(), emulator.DemoOrgID, &zohodesk.TicketCreateRequest{
					Subject: "bench ingest", DepartmentID: emulator.DemoDepartmentID, ContactID: emulator.DemoContactID}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	if *ingestProfile != "" {
		f, err := os.Create(*ingestProfile)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuTime(b)
	b.ResetTimer()
	held.release()
	if err := s.d.Emulator.WaitWebhooks(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu := cpuTime(b) - cpu0
	for _, d := range s.d.Emulator.WebhookDeliveries() {
		if d.Status != http.StatusOK {
			b.Fatalf("a delivery was answered %d (%s)", d.Status, d.Err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
