//go:build aix

package workspace

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// AIX has no flock: POSIX record locks (fcntl), which the kernel also
// releases when the holder dies, but which belong to the process, not
// the open file.

var errWouldBlock = unix.EAGAIN

func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o644)
}

func lockFile(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
	if err == unix.EACCES {
		return errWouldBlock
	}
	return err
}

func unlockFile(f *os.File) {
	lk := unix.Flock_t{Type: unix.F_UNLCK}
	unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
}

func lockIsFree(f *os.File) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
		return false, err
	}
	return lk.Type == unix.F_UNLCK, nil
}

func processAlive(pid int) bool {
	return unix.Kill(pid, 0) == nil
}
