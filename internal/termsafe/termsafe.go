// Package termsafe makes text from users (file names, sheet names, cell
// values quoted in messages) safe to print to a terminal: control
// characters could clear the screen, retitle the window or write the
// clipboard (OSC 52), and bidirectional marks could make a name read as
// another. It escapes them visibly and leaves everything else alone.
package termsafe

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// unsafe reports whether r must not reach a terminal raw: C0 controls
// (but tab and newline, which Writer lets through for layout), DEL, C1
// controls, and the invisible marks that reorder or hide text.
func unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Text returns s with every control character, bidirectional mark and
// byte of invalid UTF-8 written as a visible escape (\x1b, \u202e, \xff).
// Tabs and newlines are escaped too: a name or value is one line.
func Text(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	appendEscaped(&b, s, false)
	return b.String()
}

func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return cleanSlow(s)
		}
	}
	return true
}

func cleanSlow(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unsafe(r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// appendEscaped writes s escaped. In stream mode (Writer) tabs and
// newlines pass, and controls are written \u00XX, which is also valid
// inside a JSON string; otherwise ASCII controls are written \xXX.
func appendEscaped(b *strings.Builder, s string, stream bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(b, `\x%02x`, s[i])
			size = 1
		case stream && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case !stream && r < 0x80 && unsafe(r):
			fmt.Fprintf(b, `\x%02x`, r)
		case unsafe(r):
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

// Writer escapes what is written to it as Text does, but lets tabs and
// newlines through: wrap a terminal's stdout or stderr with it so that no
// user text written by any path can drive the terminal. Escapes are
// written in the \u form JSON also accepts inside strings (except for
// invalid bytes, which JSON encoders never emit). A rune split across
// writes is held until it is complete.
type Writer struct {
	w       io.Writer
	pending []byte
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write escapes p and writes it; it reports len(p) on success.
func (t *Writer) Write(p []byte) (int, error) {
	data := p
	if len(t.pending) > 0 {
		data = append(t.pending, p...)
		t.pending = nil
	}
	// Hold back an incomplete rune at the end.
	cut := len(data)
	for i := 1; i <= utf8.UTFMax && i <= len(data); i++ {
		if utf8.RuneStart(data[len(data)-i]) {
			if !utf8.FullRune(data[len(data)-i:]) {
				cut = len(data) - i
			}
			break
		}
	}
	t.pending = append(t.pending, data[cut:]...)
	var b strings.Builder
	appendEscaped(&b, string(data[:cut]), true)
	if _, err := io.WriteString(t.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes a held incomplete rune as escaped bytes.
func (t *Writer) Flush() error {
	if len(t.pending) == 0 {
		return nil
	}
	var b strings.Builder
	for _, c := range t.pending {
		fmt.Fprintf(&b, `\x%02x`, c)
	}
	t.pending = nil
	_, err := io.WriteString(t.w, b.String())
	return err
}
