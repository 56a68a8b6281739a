package sqlite

import (
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/deskconn/deskconn/internal/store"
)

// BenchmarkAppendAudit: the audit record of a successful write (with its
// write mark), as create_ticket appends it after Zoho answers.
func BenchmarkAppendAudit(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "deskconn.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	i := 0
	for b.Loop() {
		i++
		r := &store.AuditRecord{TenantID: "ten_1", ConnectionID: "conn_1", Action: "create_ticket", Outcome: "ok",
			Detail: "ticket " + strconv.Itoa(i) + " created", Writes: []store.WriteMark{{Key: "ticket/" + strconv.Itoa(i)}}}
		if err := s.AppendAudit(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendAuditConcurrent: the same records appended by eight
// writers at once, as a burst of writes through the REST API or MCP
// appends them; concurrent appends share transactions (group commit), so
// the time per record falls below BenchmarkAppendAudit's.
func BenchmarkAppendAuditConcurrent(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "deskconn.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n atomic.Int64
	b.SetParallelism(4) // 8 writers on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := strconv.FormatInt(n.Add(1), 10)
			r := &store.AuditRecord{TenantID: "ten_1", ConnectionID: "conn_1", Action: "create_ticket", Outcome: "ok",
				Detail: "ticket " + i + " created", Writes: []store.WriteMark{{Key: "ticket/" + i}}}
			if err := s.AppendAudit(b.Context(), r); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
