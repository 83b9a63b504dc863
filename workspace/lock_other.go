//go:build !unix && !windows

package workspace

import (
	"errors"
	"os"
	"runtime"
)

// errWouldBlock is what lockFile returns when another process holds the
// lock.
var errWouldBlock = errors.New("the lock is held by another process")

// Without a file lock the kernel releases when its holder dies, two runs
// could share a workspace: pledgestat refuses to run here rather than
// risk it.
var errNoLocks = errors.New("pledgestat needs file locks, which " + runtime.GOOS + " does not offer")

func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}

func lockFile(*os.File) error { return errNoLocks }

func unlockFile(*os.File) {}

func lockIsFree(*os.File) (bool, error) { return false, errNoLocks }

func processAlive(int) bool { return false }
