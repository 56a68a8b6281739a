package events

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
)

// BenchmarkReceiverIngest measures webhook ingest into the SQLite log: one
// signed Zoho delivery of one event per request, verified, normalised and
// committed before the 200 (events/s = 1/ns-per-op).
func BenchmarkReceiverIngest(b *testing.B) {
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
	b.ResetTimer()
	for i := range b.N {
		body := fmt.Sprintf(`[{"eventType":"Ticket_Add","orgId":"%s","eventTime":"1781180000000","payload":{"id":"%d","subject":"bench"}}]`, testOrgID, i)
		req := httptest.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("X-ZDesk-JWT", jwt)
		w := httptest.NewRecorder()
		rcv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
