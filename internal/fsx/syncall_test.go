package fsx

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// A sync batch of the real file system syncs what it is given, one by one for
// a few and with one syncfs for many, and fails on what is not there
// rather than reporting a sync that did not happen.
func TestOSSyncAll(t *testing.T) {
	for _, n := range []int{1, syncfsAtLeast - 1, syncfsAtLeast, 3 * syncfsAtLeast} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			var files []string
			for i := range n {
				path := filepath.Join(dir, fmt.Sprint(i))
				if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, path)
			}
			b, err := (OS{}).BeginSync(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if err := b.Sync(files, []string{dir}); err != nil {
				t.Fatal(err)
			}
			missing := append(files[:n:n], filepath.Join(dir, "missing"))
			if err := b.Sync(missing, []string{dir}); err == nil {
				t.Fatal("a missing file was reported synced")
			}
		})
	}
}
