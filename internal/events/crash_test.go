package events

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/sqlite"
)

// TestHelperAppendEvents is not a test: run as a child process (see
// TestAppendSurvivesKill), it appends events to the log in the database
// named by DESKCONN_HELPER_DB, one per commit, and prints each source key
// once Append has returned, as a receiver acknowledges Zoho only then.
func TestHelperAppendEvents(t *testing.T) {
	path := os.Getenv("DESKCONN_HELPER_DB")
	if path == "" {
		t.Skip("helper process only")
	}
	start, _ := strconv.Atoi(os.Getenv("DESKCONN_HELPER_START"))
	conn := os.Getenv("DESKCONN_HELPER_CONN")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := &Log{Store: s}
	out := bufio.NewWriter(os.Stdout)
	for i := start; ; i++ {
		n, err := Normalise(conn, ZohoEvent{EventType: "Ticket_Add", Payload: json.RawMessage(fmt.Sprintf(`{"id":"%d"}`, i))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(context.Background(), conn, []*Normalised{n}); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(out, n.SourceKey)
		out.Flush()
	}
}

// A process killed (SIGKILL) while appending loses no acknowledged event,
// and the log keeps a cursor without gaps or repeats across restarts.
func TestAppendSurvivesKill(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "deskconn.db")
	st := newTestStoreAt(t, path)
	const trials = 5
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	var acked []string
	for trial := range trials {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperAppendEvents$")
		cmd.Env = append(os.Environ(), "DESKCONN_HELPER_DB="+path, "DESKCONN_HELPER_CONN="+st.conn.ID,
			"DESKCONN_HELPER_START="+strconv.Itoa(trial*100000))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		want := 1 + rng.IntN(40)
		for got := 0; got < want && sc.Scan(); got++ {
			acked = append(acked, sc.Text())
		}
		_ = cmd.Process.Kill() // SIGKILL, possibly mid-commit
		_ = cmd.Wait()
	}
	evs, err := st.ListEvents(t.Context(), store.EventFilter{ConnectionID: st.conn.ID, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has cursor %d: a gap or repeat", i, e.Seq)
		}
		if have[e.SourceKey] {
			t.Fatalf("event %s stored twice", e.SourceKey)
		}
		have[e.SourceKey] = true
	}
	for _, k := range acked {
		if !have[k] {
			t.Errorf("acknowledged event %s was lost", k)
		}
	}
	if len(acked) < trials {
		t.Fatalf("only %d events acknowledged in %d runs", len(acked), trials)
	}
}
