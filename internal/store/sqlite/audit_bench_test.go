package sqlite

import (
	"path/filepath"
	"strconv"
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
