package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ministry/ratif.xlsx", "ministry/ratif.xlsx"},
		{"caf\xe9.csv", "caf%E9.csv"},
		{"\x1b]0;title\x07.csv", "%1B]0;title%07.csv"},
		{"a\nb.csv", "a%0Ab.csv"},
		{"x\u202egnp.csv", "x%E2%80%AEgnp.csv"},
		{"Côte d’Ivoire.xlsx", "Côte d’Ivoire.xlsx"},
	}
	for _, tt := range tests {
		if got := SafeName(tt.in); got != tt.want {
			t.Errorf("SafeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzStoredName: any inbox name becomes a stored name that is valid
// UTF-8, free of controls, short enough for any file system, keeps the
// run id in front, and can be created.
func FuzzStoredName(f *testing.F) {
	f.Add("ministry/ratif.xlsx")
	f.Add(strings.Repeat("é", 200) + ".xlsx")
	f.Add(strings.Repeat("dir/", 60) + "x.csv")
	f.Add("\xff\xfe\x00.csv")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, name string) {
		if name == "" || strings.ContainsRune(name, 0) {
			return
		}
		got := StoredName("20260101T000000Z", name)
		if !utf8.ValidString(got) || len(got) > maxStoredName || !strings.HasPrefix(got, "20260101T000000Z-") {
			t.Fatalf("StoredName(%q) = %q (%d bytes)", name, got, len(got))
		}
		for _, r := range got {
			if unsafeRune(r) || r == '/' {
				t.Fatalf("StoredName(%q) = %q holds %U", name, got, r)
			}
		}
		path := filepath.Join(dir, got)
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatalf("cannot create %q: %v", got, err)
		}
		os.Remove(path)
	})
}

// Two long names that differ only at their end stay apart.
func TestStoredNameKeepsLongNamesApart(t *testing.T) {
	a := StoredName("R", strings.Repeat("x", 300)+"-a.csv")
	b := StoredName("R", strings.Repeat("x", 300)+"-b.csv")
	if a == b || !strings.HasSuffix(a, ".csv") {
		t.Errorf("%q, %q", a, b)
	}
}
