package export

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// rowSplicer puts the rows of the pledge sheets, and of the README after
// its title, into the sheet parts excelize writes. Each such sheet is streamed by excelize with one
// placeholder row in row 2, an inline string of a nonce and a number;
// when the part is written to the archive, the placeholder row is
// replaced by the rows, written there and then by cellWriter. So excelize
// makes every part of the workbook but those rows, which it made at a
// tenth of the speed (sheetrows.go), and no sheet's rows are ever held in
// memory whole: they go to the deflater as they are made.
type rowSplicer struct {
	// text is how every placeholder's text starts, before its key: a
	// nonce; prefix is how the placeholder row starts, up to the key.
	text   string
	prefix []byte
	// sheets are the sheets whose rows stand in a placeholder; a sheet's
	// key is its index.
	sheets []splicedSheet
}

// splicedSheet is a sheet whose rows stand in a placeholder.
type splicedSheet struct {
	name   string
	rows   func(io.Writer) error
	placed bool // its rows were written
}

// placeholderStart is how excelize writes a placeholder row, before its
// text; placeholderEnd ends it, after its key.
const (
	placeholderStart = `<row r="2"><c r="A2" t="inlineStr"><is><t>`
	placeholderEnd   = `</t></is></c></row>`
)

// maxPlaceholderKey bounds what is read after a prefix while looking for
// placeholderEnd.
const maxPlaceholderKey = 256

// newRowSplicer makes a splicer whose placeholders carry a fresh nonce,
// so that no text of the workbook can be taken for one.
func newRowSplicer() (*rowSplicer, error) {
	var nonce [12]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("workbook: %w", err)
	}
	text := "pledgestat-rows-" + hex.EncodeToString(nonce[:]) + "-"
	return &rowSplicer{text: text, prefix: []byte(placeholderStart + text)}, nil
}

// placeholder registers the rows of a sheet and returns the text of the
// placeholder cell the sheet's A2 must hold: excelize writes the cell as
// prefix, key, placeholderEnd. The key is a number, not the sheet's name,
// which excelize would escape (R&amp;D) or mark for its spaces.
func (s *rowSplicer) placeholder(name string, rows func(io.Writer) error) string {
	s.sheets = append(s.sheets, splicedSheet{name: name, rows: rows})
	return s.text + strconv.Itoa(len(s.sheets)-1)
}

// take is the sheet of a placeholder's key, marked placed; nil for a key
// that names no sheet, or one placed already.
func (s *rowSplicer) take(key []byte) *splicedSheet {
	i, err := strconv.Atoi(string(key))
	if err != nil || i < 0 || i >= len(s.sheets) || s.sheets[i].placed {
		return nil
	}
	s.sheets[i].placed = true
	return &s.sheets[i]
}

// unplaced is an error naming the sheets whose rows were never written:
// excelize wrote their placeholder otherwise than expected, or not at all.
func (s *rowSplicer) unplaced() error {
	var missing []string
	for _, sh := range s.sheets {
		if !sh.placed {
			missing = append(missing, sh.name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("workbook: the rows of sheets %s found no placeholder in the sheet parts", strings.Join(missing, ", "))
}

// spliceWriter writes a part through, its placeholder rows replaced. It
// holds back the tail of each write that might begin a placeholder.
type spliceWriter struct {
	s    *rowSplicer
	part io.Writer
	held []byte
	// open is set between a placeholder's prefix and its end.
	open bool
}

// Write writes b, placeholders replaced.
func (w *spliceWriter) Write(b []byte) (int, error) {
	n := len(b)
	if len(w.held) > 0 {
		b = append(w.held, b...)
		w.held = nil
	}
	for {
		if w.open {
			end := bytes.Index(b, []byte(placeholderEnd))
			if end < 0 {
				if len(b) > maxPlaceholderKey {
					return 0, fmt.Errorf("workbook: a placeholder row has no end")
				}
				w.held = append([]byte(nil), b...)
				return n, nil
			}
			sheet := w.s.take(b[:end])
			if sheet == nil {
				return 0, fmt.Errorf("workbook: placeholder %q is unknown or repeated", b[:end])
			}
			if err := sheet.rows(w.part); err != nil {
				return 0, err
			}
			b = b[end+len(placeholderEnd):]
			w.open = false
			continue
		}
		i := bytes.Index(b, w.s.prefix)
		if i < 0 {
			keep := min(len(b), len(w.s.prefix)-1)
			if _, err := w.part.Write(b[:len(b)-keep]); err != nil {
				return 0, err
			}
			w.held = append([]byte(nil), b[len(b)-keep:]...)
			return n, nil
		}
		if _, err := w.part.Write(b[:i]); err != nil {
			return 0, err
		}
		b = b[i+len(w.s.prefix):]
		w.open = true
	}
}

// flush writes what was held back, at the end of the part.
func (w *spliceWriter) flush() error {
	if w.open {
		return fmt.Errorf("workbook: a placeholder row is cut off at the end of its part")
	}
	held := w.held
	w.held = nil
	_, err := w.part.Write(held)
	return err
}
