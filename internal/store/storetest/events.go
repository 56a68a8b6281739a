package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/google/go-cmp/cmp"
)

// RunEvents runs the acceptance suite of store.EventStore: the event log,
// subscriptions, deliveries, cursors, event sources and leases. open is as
// for Run.
//
// Claiming deliveries is deployment-wide, so the delivery tests use due
// times decades in the past that no other test uses, and run one after the
// other.
func RunEvents(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"EventLog", testEventLog},
		{"EventAppendConcurrent", testEventAppendConcurrent},
		// One after the other: each purges what the other wrote before
		// its cutoff.
		{"EventPurge", func(t *testing.T, open func(t *testing.T) store.Store) {
			testEventPurge(t, open)
			testWriteMarks(t, open)
		}},
		{"Subscriptions", testSubscriptions},
		{"Cursors", testCursors},
		{"EventSources", testEventSources},
		{"Leases", testLeases},
		{"LeaseConcurrent", testLeaseConcurrent},
		{"EventCascade", testEventCascade},
		{"Deliveries", func(t *testing.T, open func(t *testing.T) store.Store) {
			testDeliveries(t, open)
			testDeliveryClaimConcurrent(t, open)
		}},
	}
	t.Run("events", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				tt.fn(t, open)
			})
		}
	})
}

func newEvent(connID, key, typ string) *store.Event {
	return &store.Event{ConnectionID: connID, SourceKey: key, Type: typ,
		OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), Body: []byte(`{"k":"` + key + `"}`)}
}

func seqs(evs []*store.Event) []int64 {
	var out []int64
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

func testEventLog(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	c, c2 := newConnection(t, s, tn.ID), newConnection(t, s, tn.ID)

	if n, err := s.LastEventSeq(ctx, c.ID); err != nil || n != 0 {
		t.Errorf("LastEventSeq(empty) = %d, %v; want 0, nil", n, err)
	}
	batch := []*store.Event{
		newEvent(c.ID, "a", "ticket.created"),
		newEvent(c.ID, "b", "ticket.updated"),
		newEvent(c.ID, "a", "ticket.created"), // the same Zoho event twice in one delivery
		newEvent(c.ID, "c", "contact.created"),
	}
	added, err := s.AppendEvents(ctx, batch)
	if err != nil {
		t.Fatalf("AppendEvents = %v", err)
	}
	if got := seqs(added); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("AppendEvents seqs = %v, want [1 2 3]", got)
	}
	for _, e := range added {
		if e.ID == "" || e.ReceivedAt.IsZero() || e.ReceivedAt.Location() != time.UTC {
			t.Errorf("AppendEvents left ID %q, ReceivedAt %v", e.ID, e.ReceivedAt)
		}
	}
	// A redelivery of known events plus one new one: only the new one is stored.
	again, err := s.AppendEvents(ctx, []*store.Event{newEvent(c.ID, "b", "ticket.updated"), newEvent(c.ID, "d", "ticket.updated")})
	if err != nil {
		t.Fatalf("AppendEvents(redelivery) = %v", err)
	}
	if got := seqs(again); !slices.Equal(got, []int64{4}) {
		t.Errorf("AppendEvents(redelivery) seqs = %v, want [4]", got)
	}
	// Another connection numbers its own events, and may reuse a source key.
	other, err := s.AppendEvents(ctx, []*store.Event{newEvent(c2.ID, "a", "ticket.created")})
	if err != nil || len(other) != 1 || other[0].Seq != 1 {
		t.Errorf("AppendEvents(other connection) = %v, %v; want one event with Seq 1", other, err)
	}

	all, err := s.ListEvents(ctx, store.EventFilter{ConnectionID: c.ID})
	if err != nil {
		t.Fatalf("ListEvents = %v", err)
	}
	want := append(slices.Clone(added), again...)
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("ListEvents mismatch (-want +got):\n%s", diff)
	}
	tests := []struct {
		name string
		f    store.EventFilter
		want []int64
	}{
		{"after", store.EventFilter{ConnectionID: c.ID, After: 2}, []int64{3, 4}},
		{"types", store.EventFilter{ConnectionID: c.ID, Types: []string{"ticket.updated", "contact.created"}}, []int64{2, 3, 4}},
		{"limit", store.EventFilter{ConnectionID: c.ID, After: 1, Limit: 2}, []int64{2, 3}},
		{"past the end", store.EventFilter{ConnectionID: c.ID, After: 4}, nil},
		{"unknown connection", store.EventFilter{ConnectionID: uniq("conn")}, nil},
	}
	for _, tt := range tests {
		got, err := s.ListEvents(ctx, tt.f)
		if err != nil {
			t.Errorf("%s: ListEvents = %v", tt.name, err)
			continue
		}
		if !slices.Equal(seqs(got), tt.want) {
			t.Errorf("%s: ListEvents seqs = %v, want %v", tt.name, seqs(got), tt.want)
		}
	}
	if n, err := s.LastEventSeq(ctx, c.ID); err != nil || n != 4 {
		t.Errorf("LastEventSeq = %d, %v; want 4", n, err)
	}
	_, err = s.AppendEvents(ctx, []*store.Event{newEvent(uniq("conn"), "x", "ticket.created")})
	wantErr(t, "AppendEvents(unknown connection)", err, store.ErrNotFound)
	if _, err := s.AppendEvents(ctx, []*store.Event{{ConnectionID: c.ID, Type: "ticket.created"}}); err == nil {
		t.Errorf("AppendEvents(no source key) = nil, want an error")
	}
}

