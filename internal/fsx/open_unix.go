//go:build unix

package fsx

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// openNoBlock opens path for reading without blocking on a named pipe
// and, with noFollow, without following a symbolic link as the last part
// of the path (the kernel refuses it: O_NOFOLLOW).
func openNoBlock(path string, noFollow bool) (*os.File, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK
	if noFollow {
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil && noFollow {
		if pe, ok := err.(*fs.PathError); ok && pe.Err == syscall.ELOOP {
			return nil, &NotRegularError{Path: path, Mode: fs.ModeSymlink}
		}
	}
	return f, err
}

// inode is a file's identity on its file system; 0 when unknown.
func inode(path string) uint64 {
	info, err := os.Lstat(path)
	if err != nil {
		return 0
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// crossDevice reports whether a rename failed because source and target
// are on different file systems.
func crossDevice(err error) bool { return errors.Is(err, syscall.EXDEV) }
