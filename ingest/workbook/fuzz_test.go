package workbook

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func FuzzSniffDelimiter(f *testing.F) {
	for _, s := range []string{"a,b,c\n1,2,3\n", "a;b\n1,5;2\n", "a\tb\n", "a|b|c\n", "", "\"x;y\",z\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := SniffDelimiter(s)
		if !strings.ContainsRune(",;\t|", d) {
			t.Fatalf("SniffDelimiter(%q) = %q", s, d)
		}
	})
}

// FuzzOpen feeds arbitrary bytes as .xlsx and .csv files: Open and Walk
// must never panic; failures are *Problem values or nothing.
func FuzzOpen(f *testing.F) {
	f.Add([]byte("PK\x03\x04garbage"), true)
	f.Add([]byte("country,year\nFRA,2020\n"), false)
	f.Add([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0}, true)
	f.Add([]byte("\xef\xbb\xbfa;b\n1;2\n"), false)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, asXLSX bool) {
		name := "f.csv"
		if asXLSX {
			name = "f.xlsx"
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := Open(path, Limits{MaxFileBytes: 1 << 20, MaxUnpackedBytes: 1 << 20, MaxRows: 1000})
		if err != nil {
			if _, ok := err.(*Problem); !ok {
				t.Fatalf("Open: %v is not a *Problem", err)
			}
			return
		}
		defer file.Close()
		for _, s := range file.Sheets() {
			err := file.Walk(context.Background(), s.Name, func(r Row) error {
				if r.Num < 1 {
					t.Fatalf("row number %d", r.Num)
				}
				return nil
			})
			if err != nil {
				if _, ok := err.(*Problem); !ok {
					t.Fatalf("Walk: %v is not a *Problem", err)
				}
			}
		}
	})
}

// FuzzRecordScannerChunks reads the same text whole and a byte at a time:
// the records, their lines and the errors must be the same, whatever the
// scanner's buffer held (its fast path takes the buffered rest of a field
// in one step).
func FuzzRecordScannerChunks(f *testing.F) {
	for _, s := range []string{"a,b,c\n1,2,3\n", "a;b\r\n1;2\r3;4", "x,\"q,\"\"r\"\"\"\n5\" screen,y\n", "a,b\n\"open,\n1,2\n", ",,\n\r\n,", "long field without end"} {
		f.Add(s, byte(','))
	}
	f.Add("a;b,c\n1;2\n", byte(';'))
	f.Add("a\tb c\t\"d\te\"\r\n", byte('\t'))
	f.Fuzz(func(t *testing.T, text string, delim byte) {
		if delim == '"' || delim == '\n' || delim == '\r' {
			return
		}
		type record struct {
			fields string
			line   int
			err    string
		}
		read := func(r io.Reader) []record {
			s := newRecordScanner(r, delim)
			var out []record
			for range len(text) + 2 {
				fields, line, err := s.next()
				if err == io.EOF {
					break
				}
				rec := record{fields: strings.Join(fields, "\x00"), line: line}
				if err != nil {
					rec.err = err.Error()
					out = append(out, rec)
					break
				}
				out = append(out, rec)
			}
			return out
		}
		whole := read(strings.NewReader(text))
		bytewise := read(iotest.OneByteReader(strings.NewReader(text)))
		if !slices.Equal(whole, bytewise) {
			t.Fatalf("%q: whole %+v, a byte at a time %+v", text, whole, bytewise)
		}
	})
}