// testEventAppendConcurrent appends overlapping batches from several
// handles at once: every source key is stored once and the cursor has no
// gap and no repeat.
func testEventAppendConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	handles := []store.Store{open(t), open(t)}
	tn := newTenant(t, handles[0])
	c := newConnection(t, handles[0], tn.ID)
	const writers, keys = 6, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			s := handles[w%len(handles)]
			for k := range keys {
				// Writers overlap: each key is offered by two writers.
				key := fmt.Sprintf("k%d", (w/2)*keys+k)
				if _, err := s.AppendEvents(t.Context(), []*store.Event{newEvent(c.ID, key, "ticket.updated")}); err != nil {
					t.Errorf("AppendEvents = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	all, err := handles[1].ListEvents(t.Context(), store.EventFilter{ConnectionID: c.ID, Limit: 1000})
	if err != nil {
		t.Fatalf("ListEvents = %v", err)
	}
	const want = writers / 2 * keys
	if len(all) != want {
		t.Fatalf("stored %d events, want %d", len(all), want)
	}
	seen := map[string]bool{}
	for i, e := range all {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has Seq %d, want %d (a gap or repeat)", i, e.Seq, i+1)
		}
		if seen[e.SourceKey] {
			t.Fatalf("source key %s stored twice", e.SourceKey)
		}
		seen[e.SourceKey] = true
	}
}

func testEventPurge(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	c := newConnection(t, s, tn.ID)
	// Times far in the past that no other test uses, so purging them touches
	// nothing else.
	old := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC) // before the delivery tests' 1980 and 1990
	e1, e2 := newEvent(c.ID, "old1", "ticket.created"), newEvent(c.ID, "old2", "ticket.created")
	e1.ReceivedAt, e2.ReceivedAt = old, old.Add(time.Hour)
	if _, err := s.AppendEvents(ctx, []*store.Event{e1, e2}); err != nil {
		t.Fatalf("AppendEvents = %v", err)
	}
	n, err := s.PurgeEvents(ctx, old.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("PurgeEvents = %d, %v; want 1", n, err)
	}
	left, err := s.ListEvents(ctx, store.EventFilter{ConnectionID: c.ID})
	if err != nil || len(left) != 1 || left[0].SourceKey != "old2" {
		t.Fatalf("after purge ListEvents = %v, %v; want only old2", left, err)
	}
	if _, err := s.PurgeEvents(ctx, old.Add(2*time.Hour)); err != nil {
		t.Fatalf("PurgeEvents = %v", err)
	}
	// The cursor survives an empty log: the next event is Seq 3, not 1.
	added, err := s.AppendEvents(ctx, []*store.Event{newEvent(c.ID, "new", "ticket.created")})
	if err != nil || len(added) != 1 || added[0].Seq != 3 {
		t.Errorf("AppendEvents after purge = %v, %v; want Seq 3", added, err)
	}
}

