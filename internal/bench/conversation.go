package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/deskconn/deskconn/emulator"
	"github.com/deskconn/deskconn/internal/deskactions"
	"github.com/deskconn/deskconn/zohodesk"
)

// conversationItems is the size of the conversation the scenario reads.
const conversationItems = 500

// ConversationReport compares ways of reading a long conversation.
type ConversationReport struct {
	// Items is the number of items the ticket's conversation holds.
	Items int                  `json:"items"`
	Rows  []ConversationMethod `json:"rows"`
}

// ConversationMethod is one way of reading every item.
type ConversationMethod struct {
	Method     string  `json:"method"`
	Items      int     `json:"items"`
	Actions    int     `json:"actions"`
	DeskCalls  int     `json:"deskCalls"`
	DurationMs float64 `json:"durationMs"`
	// PeakHeapGrowthMiB is the highest live heap above the heap before the
	// read (this process: client, registry and, in process, the emulator).
	PeakHeapGrowthMiB float64 `json:"peakHeapGrowthMiB"`
	Result            string  `json:"result"`
}

// runConversation reads a 500-item conversation (the demo ticket's, grown
// with customer e-mails) through list_ticket_conversations page by page
// (summaries, then full text) and with all: true, against direct paging of
// GET /conversations with the zohodesk client.
func runConversation(ctx context.Context, cfg Config) (*ConversationReport, error) {
	s, err := NewStack(ctx, cfg.stackOptions())
	if err != nil {
		return nil, err
	}
	defer s.Close()
	tid := emulator.DemoThreadTicketID
	t, err := s.Target(ctx)
	if err != nil {
		return nil, err
	}
	have := 0
	for _, err := range t.Desk.Conversations.ListAll(ctx, s.OrgID, tid, nil) {
		if err != nil {
			return nil, fmt.Errorf("count conversation: %w", err)
		}
		have++
	}
	for i := have; i < conversationItems; i++ {
		content := fmt.Sprintf("<div>Customer follow-up %d: the dashboard still shows E-17.</div><blockquote>earlier mail</blockquote>", i)
		if s.Emulator != nil {
			_, err = s.Emulator.AddCustomerReply(s.OrgID, tid, content)
		} else {
			_, _, err = t.Desk.Comments.Create(ctx, s.OrgID, tid, &zohodesk.CommentRequest{Content: content, ContentType: "html"})
		}
		if err != nil {
			return nil, fmt.Errorf("grow the conversation: %w", err)
		}
	}
	rep := &ConversationReport{Items: conversationItems}
	viaAction := func(method, first string, next func(from int) string) ConversationMethod {
		return s.measureConversation(ctx, method, func() (int, int, error) {
			items, actions := 0, 0
			in := first
			for {
				raw, err := s.Invoke(ctx, "list_ticket_conversations", json.RawMessage(in))
				if err != nil {
					return items, actions, err
				}
				actions++
				var out deskactions.ConversationOutput
				if err := json.Unmarshal(raw, &out); err != nil {
					return items, actions, err
				}
				items += out.Count
				if out.NextFrom == nil || next == nil {
					return items, actions, nil
				}
				in = next(*out.NextFrom)
			}
		})
	}
	sel := `"ticketId":"` + tid + `"`
	rep.Rows = append(rep.Rows,
		s.measureConversation(ctx, "direct paging (zohodesk, limit 200)", func() (int, int, error) {
			n := 0
			for _, err := range t.Desk.Conversations.ListAll(ctx, s.OrgID, tid, nil) {
				if err != nil {
					return n, 0, err
				}
				n++
			}
			return n, 0, nil
		}),
		viaAction("action pages of 100, summaries", `{`+sel+`,"limit":100,"content":"summary"}`,
			func(from int) string { return fmt.Sprintf(`{%s,"limit":100,"content":"summary","from":%d}`, sel, from) }),
		viaAction("action all: true, summaries", `{`+sel+`,"all":true,"content":"summary"}`, nil),
		viaAction("action pages of 100, full text", `{`+sel+`,"limit":100}`,
			func(from int) string { return fmt.Sprintf(`{%s,"limit":100,"from":%d}`, sel, from) }),
	)
	return rep, nil
}

// measureConversation times read, counting the Desk calls it caused and
// sampling the heap.
func (s *Stack) measureConversation(ctx context.Context, method string, read func() (items, actions int, err error)) ConversationMethod {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 { metrics.Read(samples); return samples[0].Value.Uint64() }
	before, _ := s.ticketReads(ctx)
	runtime.GC()
	base := heap()
	peak := base
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				peak = max(peak, heap())
			}
		}
	}()
	start := time.Now()
	items, actions, err := read()
	elapsed := time.Since(start)
	close(stop)
	<-done
	after, _ := s.ticketReads(ctx)
	m := ConversationMethod{Method: method, Items: items, Actions: actions, DeskCalls: after - before, DurationMs: ms(elapsed), Result: "ok"}
	if peak > base {
		m.PeakHeapGrowthMiB = float64(peak-base) / (1 << 20)
	}
	if err != nil {
		m.Result = errText(err)
	}
	return m
}

// ticketReads counts the GET requests under /api/v1/tickets/{id}/ the
// emulator received (conversations and threads).
func (s *Stack) ticketReads(ctx context.Context) (int, error) {
	var c struct {
		Requests map[string]int
	}
	if err := s.adminDo(ctx, "GET", "counters", nil, &c); err != nil {
		return 0, err
	}
	n := 0
	for k, v := range c.Requests {
		if strings.HasPrefix(k, "GET /api/v1/tickets/") && (strings.Contains(k, "/conversations") || strings.Contains(k, "/threads/")) {
			n += v
		}
	}
	return n, nil
}
