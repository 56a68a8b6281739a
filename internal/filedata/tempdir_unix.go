//go:build unix

package filedata

import (
	"errors"
	"os"
	"syscall"
)

// canLock says that sweeping can tell live directories from abandoned ones.
const canLock = true

// tryLock takes an exclusive flock on f without waiting: false when another
// open file (of this process or another) holds it. The lock ends with the
// process.
func tryLock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