// testWriteMarks: marks are written with their audit record, found by
// connection and key, replaced by a later write of the same key, and purged
// with the event log.
func testWriteMarks(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	c1, c2 := newConnection(t, s, tn.ID), newConnection(t, s, tn.ID)
	at := time.Date(1961, 1, 1, 0, 0, 0, 0, time.UTC) // purged below; no other test uses 1961
	upd := store.WriteKey("ticket", "1", "2026-01-15T10:30:00.000Z")
	if err := s.AppendAudit(ctx, &store.AuditRecord{Time: at, TenantID: tn.ID, APIKeyID: "key_1", ConnectionID: c1.ID,
		Action: "update_ticket", Outcome: "ok", Writes: []store.WriteMark{{Key: upd}}}); err != nil {
		t.Fatalf("AppendAudit = %v", err)
	}
	if err := s.AppendAudit(ctx, &store.AuditRecord{Time: at, TenantID: tn.ID, APIKeyID: "mcpg_2", ConnectionID: c1.ID,
		Action: "reply_to_ticket", Outcome: "ok", Writes: []store.WriteMark{{Key: store.WriteKey("thread", "9", "")}, {Key: "ticket/1"}}}); err != nil {
		t.Fatalf("AppendAudit = %v", err)
	}
	// The same key again: the later write's mark.
	if err := s.AppendAudit(ctx, &store.AuditRecord{Time: at.Add(time.Minute), TenantID: tn.ID, APIKeyID: "key_3", ConnectionID: c1.ID,
		Action: "create_ticket", Outcome: "ok", Writes: []store.WriteMark{{Key: "ticket/1"}}}); err != nil {
		t.Fatalf("AppendAudit = %v", err)
	}
	got, err := s.MatchWrites(ctx, c1.ID, []string{upd, "ticket/1", "thread/9", "ticket/1@0"})
	if err != nil {
		t.Fatalf("MatchWrites = %v", err)
	}
	want := map[string]*store.WriteMark{
		upd:        {ConnectionID: c1.ID, Key: upd, Action: "update_ticket", APIKeyID: "key_1", At: at},
		"ticket/1": {ConnectionID: c1.ID, Key: "ticket/1", Action: "create_ticket", APIKeyID: "key_3", At: at.Add(time.Minute)},
		"thread/9": {ConnectionID: c1.ID, Key: "thread/9", Action: "reply_to_ticket", APIKeyID: "mcpg_2", At: at},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("MatchWrites (-want +got):\n%s", d)
	}
	if other, err := s.MatchWrites(ctx, c2.ID, []string{upd}); err != nil || len(other) != 0 {
		t.Errorf("MatchWrites of another connection = %v, %v; want none", other, err)
	}
	if none, err := s.MatchWrites(ctx, c1.ID, nil); err != nil || len(none) != 0 {
		t.Errorf("MatchWrites without keys = %v, %v; want none", none, err)
	}
	if _, err := s.PurgeEvents(ctx, at.Add(time.Second)); err != nil {
		t.Fatalf("PurgeEvents = %v", err)
	}
	left, err := s.MatchWrites(ctx, c1.ID, []string{upd, "ticket/1", "thread/9"})
	if err != nil || len(left) != 1 || left["ticket/1"] == nil {
		t.Errorf("after purge MatchWrites = %v, %v; want only ticket/1 (written after the cutoff)", left, err)
	}
}

func newSubscription(t *testing.T, s store.Store, tenantID, connID string, types ...string) *store.Subscription {
	t.Helper()
	sub := &store.Subscription{TenantID: tenantID, ConnectionID: connID, URL: "https://hooks.example.com/" + uniq("h"),
		Types: types, SealedSecret: []byte("sealed-" + uniq("s"))}
	if err := s.CreateSubscription(t.Context(), sub); err != nil {
		t.Fatalf("CreateSubscription = %v", err)
	}
	return sub
}

