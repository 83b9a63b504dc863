// Package version names the build of pledgestat, for manifests and
// `pledgestat --version`.
package version

import (
	"debug/elf"
	"os"
	"runtime/debug"
)

// Release is the release number of this source tree.
const Release = "0.1.0"

// String returns the release and, when the binary was built from a git
// checkout, the commit: "0.1.0 (a1b2c3d)".
func String() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return Release
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 7 {
		rev = rev[:7]
	}
	switch {
	case rev == "":
		return Release
	case dirty:
		return Release + " (" + rev + "+changes)"
	}
	return Release + " (" + rev + ")"
}

// BuildID is the Go build ID of the running executable, as `go tool
// buildid` prints it: two binaries built from different code, or with
// different data embedded, have different ones whatever Release and the
// commit say (a build from a tarball, or from a checkout with changes, is
// "0.1.0" or "0.1.0 (rev+changes)" whatever the changes). It is "" when it
// cannot be read: an executable that is not ELF, or is gone.
func BuildID() string {
	path, err := os.Executable()
	if err != nil {
		return ""
	}
	return readBuildID(path)
}

// readBuildID reads the Go build ID from an ELF file's .note.go.buildid
// section: a note (name size, description size, type, the name "Go"
// padded to 4 bytes) whose description is the ID.
func readBuildID(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := f.Section(".note.go.buildid")
	if s == nil {
		return ""
	}
	data, err := s.Data()
	if err != nil || len(data) < 12 {
		return ""
	}
	namesz, descsz := f.ByteOrder.Uint32(data[0:]), f.ByteOrder.Uint32(data[4:])
	from := 12 + (uint64(namesz)+3)&^3
	if from+uint64(descsz) > uint64(len(data)) {
		return ""
	}
	return string(data[from : from+uint64(descsz)])
}
