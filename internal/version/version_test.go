package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The build ID read is the one `go tool buildid` prints for the running
// executable; a file that is not an executable has none.
func TestBuildIDIsTheExecutables(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no executable path here:", err)
	}
	id := BuildID()
	if id == "" {
		t.Skip("the executable is not ELF: no build ID is read")
	}
	if strings.Count(id, "/") < 1 {
		t.Errorf("build ID %q does not look like one", id)
	}
	if out, err := exec.Command("go", "tool", "buildid", exe).Output(); err == nil {
		if want := strings.TrimSpace(string(out)); id != want {
			t.Errorf("build ID %q, go tool buildid says %q", id, want)
		}
	}
	text := filepath.Join(t.TempDir(), "not-elf")
	os.WriteFile(text, []byte("not an executable"), 0o644)
	if got := readBuildID(text); got != "" {
		t.Errorf("a text file has the build ID %q", got)
	}
}
