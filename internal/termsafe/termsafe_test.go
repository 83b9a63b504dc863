package termsafe

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain café.xlsx", "plain café.xlsx"},
		{"\x1b[2J\x1b]0;pwned\x07", `\x1b[2J\x1b]0;pwned\x07`},
		{"\x1b]52;c;ZXZpbA==\x07", `\x1b]52;c;ZXZpbA==\x07`},
		{"a\nb\tc\rd", `a\x0ab\x09c\x0dd`},
		{"\u009b31m", `\u009b31m`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"bad\xffbyte", `bad\xffbyte`},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWriterKeepsLayoutAndJSON(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	doc, _ := json.Marshal(map[string]string{"name": "x\u009b\u202e\x1b"})
	w.Write([]byte("line\tone\n"))
	w.Write(doc)
	w.Flush()
	out := buf.String()
	if !strings.HasPrefix(out, "line\tone\n") {
		t.Errorf("layout lost: %q", out)
	}
	var back map[string]string
	if err := json.Unmarshal([]byte(strings.TrimPrefix(out, "line\tone\n")), &back); err != nil || back["name"] != "x\u009b\u202e\x1b" {
		t.Errorf("escaped JSON no longer decodes to the same value: %v %q", err, back)
	}
}

// FuzzWriter: whatever is written, in whatever pieces, no control byte
// but tab and newline, no C1 control and no bidirectional mark reaches
// the terminal.
func FuzzWriter(f *testing.F) {
	f.Add([]byte("\x1b[31mred\u009b\u202e"), 3)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		if split > 0 && split < len(data) {
			w.Write(data[:split])
			w.Write(data[split:])
		} else {
			w.Write(data)
		}
		w.Flush()
		out := buf.String()
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out: %q", out)
		}
		for _, r := range out {
			if unsafe(r) && r != '\n' && r != '\t' {
				t.Fatalf("%U reached the terminal: %q", r, out)
			}
		}
	})
}
