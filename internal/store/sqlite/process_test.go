package sqlite

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestHelperHoldLock is not a test: run as a child process (see
// startHolder), it takes the refresh lock of conn_proc in the database named
// by DESKCONN_HELPER_DB, prints "locked", and holds the lock until its stdin
// closes.
func TestHelperHoldLock(t *testing.T) {
	path := os.Getenv("DESKCONN_HELPER_DB")
	if path == "" {
		t.Skip("helper process only")
	}
	s, err := Open(context.Background(), path, WithLockLease(500*time.Millisecond))
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

// startHolder starts a child process holding conn_proc's lock and returns
// once it holds it.
func startHolder(t *testing.T, path string) (*exec.Cmd, func()) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), "DESKCONN_HELPER_DB="+path)
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

// Another process holding the lock excludes this one until it releases.
func TestRefreshLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "deskconn.db")
	s := openAt(t, path)
	cmd, release := startHolder(t, path)

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	err := s.WithRefreshLock(ctx, "conn_proc", func(context.Context) error { return errors.New("overlap with the other process") })
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WithRefreshLock while another process holds it = %v, want DeadlineExceeded", err)
	}
	release()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v", err)
	}
	ran := false
	if err := s.WithRefreshLock(t.Context(), "conn_proc", func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("WithRefreshLock after the other process released = %v (ran %v)", err, ran)
	}
}

// A process killed while holding the lock blocks others only until its
// lease expires.
func TestRefreshLockCrashedProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "deskconn.db")
	s := openAt(t, path)
	cmd, _ := startHolder(t, path)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	ran := false
	if err := s.WithRefreshLock(ctx, "conn_proc", func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("WithRefreshLock after the holder crashed = %v (ran %v)", err, ran)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("waited %v for a crashed holder's 500ms lease", waited)
	}
}
