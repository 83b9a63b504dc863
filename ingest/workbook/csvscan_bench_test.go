package workbook

import (
	"bytes"
	"fmt"
	"io"
	"testing"
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
