// Package version names the build of pledgestat, for manifests and
// `pledgestat --version`.
package version

import "runtime/debug"

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
