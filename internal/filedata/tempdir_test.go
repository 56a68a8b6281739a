//go:build unix

package filedata

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestHelperTempDirKilled is not a test: run as a child process by
// TestTempDirSweepsKilledProcesses, it makes its temporary directory under
// DESKCONN_HELPER_TEMP_ROOT, a file in it, prints the file's path, and
// kills itself with SIGKILL, as a crash would end it.
func TestHelperTempDirKilled(t *testing.T) {
	root := os.Getenv("DESKCONN_HELPER_TEMP_ROOT")
	if root == "" {
		t.Skip("helper process only")
	}
	d, err := openTempDir(root)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(d.path, "deskconn-spool-*")
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString(f.Name() + "\n")
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// What a killed process left is swept when a process next makes its
// temporary directory; the directory of a live process is kept.
func TestTempDirSweepsKilledProcesses(t *testing.T) {
	t.Parallel()
	root := t.TempDir()

	live, err := openTempDir(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.close() })
	liveFile := filepath.Join(live.path, "in-use")
	if err := os.WriteFile(liveFile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperTempDirKilled$")
	cmd.Env = append(os.Environ(), "DESKCONN_HELPER_TEMP_ROOT="+root)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper: %v (want killed by SIGKILL); output %q", err, out)
	}
	left := strings.TrimSpace(string(out))
	if _, err := os.Stat(left); err != nil {
		t.Fatalf("the killed process's file %q should be there before the sweep: %v", left, err)
	}
	// A directory whose lock file is gone is abandoned too.
	orphan := filepath.Join(root, "p-orphan")
	if err := os.Mkdir(orphan, 0o700); err != nil {
		t.Fatal(err)
	}

	next, err := openTempDir(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { next.close() })

	for _, p := range []string{left, filepath.Dir(left), filepath.Dir(left) + ".lock", orphan} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s should have been swept (stat: %v)", p, err)
		}
	}
	for _, p := range []string{liveFile, live.lock.Name(), next.path, next.lock.Name()} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s of a live process was swept: %v", p, err)
		}
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 4 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("root holds %v, want the two live directories and their locks", names)
	}
}

// CreateTemp with no directory puts files in this process's own directory.
func TestCreateTempInProcessDir(t *testing.T) {
	f, err := CreateTemp("", "deskconn-test-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	f.Close()
	dir := filepath.Dir(f.Name())
	if !strings.HasPrefix(filepath.Base(dir), "p-") {
		t.Fatalf("file %s is not in a process directory", f.Name())
	}
	if _, err := os.Stat(dir + ".lock"); err != nil {
		t.Fatalf("the process directory has no lock file: %v", err)
	}
}