func testSubscriptions(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn, other := newTenant(t, s), newTenant(t, s)
	c := newConnection(t, s, tn.ID)
	sub := newSubscription(t, s, tn.ID, c.ID, "ticket.created", "ticket.updated")
	all := newSubscription(t, s, tn.ID, c.ID)
	if sub.ID == "" || sub.CreatedAt.IsZero() {
		t.Errorf("CreateSubscription set ID %q, CreatedAt %v", sub.ID, sub.CreatedAt)
	}
	got, err := s.GetSubscription(ctx, tn.ID, sub.ID)
	if err != nil {
		t.Fatalf("GetSubscription = %v", err)
	}
	if diff := cmp.Diff(sub, got); diff != "" {
		t.Errorf("GetSubscription mismatch (-want +got):\n%s", diff)
	}
	list, err := s.ListSubscriptions(ctx, tn.ID, c.ID)
	if err != nil {
		t.Fatalf("ListSubscriptions = %v", err)
	}
	if len(list) != 2 || list[0].ID != sub.ID || list[1].ID != all.ID || len(list[1].Types) != 0 {
		t.Errorf("ListSubscriptions = %+v, want [sub, all]", list)
	}
	if !sub.Matches("ticket.updated") || sub.Matches("contact.created") || !all.Matches("contact.created") {
		t.Errorf("Matches disagrees with Types")
	}
	_, err = s.GetSubscription(ctx, other.ID, sub.ID)
	wantErr(t, "GetSubscription(other tenant)", err, store.ErrNotFound)
	wantErr(t, "DeleteSubscription(other tenant)", s.DeleteSubscription(ctx, other.ID, sub.ID), store.ErrNotFound)
	wantErr(t, "CreateSubscription(other tenant's connection)",
		s.CreateSubscription(ctx, &store.Subscription{TenantID: other.ID, ConnectionID: c.ID, URL: "https://x", SealedSecret: []byte("x")}),
		store.ErrNotFound)
	wantErr(t, "CreateSubscription(unknown connection)",
		s.CreateSubscription(ctx, &store.Subscription{TenantID: tn.ID, ConnectionID: uniq("conn"), URL: "https://x", SealedSecret: []byte("x")}),
		store.ErrNotFound)
	if err := s.SetSubscriptionSecret(ctx, tn.ID, sub.ID, []byte("resealed")); err != nil {
		t.Fatalf("SetSubscriptionSecret = %v", err)
	}
	if got, err := s.GetSubscription(ctx, tn.ID, sub.ID); err != nil || string(got.SealedSecret) != "resealed" {
		t.Errorf("after SetSubscriptionSecret: %v, %v", got, err)
	}
	wantErr(t, "SetSubscriptionSecret(other tenant)", s.SetSubscriptionSecret(ctx, other.ID, sub.ID, []byte("x")), store.ErrNotFound)
	if err := s.DeleteSubscription(ctx, tn.ID, sub.ID); err != nil {
		t.Fatalf("DeleteSubscription = %v", err)
	}
	_, err = s.GetSubscription(ctx, tn.ID, sub.ID)
	wantErr(t, "GetSubscription(deleted)", err, store.ErrNotFound)
}

