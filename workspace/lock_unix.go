//go:build unix && !aix

package workspace

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// errWouldBlock is what lockFile returns when another process holds the
// lock.
var errWouldBlock = unix.EWOULDBLOCK

// openLockFile opens (creating) a lock file, never through a link and
// never blocking.
func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o644)
}

// lockFile takes an exclusive lock on f without waiting (flock: the
// kernel releases it when the holder dies).
func lockFile(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
}

// unlockFile releases the lock on f.
func unlockFile(f *os.File) {
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
}

// lockIsFree reports whether nobody holds the lock on f's file.
func lockIsFree(f *os.File) (bool, error) {
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		if err == unix.EWOULDBLOCK {
			return false, nil
		}
		return false, err
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return true, nil
}

// processAlive reports whether a process of this PID exists.
func processAlive(pid int) bool {
	return unix.Kill(pid, 0) == nil
}
