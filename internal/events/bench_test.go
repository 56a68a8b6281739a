package events

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// BenchmarkReceiverIngest measures webhook ingest into the SQLite log: one
// signed Zoho delivery of one event per request, verified, normalised and
// committed before the 200 (events/s = 1/ns-per-op). Serial sends one
// delivery at a time; Concurrent keeps 8 per CPU in flight, as Zoho does
// with several webhooks, modules or connections, so group commit can share
// one transaction among them.
func BenchmarkReceiverIngest(b *testing.B) {
	b.Run("Serial", func(b *testing.B) { benchmarkReceiverIngest(b, 0) })
	b.Run("Concurrent", func(b *testing.B) { benchmarkReceiverIngest(b, 8) })
}

func benchmarkReceiverIngest(b *testing.B, parallelism int) {
	z := newFakeZoho(b)
	st := newTestStore(b, z.deskBaseURL())
	token := "tok-bench"
	if err := st.PutEventSource(b.Context(), &store.EventSource{ConnectionID: st.conn.ID, TenantID: st.tenant.ID,
		Mode: store.SourceWebhook, TokenHash: TokenHash(token), WebhookID: "1"}); err != nil {
		b.Fatal(err)
	}
	rcv := &Receiver{Store: st, Log: &Log{Store: st}, Verifier: &Verifier{}, Logger: slog.New(slog.DiscardHandler)}
	jwt := z.sign(b, testOrgID, "1", time.Now().Add(time.Hour))
	url := ReceiverURL("http://deskconn.test", token)
	var n atomic.Int64
	deliver := func(b *testing.B) {
		body := fmt.Sprintf(`[{"eventType":"Ticket_Add","orgId":"%s","eventTime":"1781180000000","payload":{"id":"%d","subject":"bench"}}]`, testOrgID, n.Add(1))
		req := httptest.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("X-ZDesk-JWT", jwt)
		w := httptest.NewRecorder()
		rcv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Errorf("status %d: %s", w.Code, w.Body)
		}
	}
	b.ResetTimer()
	if parallelism == 0 {
		for range b.N {
			deliver(b)
		}
	} else {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				deliver(b)
			}
		})
	}
	b.StopTimer()
	if got, err := st.LastEventSeq(b.Context(), st.conn.ID); err != nil || got != n.Load() {
		b.Fatalf("the log has %d events (%v), want %d", got, err, n.Load())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
