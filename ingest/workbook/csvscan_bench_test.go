package workbook

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"unsafe"
)

// BenchmarkRecordScanner scans 200,000 rows of a coverage extract, as
// ILOSTAT's bulk files give them: codes, years and sources that repeat,
// values and notes that do not.
func BenchmarkRecordScanner(b *testing.B) {
	var text bytes.Buffer
	text.WriteString("country,year,value,series,sex,population,source,note\n")
	countries := []string{"AFG", "ALB", "DZA", "AGO", "ARG", "ARM", "AUS", "AUT"}
	for i := range 200_000 {
		fmt.Fprintf(&text, "%s,%d,%d.%d,SOC_CONTIG_TOTAL,T,total,ILO World Social Protection Database,note %d\n",
			countries[i%len(countries)], 1990+i/len(countries)%30, i%100, i%10, i)
	}
	b.SetBytes(int64(text.Len()))
	b.ReportAllocs()
	for b.Loop() {
		s := newRecordScanner(bytes.NewReader(text.Bytes()), ',')
		for {
			if _, _, err := s.next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// A column whose values repeat is interned (its rows share one string
// each); one whose values do not stops being looked up after its first
// internProbe fields.
func TestRecordScannerInternsColumnsThatRepeat(t *testing.T) {
	var text bytes.Buffer
	for i := range 3 * internProbe {
		country := []string{"AFG", "ALB"}[i%2]
		if i%64 == 63 {
			country = fmt.Sprintf("X%d", i) // now and then a new one
		}
		fmt.Fprintf(&text, "%s,note %d\n", country, i)
	}
	s := newRecordScanner(bytes.NewReader(text.Bytes()), ',')
	var first, last string
	for i := 0; ; i++ {
		rec, _, err := s.next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = rec[0]
		}
		if i%2 == 0 {
			last = rec[0]
		}
	}
	if unsafe.StringData(first) != unsafe.StringData(last) {
		t.Errorf("the first and the last AFG of the country column are two strings")
	}
	if s.columns[0].off || !s.columns[1].off {
		t.Errorf("interning: country column off %v, note column off %v; want false, true", s.columns[0].off, s.columns[1].off)
	}
	if n := len(s.seen); n > internProbe+100 { // the notes probed, the countries
		t.Errorf("%d strings interned: the note column went on filling the table", n)
	}
}
