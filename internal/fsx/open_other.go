//go:build !unix

package fsx

import (
	"io/fs"
	"os"
)

// openNoBlock opens path for reading. Without O_NOFOLLOW, a link as the
// last part of the path is refused by looking first: a link swapped in
// between the look and the open is caught by the caller's comparison of
// what was opened with its listing. Named pipes of unix do not exist
// here.
func openNoBlock(path string, noFollow bool) (*os.File, error) {
	if noFollow {
		if info, err := os.Lstat(path); err == nil && info.Mode()&fs.ModeSymlink != 0 {
			return nil, &NotRegularError{Path: path, Mode: fs.ModeSymlink}
		}
	}
	return os.OpenFile(path, os.O_RDONLY, 0)
}

// inode is a file's identity on its file system; 0 (unknown) here, so
// Strict, a test tool, cannot tell directories apart on this system.
func inode(string) uint64 { return 0 }

// crossDevice reports whether a rename failed because source and target
// are on different file systems: not told apart here, so such a move
// fails with its error rather than being copied.
func crossDevice(error) bool { return false }
