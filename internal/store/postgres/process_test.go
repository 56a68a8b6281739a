package postgres

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/store/postgres/pgtest"
)

// TestHelperHoldLock is not a test: run as a child process (see
// startHolder), it takes the refresh lock of conn_proc in the database named
// by DESKCONN_HELPER_DSN, prints "locked", and holds the lock until its
// stdin closes.
func TestHelperHoldLock(t *testing.T) {
	dsn := os.Getenv("DESKCONN_HELPER_DSN")
	if dsn == "" {
		t.Skip("helper process only")
	}
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.WithRefreshLock(context.Background(), "conn_proc", func(context.Context) error {
		os.Stdout.WriteString("locked\n")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until stdin closes
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func startHolder(t *testing.T, dsn string) (*exec.Cmd, func()) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), "DESKCONN_HELPER_DSN="+dsn)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper process said %q, %v; want locked", line, err)
	}
	return cmd, func() { stdin.Close() }
}

// Another process holding the lock excludes this one until it releases; a
// process killed while holding it releases it with its session.
func TestRefreshLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t, "deskconn_test")
	s := openDSN(t, dsn)

	for _, crash := range []bool{false, true} {
		cmd, release := startHolder(t, dsn)
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		err := s.WithRefreshLock(ctx, "conn_proc", func(context.Context) error { return errors.New("overlap with the other process") })
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WithRefreshLock while another process holds it = %v, want DeadlineExceeded", err)
		}
		if crash {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
		} else {
			release()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("helper process: %v", err)
			}
		}
		ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
		ran := false
		err = s.WithRefreshLock(ctx, "conn_proc", func(context.Context) error { ran = true; return nil })
		cancel()
		if err != nil || !ran {
			t.Fatalf("crash %v: WithRefreshLock after the other process let go = %v (ran %v)", crash, err, ran)
		}
	}
}
