//go:build linux

package fsx

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// syncfs makes the files and directories durable with one syncfs(2) of the
// file system that holds them, when they all are on one and the kernel
// reports write-back errors to syncfs (Linux 5.8 on: before, the data of a
// file that failed to reach the disk could go unreported). done is false
// when it was not used, and the caller syncs each.
//
// An error is reported to a descriptor opened after it happened as long
// as nobody has seen it yet (the kernel's errseq), so the descriptor
// opened here after the files were written still hears of theirs; another
// process's syncfs of the same file system in between could take it, as
// it could take a file's from a reopened descriptor.
func syncfs(files, dirs []string) (done bool, err error) {
	if !syncfsReportsErrors() {
		return false, nil
	}
	var first string
	switch {
	case len(dirs) > 0:
		first = dirs[0]
	case len(files) > 0:
		first = filepath.Dir(files[0])
	default:
		return true, nil
	}
	d, err := os.Open(first)
	if err != nil {
		return false, nil
	}
	defer d.Close()
	var fsys unix.Stat_t
	if err := unix.Fstat(int(d.Fd()), &fsys); err != nil {
		return false, nil
	}
	for _, list := range [][]string{files, dirs} {
		for _, path := range list {
			var st unix.Stat_t
			if err := unix.Lstat(path, &st); err != nil || st.Dev != fsys.Dev {
				return false, nil // another file system (a mount inside), or gone: each is synced, or fails, alone
			}
		}
	}
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return true, fmt.Errorf("syncfs %s: %w", first, err)
	}
	return true, nil
}

func syncfsReportsErrors() bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	return kernelAtLeast(unix.ByteSliceToString(u.Release[:]), 5, 8)
}

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
