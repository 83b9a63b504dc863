package fsx

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// NotRegularError is returned for a path that names something other than a
// regular file: a named pipe, a device, a socket, a folder, or a symbolic
// link where links are not followed. Reading such a thing could block
// forever or leave the workspace.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, Kind(e.Mode))
}

// Kind names what a file mode describes, for messages.
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a file"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// OpenRegular opens a regular file for reading. It never blocks (a named
// pipe is refused, not waited on) and, with noFollow, refuses a symbolic
// link as the last part of the path, so what is read is the file itself.
// It returns the open file and the status of what was opened: compare it
// with an earlier listing to know the path still names the same file.
func OpenRegular(path string, noFollow bool) (*os.File, fs.FileInfo, error) {
	f, err := openNoBlock(path, noFollow)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &NotRegularError{Path: path, Mode: st.Mode()}
	}
	return f, st, nil
}

// TooBigError is returned by ReadRegular for a file over its limit.
type TooBigError struct {
	Path  string
	Limit int64
}

func (e *TooBigError) Error() string {
	return fmt.Sprintf("%s is larger than %d bytes", e.Path, e.Limit)
}

// ReadRegular reads a whole regular file of at most limit bytes, following
// symbolic links but never blocking on a named pipe or a device.
func ReadRegular(path string, limit int64) ([]byte, error) {
	f, st, err := OpenRegular(path, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > limit {
		return nil, &TooBigError{Path: path, Limit: limit}
	}
	// Sized from the file, so that a large ledger is read in one go
	// rather than by a buffer doubling from 512 bytes; a file that grows
	// meanwhile is read on to the limit.
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()+512))
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	data := buf.Bytes()
	if int64(len(data)) > limit {
		return nil, &TooBigError{Path: path, Limit: limit}
	}
	return data, nil
}