// testDeliveries walks one delivery through claim, lease expiry, retry,
// failure and redelivery. Its due times are in 1990.
func testDeliveries(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	c := newConnection(t, s, tn.ID)
	created := newSubscription(t, s, tn.ID, c.ID, "ticket.created")
	all := newSubscription(t, s, tn.ID, c.ID)
	base := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	e1, e2 := newEvent(c.ID, "d1", "ticket.created"), newEvent(c.ID, "d2", "ticket.updated")
	e1.ReceivedAt, e2.ReceivedAt = base, base.Add(time.Second)
	if _, err := s.AppendEvents(ctx, []*store.Event{e1, e2}); err != nil {
		t.Fatalf("AppendEvents = %v", err)
	}
	// ticket.created goes to both subscriptions, ticket.updated to one.
	if e1.Deliveries != 2 || e2.Deliveries != 1 {
		t.Errorf("Deliveries = %d, %d; want 2, 1", e1.Deliveries, e2.Deliveries)
	}

	// Nothing is due before the first event arrived.
	if got, err := s.ClaimDeliveries(ctx, "w1", base.Add(-time.Second), time.Minute, 10); err != nil || len(got) != 0 {
		t.Fatalf("ClaimDeliveries(before due) = %v, %v; want none", got, err)
	}
	at := base.Add(2 * time.Second)
	// Busy subscribers are left out.
	if got, err := s.ClaimDeliveries(ctx, "w0", at, time.Minute, 10, created.ID, all.ID); err != nil || len(got) != 0 {
		t.Fatalf("ClaimDeliveries(skipping both subscriptions) = %v, %v; want none", got, err)
	}
	got, err := s.ClaimDeliveries(ctx, "w1", at, time.Minute, 10)
	if err != nil {
		t.Fatalf("ClaimDeliveries = %v", err)
	}
	// e1 goes to both subscriptions, e2 only to the catch-all one.
	type key struct {
		sub string
		seq int64
	}
	var keys []key
	for _, d := range got {
		keys = append(keys, key{d.SubscriptionID, d.EventSeq})
		if d.State != store.DeliveryPending || d.Attempts != 0 || d.EventID == "" {
			t.Errorf("claimed delivery %+v, want pending with no attempts and an event id", d)
		}
		wantSub := all
		if d.SubscriptionID == created.ID {
			wantSub = created
		}
		if d.URL != wantSub.URL || string(d.SealedSecret) != string(wantSub.SealedSecret) {
			t.Errorf("claimed delivery carries URL %q, secret %q; want the subscription's", d.URL, d.SealedSecret)
		}
		if wantBody := `{"k":"d` + fmt.Sprint(d.EventSeq) + `"}`; string(d.EventBody) != wantBody {
			t.Errorf("claimed delivery body %s, want %s", d.EventBody, wantBody)
		}
	}
	wantKeys := []key{{created.ID, 1}, {all.ID, 1}, {all.ID, 2}}
	sortKeys := func(a, b key) int {
		if a.seq != b.seq {
			return int(a.seq - b.seq)
		}
		return cmpString(a.sub, b.sub)
	}
	slices.SortFunc(keys, sortKeys)
	slices.SortFunc(wantKeys, sortKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("claimed %v, want %v", keys, wantKeys)
	}
	byKey := map[key]*store.Delivery{}
	for _, d := range got {
		byKey[key{d.SubscriptionID, d.EventSeq}] = d
	}

	// Leased: another worker gets nothing until the lease ends.
	if again, err := s.ClaimDeliveries(ctx, "w2", at.Add(30*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
		t.Fatalf("ClaimDeliveries(while leased) = %v, %v; want none", again, err)
	}
	// Delivered: never claimed again.
	d := byKey[key{created.ID, 1}]
	if err := s.FinishDelivery(ctx, store.DeliveryResult{ID: d.ID, Owner: "w2", State: store.DeliveryDelivered}); err == nil {
		t.Errorf("FinishDelivery(not the owner) = nil, want ErrNotFound")
	}
	if err := s.FinishDelivery(ctx, store.DeliveryResult{ID: d.ID, Owner: "w1", State: store.DeliveryDelivered}); err != nil {
		t.Fatalf("FinishDelivery(delivered) = %v", err)
	}
	// Retry later: not due before its time.
	r := byKey[key{all.ID, 1}]
	retryAt := at.Add(10 * time.Minute)
	if err := s.FinishDelivery(ctx, store.DeliveryResult{ID: r.ID, Owner: "w1", State: store.DeliveryPending,
		NextAttemptAt: retryAt, LastError: "HTTP 503"}); err != nil {
		t.Fatalf("FinishDelivery(retry) = %v", err)
	}
	// The third delivery's worker "crashed": its lease ends and w2 takes it.
	lost := byKey[key{all.ID, 2}]
	taken, err := s.ClaimDeliveries(ctx, "w2", at.Add(2*time.Minute), time.Minute, 10)
	if err != nil || len(taken) != 1 || taken[0].ID != lost.ID {
		t.Fatalf("ClaimDeliveries(after lease end) = %v, %v; want the crashed worker's delivery", taken, err)
	}
	wantErr(t, "FinishDelivery(lease taken over)",
		s.FinishDelivery(ctx, store.DeliveryResult{ID: lost.ID, Owner: "w1", State: store.DeliveryDelivered}), store.ErrNotFound)
	if err := s.FinishDelivery(ctx, store.DeliveryResult{ID: lost.ID, Owner: "w2", State: store.DeliveryFailed, LastError: "gave up"}); err != nil {
		t.Fatalf("FinishDelivery(failed) = %v", err)
	}
	retried, err := s.ClaimDeliveries(ctx, "w3", retryAt, time.Minute, 10)
	if err != nil || len(retried) != 1 || retried[0].ID != r.ID || retried[0].Attempts != 1 || retried[0].LastError != "HTTP 503" {
		t.Fatalf("ClaimDeliveries(at retry time) = %+v, %v; want the retried delivery with 1 attempt", retried, err)
	}
	if err := s.FinishDelivery(ctx, store.DeliveryResult{ID: r.ID, Owner: "w3", State: store.DeliveryDelivered}); err != nil {
		t.Fatalf("FinishDelivery = %v", err)
	}

	list, err := s.ListDeliveries(ctx, all.ID, 0)
	if err != nil {
		t.Fatalf("ListDeliveries = %v", err)
	}
	states := map[int64]store.DeliveryState{}
	for _, d := range list {
		states[d.EventSeq] = d.State
	}
	if want := map[int64]store.DeliveryState{1: store.DeliveryDelivered, 2: store.DeliveryFailed}; !cmp.Equal(states, want) {
		t.Errorf("ListDeliveries states = %v, want %v", states, want)
	}
	n, err := s.RedeliverFailed(ctx, all.ID, retryAt)
	if err != nil || n != 1 {
		t.Fatalf("RedeliverFailed = %d, %v; want 1", n, err)
	}
	back, err := s.ClaimDeliveries(ctx, "w4", retryAt, time.Minute, 10)
	if err != nil || len(back) != 1 || back[0].ID != lost.ID || back[0].Attempts != 0 {
		t.Fatalf("ClaimDeliveries(after redeliver) = %+v, %v; want the failed delivery, attempts reset", back, err)
	}
	if err := s.FinishDelivery(ctx, store.DeliveryResult{ID: lost.ID, Owner: "w4", State: store.DeliveryDelivered}); err != nil {
		t.Fatalf("FinishDelivery = %v", err)
	}
	if err := s.FinishDelivery(ctx, store.DeliveryResult{ID: lost.ID, Owner: "w4", State: "bogus"}); err == nil {
		t.Errorf("FinishDelivery(invalid state) = nil, want an error")
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// testDeliveryClaimConcurrent has workers on two handles claim at once:
// every delivery is handed out exactly once. Its due times are in 1980.
func testDeliveryClaimConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	handles := []store.Store{open(t), open(t)}
	ctx := t.Context()
	tn := newTenant(t, handles[0])
	c := newConnection(t, handles[0], tn.ID)
	newSubscription(t, handles[0], tn.ID, c.ID)
	base := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 40
	var evs []*store.Event
	for i := range n {
		e := newEvent(c.ID, fmt.Sprintf("c%d", i), "ticket.updated")
		e.ReceivedAt = base
		evs = append(evs, e)
	}
	if _, err := handles[0].AppendEvents(ctx, evs); err != nil {
		t.Fatalf("AppendEvents = %v", err)
	}
	var mu sync.Mutex
	claimed := map[int64]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			owner := fmt.Sprintf("w%d", w)
			for {
				got, err := handles[w%2].ClaimDeliveries(ctx, owner, base.Add(time.Second), time.Hour, 3)
				if err != nil {
					t.Errorf("ClaimDeliveries = %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					if prev, ok := claimed[d.ID]; ok {
						t.Errorf("delivery %d claimed by %s and %s", d.ID, prev, owner)
					}
					claimed[d.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != n {
		t.Errorf("claimed %d deliveries, want %d", len(claimed), n)
	}
}

func testCursors(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	c := newConnection(t, s, tn.ID)
	if v, err := s.GetCursor(ctx, c.ID, "tickets"); err != nil || v != "" {
		t.Errorf("GetCursor(unset) = %q, %v; want empty", v, err)
	}
	for _, v := range []string{"2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"} {
		if err := s.SetCursor(ctx, c.ID, "tickets", v); err != nil {
			t.Fatalf("SetCursor = %v", err)
		}
		if got, err := s.GetCursor(ctx, c.ID, "tickets"); err != nil || got != v {
			t.Errorf("GetCursor = %q, %v; want %q", got, err, v)
		}
	}
	if v, err := s.GetCursor(ctx, c.ID, "contacts"); err != nil || v != "" {
		t.Errorf("GetCursor(other name) = %q, %v; want empty", v, err)
	}
	wantErr(t, "SetCursor(unknown connection)", s.SetCursor(ctx, uniq("conn"), "tickets", "x"), store.ErrNotFound)
}

func testEventSources(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	c, c2 := newConnection(t, s, tn.ID), newConnection(t, s, tn.ID)
	c.OrgID, c.DeskBaseURL = "2389290", "https://desk.zoho.eu/api/v1"
	if err := s.UpdateConnection(ctx, c); err != nil {
		t.Fatalf("UpdateConnection = %v", err)
	}
	_, err := s.GetEventSource(ctx, c.ID)
	wantErr(t, "GetEventSource(none)", err, store.ErrNotFound)
	src := &store.EventSource{ConnectionID: c.ID, TenantID: tn.ID, Mode: store.SourceWebhook, TokenHash: hash(uniq("tok")), WebhookID: "4000000012345",
		LastEventAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	if err := s.PutEventSource(ctx, src); err != nil {
		t.Fatalf("PutEventSource = %v", err)
	}
	got, err := s.GetEventSource(ctx, c.ID)
	if err != nil {
		t.Fatalf("GetEventSource = %v", err)
	}
	if diff := cmp.Diff(src, got); diff != "" {
		t.Errorf("GetEventSource mismatch (-want +got):\n%s", diff)
	}
	// By token, with the connection's organisation and data centre.
	if got, err := s.GetEventSourceByToken(ctx, src.TokenHash); err != nil || got.ConnectionID != c.ID ||
		got.OrgID != c.OrgID || got.DeskBaseURL != c.DeskBaseURL {
		t.Errorf("GetEventSourceByToken = %+v, %v; want connection %s with org %s at %s", got, err, c.ID, c.OrgID, c.DeskBaseURL)
	}
	_, err = s.GetEventSourceByToken(ctx, hash(uniq("tok")))
	wantErr(t, "GetEventSourceByToken(unknown)", err, store.ErrNotFound)
	_, err = s.GetEventSourceByToken(ctx, nil)
	wantErr(t, "GetEventSourceByToken(nil)", err, store.ErrNotFound)
	wantErr(t, "PutEventSource(token of another connection)",
		s.PutEventSource(ctx, &store.EventSource{ConnectionID: c2.ID, TenantID: tn.ID, Mode: store.SourceWebhook, TokenHash: src.TokenHash}), store.ErrConflict)
	wantErr(t, "PutEventSource(unknown connection)",
		s.PutEventSource(ctx, &store.EventSource{ConnectionID: uniq("conn"), TenantID: tn.ID, Mode: store.SourcePolling}), store.ErrNotFound)
	// Replace: switch to polling, drop the token.
	poll := &store.EventSource{ConnectionID: c.ID, TenantID: tn.ID, Mode: store.SourcePolling, LastError: "edition has no webhooks"}
	if err := s.PutEventSource(ctx, poll); err != nil {
		t.Fatalf("PutEventSource(replace) = %v", err)
	}
	if got, err := s.GetEventSource(ctx, c.ID); err != nil || got.Mode != store.SourcePolling || got.TokenHash != nil || got.LastError != poll.LastError {
		t.Errorf("GetEventSource(replaced) = %+v, %v", got, err)
	}
	touched := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := s.TouchEventSource(ctx, c.ID, touched); err != nil {
		t.Fatalf("TouchEventSource = %v", err)
	}
	if got, err := s.GetEventSource(ctx, c.ID); err != nil || !got.LastEventAt.Equal(touched) || got.Mode != store.SourcePolling || got.LastError != poll.LastError {
		t.Errorf("after TouchEventSource: %+v, %v; want only LastEventAt changed", got, err)
	}
	if err := s.TouchEventSource(ctx, uniq("conn"), touched); err != nil {
		t.Errorf("TouchEventSource(no source) = %v, want nil", err)
	}
	if err := s.PutEventSource(ctx, &store.EventSource{ConnectionID: c2.ID, TenantID: tn.ID, Mode: store.SourceOff}); err != nil {
		t.Fatalf("PutEventSource = %v", err)
	}
	polling, err := s.ListEventSources(ctx, store.SourcePolling)
	if err != nil {
		t.Fatalf("ListEventSources = %v", err)
	}
	var mine []string
	for _, p := range polling {
		if p.Mode != store.SourcePolling {
			t.Errorf("ListEventSources(polling) returned mode %s", p.Mode)
		}
		if p.ConnectionID == c.ID || p.ConnectionID == c2.ID {
			mine = append(mine, p.ConnectionID)
		}
	}
	if !slices.Equal(mine, []string{c.ID}) {
		t.Errorf("ListEventSources(polling) has %v of ours, want [%s]", mine, c.ID)
	}
}

func testLeases(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	name := uniq("poll")
	at := time.Now()
	try := func(owner string, at time.Time, want bool) {
		t.Helper()
		got, err := s.TryLease(ctx, name, owner, at, time.Minute)
		if err != nil || got != want {
			t.Errorf("TryLease(%s, +%v) = %v, %v; want %v", owner, at.Sub(time.Time{}), got, err, want)
		}
	}
	try("a", at, true)
	try("b", at.Add(time.Second), false)
	try("a", at.Add(50*time.Second), true) // renewal: now held until +110s
	try("b", at.Add(90*time.Second), false)
	try("b", at.Add(111*time.Second), true) // a crashed: its lease expired
	if err := s.ReleaseLease(ctx, name, "a"); err != nil {
		t.Fatalf("ReleaseLease(not the owner) = %v", err)
	}
	try("a", at.Add(112*time.Second), false)
	if err := s.ReleaseLease(ctx, name, "b"); err != nil {
		t.Fatalf("ReleaseLease = %v", err)
	}
	try("a", at.Add(113*time.Second), true)
}

func testLeaseConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	handles := []store.Store{open(t), open(t)}
	name := uniq("poll")
	at := time.Now()
	var wins sync.Map
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			ok, err := handles[w%2].TryLease(t.Context(), name, fmt.Sprintf("r%d", w), at, time.Minute)
			if err != nil {
				t.Errorf("TryLease = %v", err)
			}
			if ok {
				wins.Store(w, true)
			}
		})
	}
	wg.Wait()
	var n int
	wins.Range(func(_, _ any) bool { n++; return true })
	if n != 1 {
		t.Errorf("%d replicas hold the lease, want exactly 1", n)
	}
}

func testEventCascade(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tn := newTenant(t, s)
	c := newConnection(t, s, tn.ID)
	sub := newSubscription(t, s, tn.ID, c.ID)
	if _, err := s.AppendEvents(ctx, []*store.Event{newEvent(c.ID, "x", "ticket.created")}); err != nil {
		t.Fatalf("AppendEvents = %v", err)
	}
	if err := s.SetCursor(ctx, c.ID, "tickets", "v"); err != nil {
		t.Fatalf("SetCursor = %v", err)
	}
	if err := s.PutEventSource(ctx, &store.EventSource{ConnectionID: c.ID, TenantID: tn.ID, Mode: store.SourcePolling}); err != nil {
		t.Fatalf("PutEventSource = %v", err)
	}
	if err := s.DeleteConnection(ctx, tn.ID, c.ID); err != nil {
		t.Fatalf("DeleteConnection = %v", err)
	}
	if evs, err := s.ListEvents(ctx, store.EventFilter{ConnectionID: c.ID}); err != nil || len(evs) != 0 {
		t.Errorf("ListEvents(deleted connection) = %v, %v; want none", evs, err)
	}
	_, err := s.GetSubscription(ctx, tn.ID, sub.ID)
	wantErr(t, "GetSubscription(deleted connection)", err, store.ErrNotFound)
	_, err = s.GetEventSource(ctx, c.ID)
	wantErr(t, "GetEventSource(deleted connection)", err, store.ErrNotFound)
	if ds, err := s.ListDeliveries(ctx, sub.ID, 0); err != nil || len(ds) != 0 {
		t.Errorf("ListDeliveries(deleted connection) = %v, %v; want none", ds, err)
	}
}
