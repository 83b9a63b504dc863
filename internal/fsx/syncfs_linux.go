//go:build linux

package fsx

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// openSyncfs opens dir for syncfs(2), or returns nil where the kernel does
// not report every error to syncfs or dir cannot be opened: the files are
// then synced one by one. Linux reports a file's failed write-back to
// syncfs from 5.8 and a file system's own failure to sync (a journal
// commit) from 5.17; before, either could go unreported. An error is reported
// to the descriptor if it happens after the descriptor was opened, or
// before while nobody has seen it yet (the kernel's errseq); opened before
// the files are written, it hears of theirs.
func openSyncfs(dir string) *os.File {
	if !syncfsReportsErrors() {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	return d
}

// syncfs makes the files and directories durable with one syncfs(2) of
// fsys's file system, when they all are on it. done is false when it was
// not used (another file system, a mount inside, or a path gone), and the
// caller syncs each, which fails for a path gone.
func syncfs(fsys *os.File, files, dirs []string) (done bool, err error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(fsys.Fd()), &st); err != nil {
		return false, nil
	}
	for _, list := range [][]string{files, dirs} {
		for _, path := range list {
			var ps unix.Stat_t
			if err := unix.Lstat(path, &ps); err != nil || ps.Dev != st.Dev {
				return false, nil
			}
		}
	}
	if err := unix.Syncfs(int(fsys.Fd())); err != nil {
		return true, fmt.Errorf("syncfs %s: %w", fsys.Name(), err)
	}
	return true, nil
}

func syncfsReportsErrors() bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	return syncfsKernel(unix.ByteSliceToString(u.Release[:]))
}

// syncfsKernel reports whether a kernel release reports every error to
// syncfs: a file's failed write-back from 5.8, a file system's own failure
// to sync from 5.17.
func syncfsKernel(release string) bool { return kernelAtLeast(release, 5, 17) }

// kernelAtLeast reports whether a kernel release ("6.1.0-18-amd64") is at
// least major.minor; false for one it cannot read.
func kernelAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err := strconv.Atoi(parts[0])
	if err != nil {
		return false
	}
	digits := strings.IndexFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
	if digits < 0 {
		digits = len(parts[1])
	}
	min, err := strconv.Atoi(parts[1][:digits])
	if err != nil {
		return false
	}
	return maj > major || maj == major && min >= minor
}
