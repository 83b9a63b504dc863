// Command benchgen writes the deterministic workloads of the benchmark
// suite (bench/run.sh):
//
//	W1   social-protection table of N rows (default 200,000) × 8 columns,
//	     as XLSX in Excel's own layout (text in the shared-string table, a
//	     percent style on the values) and as the same table in CSV
//	W2   600 small XLSX files of about 50 rows each (ratifications,
//	     coverage and agreements), one file per ministry
//
//	go run ./tools/benchgen -o bench/data -rows 200000
//	go run ./tools/benchgen -o bench/data -rows 1000000 -name w1x
//	go run ./tools/benchgen -o bench/data -small 600
//
// The same flags give the same bytes.
package main

import (
	"archive/zip"
	"bufio"
	"flag"
	"fmt"
	"github.com/ilo-pledge/pledgestat/refdata"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

var (
	series      = []string{"SOC_CONTIG_TOTAL", "SOC_CONTIG_CHILD", "SOC_CONTIG_MAT", "SOC_CONTIG_DISAB", "SOC_CONTIG_UNE", "SOC_CONTIG_PENSION", "SOC_CONTIG_INJ", "SOC_CONTIG_POOR", "SOC_CONTIG_VULN"}
	sexes       = []string{"T", "F", "M"}
	pops        = []string{"total", "migrants", "non_migrants"}
	countries   = strings.Fields("AFG ALB DZA AGO ARG ARM AUS AUT AZE BHS BHR BGD BRB BLR BEL BLZ BEN BOL BIH BWA BRA BRN BGR BFA BDI CPV KHM CMR CAN CAF TCD CHL CHN COL COM COG CRI CIV HRV CUB CYP CZE COD DNK DJI DMA DOM ECU EGY SLV GNQ ERI EST SWZ ETH FJI FIN FRA GAB GMB GEO DEU GHA GRC GRD GTM GIN GNB GUY HTI HND HUN ISL IND IDN IRN IRQ IRL ISR ITA JAM JPN JOR KAZ KEN KIR KOR KWT KGZ LAO LVA LBN LSO LBR LBY LTU LUX MDG MWI MYS MDV MLI MLT MHL MRT MUS MEX MDA MNG MNE MAR MOZ MMR NAM NPL NLD NZL NIC NER NGA MKD NOR OMN PAK PLW PAN PNG PRY PER PHL POL PRT QAT ROU RUS RWA KNA LCA VCT WSM SMR STP SAU SEN SRB SYC SLE SGP SVK SVN SLB SOM ZAF SSD ESP LKA SDN SUR SWE CHE SYR TJK TZA THA TLS TGO TON TTO TUN TUR TKM TUV UGA UKR ARE GBR USA URY UZB VUT VEN VNM YEM ZMB ZWE")
	conventions = []string{"C097", "C143", "C181", "C189", "C190", "C102", "C118", "C157", "C144", "C087", "C098", "C155", "C187", "C142", "P029"}
)

func main() {
	out := flag.String("o", "bench/data", "output folder")
	rows := flag.Int("rows", 0, "W1: rows of the coverage table (0: none)")
	name := flag.String("name", "w1", "W1: base name of the files")
	small := flag.Int("small", 0, "W2: number of small files (0: none)")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	if *rows > 0 {
		fail(coverageXLSX(filepath.Join(*out, *name+".xlsx"), *rows))
		fail(coverageCSV(filepath.Join(*out, *name+".csv"), *rows))
	}
	if *small > 0 {
		fail(smallFiles(filepath.Join(*out, "w2"), *small))
	}
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

// row i of the coverage table: distinct record keys for up to 4.4 million
// rows (163 countries × 111 years × 9 series × 3 × 3).
func coverageRow(i int) (country string, year int, ser, sex, pop string, value float64, source, note string) {
	country = countries[i%len(countries)]
	j := i / len(countries)
	year = 1990 + j%111
	j /= 111
	ser, sex, pop = series[j%9], sexes[(j/9)%3], pops[(j/27)%3]
	value = float64((i*7919)%1000) / 1000
	return country, year, ser, sex, pop, value, "ILO World Social Protection Database", "note " + strconv.Itoa(i%13)
}

var header = []string{"country", "year", "value", "series", "sex", "population", "source", "note"}

func coverageCSV(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(strings.Join(header, ",") + "\n")
	for i := 0; i < n; i++ {
		c, y, s, x, p, v, src, note := coverageRow(i)
		fmt.Fprintf(w, "%s,%d,%.1f,%s,%s,%s,%s,%s\n", c, y, v*100, s, x, p, src, note)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// coverageXLSX writes the table as Excel does: every text in the shared
// strings, numbers inline, the values with the built-in percent style.
func coverageXLSX(path string, n int) error {
	return writeXLSX(path, "Coverage", func(w *bufio.Writer, sst *strtab) {
		w.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">`)
		fmt.Fprintf(w, `<dimension ref="A1:H%d"/><sheetData>`, n+1)
		writeRow := func(r int, cells []string) {
			fmt.Fprintf(w, `<row r="%d">`, r)
			for c, v := range cells {
				ref := string(rune('A'+c)) + strconv.Itoa(r)
				switch {
				case r > 1 && c == 1:
					fmt.Fprintf(w, `<c r="%s"><v>%s</v></c>`, ref, v)
				case r > 1 && c == 2:
					fmt.Fprintf(w, `<c r="%s" s="1"><v>%s</v></c>`, ref, v)
				default:
					fmt.Fprintf(w, `<c r="%s" t="s"><v>%d</v></c>`, ref, sst.id(v))
				}
			}
			w.WriteString(`</row>`)
		}
		writeRow(1, header)
		for i := 0; i < n; i++ {
			c, y, s, x, p, v, src, note := coverageRow(i)
			writeRow(i+2, []string{c, strconv.Itoa(y), strconv.FormatFloat(v, 'f', -1, 64), s, x, p, src, note})
		}
		w.WriteString(`</sheetData></worksheet>`)
	})
}

type strtab struct {
	list  []string
	index map[string]int
}

func (s *strtab) id(v string) int {
	if i, ok := s.index[v]; ok {
		return i
	}
	s.index[v] = len(s.list)
	s.list = append(s.list, v)
	return len(s.list) - 1
}

// workbookParts writes every part but the sheet.
func workbookParts(zw *zip.Writer, sst *strtab, sheetName string) error {
	parts := map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`,
		"_rels/.rels":                `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="` + sheetName + `" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
		"xl/styles.xml":              `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>`,
	}
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"} {
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		io.WriteString(w, parts[name])
	}
	w, err := zw.Create("xl/sharedStrings.xml")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(sst.list), len(sst.list))
	for _, s := range sst.list {
		bw.WriteString("<si><t>")
		xmlEscape(bw, s)
		bw.WriteString("</t></si>")
	}
	bw.WriteString("</sst>")
	return bw.Flush()
}

func xmlEscape(w *bufio.Writer, s string) {
	strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").WriteString(w, s)
}

// smallFiles writes n small workbooks: a ministry's ratifications, its
// coverage observations or its agreements, about 50 rows each.
func smallFiles(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ref, err := refdata.Load()
	if err != nil {
		return err
	}
	// adopted is an instrument's year of adoption.
	adopted := func(code string) int {
		in, _ := ref.Instruments().ByCode(code)
		return in.Year
	}
	for i := 0; i < n; i++ {
		country := countries[i%len(countries)]
		var rows [][]string
		var kind string
		switch i % 3 {
		case 0:
			kind = "ratifications"
			rows = append(rows, []string{"country", "instrument", "ratification_date", "status"})
			for j := 0; j < 50; j++ {
				c := countries[(i+j)%len(countries)]
				inst := conventions[(i/3+j)%len(conventions)]
				// Registered after the instrument's adoption, as ingest
				// requires, and before 2025.
				from := max(1960, adopted(inst))
				rows = append(rows, []string{c, inst, fmt.Sprintf("%d-%02d-%02d", from+rng.IntN(max(1, 2025-from)), 1+rng.IntN(12), 1+rng.IntN(28)), "In force"})
			}
		case 1:
			kind = "coverage"
			rows = append(rows, []string{"country", "year", "value", "series", "sex"})
			for j := 0; j < 50; j++ {
				rows = append(rows, []string{country, strconv.Itoa(1990 + (i/3+j)%35), strconv.FormatFloat(float64(rng.IntN(1000))/10, 'f', 1, 64), series[j%9], sexes[(j/9)%3]})
			}
		default:
			kind = "agreements"
			rows = append(rows, []string{"agreement_id", "title", "type", "origin", "destination", "date_signed", "fair_recruitment"})
			for j := 0; j < 50; j++ {
				o, d := countries[(i+j)%len(countries)], countries[(i+j+7)%len(countries)]
				rows = append(rows, []string{fmt.Sprintf("A-%d-%d", i, j), "Agreement " + o + "-" + d, "BLA", o, d, strconv.Itoa(1995 + rng.IntN(30)), []string{"yes", "no", "partial"}[j%3]})
			}
		}
		if err := smallXLSX(filepath.Join(dir, fmt.Sprintf("%03d-%s-%s.xlsx", i, country, kind)), rows); err != nil {
			return err
		}
	}
	return nil
}

func smallXLSX(path string, rows [][]string) error {
	return writeXLSX(path, "Data", func(w *bufio.Writer, sst *strtab) {
		w.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		for r, row := range rows {
			fmt.Fprintf(w, `<row r="%d">`, r+1)
			for c, v := range row {
				ref := string(rune('A'+c)) + strconv.Itoa(r+1)
				if _, err := strconv.ParseFloat(v, 64); err == nil && r > 0 {
					fmt.Fprintf(w, `<c r="%s"><v>%s</v></c>`, ref, v)
				} else {
					fmt.Fprintf(w, `<c r="%s" t="s"><v>%d</v></c>`, ref, sst.id(v))
				}
			}
			w.WriteString(`</row>`)
		}
		w.WriteString(`</sheetData></worksheet>`)
	})
}

// writeXLSX writes a one-sheet workbook: sheet writes the sheet's XML and
// fills the shared strings; the other parts follow.
func writeXLSX(path, sheetName string, sheet func(w *bufio.Writer, sst *strtab)) error {
	sst := &strtab{index: map[string]int{}}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	part, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(part, 1<<20)
	sheet(w, sst)
	if err := w.Flush(); err != nil {
		return err
	}
	if err := workbookParts(zw, sst, sheetName); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}
