package filedata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Temporary files (spooled base64 values, uploads of unknown size) live in
// a directory of their own per process, so that what a killed process
// leaves behind can be told from what a live one is using:
//
//	$TMPDIR/deskconn-<uid>/p-<random>.lock   held (flock) while the process lives
//	$TMPDIR/deskconn-<uid>/p-<random>/       its temporary files
//
// The operating system releases a process's locks when it ends, however
// it ends (kill -9 included). When a process first needs a temporary file
// it sweeps: every directory whose lock it can take, or that has no lock
// file, belonged to a process that is gone and is removed with its files.
// A lock file is always created and locked before its directory, and
// removed after it, so a live process's directory is never swept.

var procTemp struct {
	once sync.Once
	dir  *tempDir
	err  error
}

// CreateTemp creates a temporary file as os.CreateTemp does. With dir ""
// the file is made in this process's own temporary directory (created on
// first use, after sweeping what killed processes left), so that a crash
// never strands it for good. The caller removes the file when done.
func CreateTemp(dir, pattern string) (*os.File, error) {
	if dir == "" {
		procTemp.once.Do(func() {
			procTemp.dir, procTemp.err = openTempDir(filepath.Join(os.TempDir(), "deskconn-"+strconv.Itoa(os.Getuid())))
		})
		if procTemp.err != nil {
			return nil, procTemp.err
		}
		dir = procTemp.dir.path
	}
	return os.CreateTemp(dir, pattern)
}

// tempDir is one process's directory under root, and the open lock file
// that marks it alive.
type tempDir struct {
	path string
	lock *os.File
}

// openTempDir sweeps root of directories left by processes that are gone,
// then makes and locks a directory of this process's own.
func openTempDir(root string) (*tempDir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("temporary directory: %s is not a directory", root)
	}
	sweepTemp(root)
	for range 3 {
		lock, err := os.CreateTemp(root, "p-*.lock")
		if err != nil {
			return nil, fmt.Errorf("temporary directory: %w", err)
		}
		ok, err := tryLock(lock)
		if err != nil {
			lock.Close()
			return nil, fmt.Errorf("temporary directory: lock: %w", err)
		}
		// A sweeper may have taken the fresh lock file for an abandoned
		// one and removed it between its creation and the lock: then the
		// file locked here is no longer the one at the path. Start again.
		if !ok || !stillAt(lock) {
			lock.Close()
			continue
		}
		path := strings.TrimSuffix(lock.Name(), ".lock")
		if err := os.Mkdir(path, 0o700); err != nil {
			os.Remove(lock.Name())
			lock.Close()
			return nil, fmt.Errorf("temporary directory: %w", err)
		}
		return &tempDir{path: path, lock: lock}, nil
	}
	return nil, errors.New("temporary directory: could not lock a directory of this process's own")
}

// close removes the directory and its files, then its lock file.
func (d *tempDir) close() error {
	err := os.RemoveAll(d.path)
	if rerr := os.Remove(d.lock.Name()); err == nil {
		err = rerr
	}
	d.lock.Close()
	return err
}

// sweepTemp removes from root what processes that are gone left behind.
// It never fails: what it cannot remove stays for the next sweep.
func sweepTemp(root string) {
	if !canLock {
		return
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	locks := map[string]bool{}
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".lock"); ok && strings.HasPrefix(name, "p-") && !e.IsDir() {
			locks[name] = true
		}
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir() && strings.HasPrefix(name, "p-") && !locks[name]:
			// Its lock file is gone: a sweeper removed the lock after
			// failing to remove all of the directory.
			os.RemoveAll(filepath.Join(root, name))
		case locks[strings.TrimSuffix(name, ".lock")] && strings.HasSuffix(name, ".lock"):
			sweepOne(root, strings.TrimSuffix(name, ".lock"))
		}
	}
}

// sweepOne removes root/name and its lock file if no live process holds
// the lock.
func sweepOne(root, name string) {
	lock, err := os.OpenFile(filepath.Join(root, name+".lock"), os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer lock.Close()
	if ok, err := tryLock(lock); err != nil || !ok || !stillAt(lock) {
		return
	}
	if os.RemoveAll(filepath.Join(root, name)) == nil {
		os.Remove(lock.Name())
	}
}

// stillAt reports whether f is still the file at its path.
func stillAt(f *os.File) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(f.Name())
	return err == nil && os.SameFile(a, b)
}
