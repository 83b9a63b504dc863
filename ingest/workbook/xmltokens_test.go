package workbook

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/xuri/excelize/v2"
)

// encodingXMLTokens is what encoding/xml's RawToken reads of data, in the
// terms of xmlTokens: starts with their attributes, ends and text by
// local name; declarations, comments and directives left out; the error
// that ends it, if any.
func encodingXMLTokens(data []byte) []string {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var out []string
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			return append(out, "error: "+err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			s := "<" + t.Name.Local
			for _, a := range t.Attr {
				s += fmt.Sprintf(" %s=%q", a.Name.Local, a.Value)
			}
			out = append(out, s+">")
		case xml.EndElement:
			out = append(out, "</"+t.Name.Local+">")
		case xml.CharData:
			out = append(out, fmt.Sprintf("text %q", t))
		}
	}
}

// fastTokens is what xmlTokens reads of r, in the same terms.
func fastTokens(r io.Reader) []string { return fastTokensSized(r, 0) }

// fastTokensSized is fastTokens of a part said to be of size bytes.
func fastTokensSized(r io.Reader, size int64) []string {
	x := newXMLTokens(r, size)
	var out []string
	for {
		t, err := x.next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			return append(out, "error: "+err.Error())
		}
		switch t.kind {
		case tokenStart:
			s := "<" + string(t.local)
			for _, a := range t.attrs {
				s += fmt.Sprintf(" %s=%q", a.local, a.value)
			}
			out = append(out, s+">")
		case tokenEnd:
			out = append(out, "</"+string(t.local)+">")
		case tokenText:
			out = append(out, fmt.Sprintf("text %q", t.text))
		}
	}
}

// xmlSamples are parts as writers emit them, and what they may hold that
// the fast reader leaves to encoding/xml.
var xmlSamples = []string{
	`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\r\n" + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData><row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" s="3"><v>45.5</v></c><c r="C1" t="inlineStr"><is><t xml:space="preserve"> a &amp; b </t></is></c></row></sheetData></worksheet>`,
	`<x:worksheet xmlns:x="urn:x"><x:sheetData><x:row r='2'><x:c r='A2' t='str'><x:f>A1</x:f><x:v>Côte d’Ivoire</x:v></x:c></x:row></x:sheetData></x:worksheet>`,
	`<sst count="2"><si><t>a&lt;b&gt;c&quot;&apos;&#65;&#x42;</t></si><si><r><t>rich</t></r><rPh><t>ruby</t></rPh></si></sst>`,
	`<a b = "1"  c='2'/><d/>`,
	`<a b="&amp;1" c="&lt;2" d='&#x41;'>&quot;</a>`,
	`<!-- a comment --><a><![CDATA[<raw>]]></a>`,
	`<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`,
	`<?xml version="1.1"?><a/>`,
	`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`,
	`<?pi data?><a/>`,
	"<a>\r\nline\rfeed</a>",
	"<a b=\"x\r\ny\"/>",
	"<a>\x01</a>", "<a>x\x1fy</a>", "<a b='\x0b'/>", "<a>\xff</a>", "<a>\uFFFE</a>", "<a>&#0;</a>", "<a>&#13;</a>", "<a>&#xD800;</a>", "<a>&#X41;</a>", "<a>&#;</a>", "<a>&#x;</a>",
	"<a>&#1114112;</a>", "<a>&#00000065;</a>", "<a>&amp</a>", "<a>&nbsp;</a>", "<a>]]></a>", "<a b=\"]]>\"/>", "<a>]]&gt;</a>",
	"<a b=\"<\"/>", "<a b=x/>", "<a b/>", "<a b=\"1\"c=\"2\"/>", "<a:b:c/>", "<:a/>", "<a:/>", "<1a/>", "<a\xc3\xa9/>", "<é/>",
	"</a >", "</a x>", "<a/ >", "<a", "<a b=\"1", "<a>text", "text only", "", "<", "</", "<a></b>", "</a></a>",
	"<a>" + strings.Repeat("x", 100_000) + "</a>", "\n\n<a>\n<b c=\"1\">\n</a>\n\n<<",
}

// FuzzXMLTokensAreEncodingXMLs: on any input, cut into reads of any size,
// the fast reader gives what encoding/xml gives: the same tokens, and the
// same error, line included, where encoding/xml stops.
func FuzzXMLTokensAreEncodingXMLs(f *testing.F) {
	for _, s := range xmlSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := strings.Join(encodingXMLTokens(data), "\n")
		readers := map[string]io.Reader{
			"whole":    bytes.NewReader(data),
			"one byte": iotest.OneByteReader(bytes.NewReader(data)),
			"halves":   iotest.HalfReader(bytes.NewReader(data)),
		}
		for name, r := range readers {
			if got := strings.Join(fastTokens(r), "\n"); got != want {
				t.Fatalf("%s reads of %q:\nencoding/xml:\n%s\nfast:\n%s", name, data, want, got)
			}
		}
		// A part's declared size sizes the buffer; it may be right, short
		// or long (a zip can lie), and the tokens are the same.
		for _, size := range []int64{int64(len(data)), int64(len(data)) / 2, int64(len(data)) + 7, 1} {
			for name, r := range map[string]io.Reader{"whole": bytes.NewReader(data), "one byte": iotest.OneByteReader(bytes.NewReader(data))} {
				if got := strings.Join(fastTokensSized(r, size), "\n"); got != want {
					t.Fatalf("%s reads of %q said to be %d bytes:\nencoding/xml:\n%s\nfast:\n%s", name, data, size, want, got)
				}
			}
		}
	})
}

// TestXMLTokensStayFast: the parts writers emit are read by the fast
// reader to their end, not handed to encoding/xml.
func TestXMLTokensStayFast(t *testing.T) {
	for _, s := range xmlSamples[:4] {
		x := newXMLTokens(strings.NewReader(s), 0)
		for {
			if _, err := x.next(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
		}
		if x.fallback != nil {
			t.Errorf("%.60q... was handed to encoding/xml", s)
		}
	}
}

// TestXMLErrorLinesCountFromThePart: an error encoding/xml finds after
// the fast reader handed it the rest names the line in the whole part.
func TestXMLErrorLinesCountFromThePart(t *testing.T) {
	data := strings.Repeat("<a>\n</a>\n", 30_000) + "<b>&bogus;</b>"
	got := fastTokens(iotest.HalfReader(strings.NewReader(data)))
	want := encodingXMLTokens([]byte(data))
	if g, w := got[len(got)-1], want[len(want)-1]; g != w || !strings.Contains(g, "line 60001") {
		t.Fatalf("error %q, want %q on line 60001", g, w)
	}
}

// FuzzCellReferenceColumns: a cell's column is read from its reference
// as excelize reads it, and numbers as strconv reads them.
func FuzzCellReferenceColumns(f *testing.F) {
	for _, s := range []string{"A1", "XFD1048576", "XFE1", "A1048577", "a7", "AA01", "A0", "$A$1", "1A", "", "A", "ZZZZ9", "A-1", "+12", "-3", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		col, _, err := excelize.CellNameToCoordinates(ref)
		got, ok := refColumn([]byte(ref))
		if ok != (err == nil) || ok && got != col {
			t.Fatalf("refColumn(%q) = %d, %v; excelize reads column %d, %v", ref, got, ok, col, err)
		}
		n, err := strconv.Atoi(ref)
		if m, ok := atoi([]byte(ref)); ok != (err == nil) || ok && m != n {
			t.Fatalf("atoi(%q) = %d, %v; strconv: %d, %v", ref, m, ok, n, err)
		}
	})
}

// TestLongTagsAreScannedAFewTimes: a start tag of many attributes coming
// in 32 KiB reads, as a zip entry gives them, is scanned a few times in
// all, not once a read from its start (quadratic: a 4 MiB tag took four
// seconds).
func TestLongTagsAreScannedAFewTimes(t *testing.T) {
	tag := `<row r="1"` + strings.Repeat(` x="1"`, (4<<20-200)/6) + `><c r="A1"><v>1</v></c></row>`
	for _, tail := range []string{"", "&amp;"} {
		data := strings.Replace(tag, `x="1"`, `x="1`+tail+`"`, 1)
		x := newXMLTokens(&chunkReader{r: strings.NewReader(data), n: 32 << 10}, 0)
		tokens := 0
		for {
			if _, err := x.next(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			tokens++
		}
		if x.fallback != nil || tokens != 7 {
			t.Fatalf("%d tokens, fallback %v", tokens, x.fallback != nil)
		}
		if x.scans > 20 {
			t.Errorf("%d scans for %d tokens of which one is 4 MiB in 32 KiB reads", x.scans, tokens)
		}
	}
}

// chunkReader reads at most n bytes at a time.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// emptyReader gives nothing, and no error, for ever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// TestXMLTokensStopOnAReaderThatGivesNothing: a part whose reader never
// gives a byte nor an error ends in io.ErrNoProgress, not a loop.
func TestXMLTokensStopOnAReaderThatGivesNothing(t *testing.T) {
	r := io.MultiReader(strings.NewReader("<a><b c=\"1"), emptyReader{})
	x := newXMLTokens(r, 0)
	for range 10 {
		if _, err := x.next(); err != nil {
			if !errors.Is(err, io.ErrNoProgress) {
				t.Fatalf("err = %v, want io.ErrNoProgress", err)
			}
			return
		}
	}
	t.Fatal("tokens for ever from a reader that gives nothing")
}

// TestSmallPartsGetSmallBuffers: a part whose size is known and small is
// read to its end in a buffer of its size, without growing it.
func TestSmallPartsGetSmallBuffers(t *testing.T) {
	part := xmlSamples[0]
	x := newXMLTokens(strings.NewReader(part), int64(len(part)))
	for {
		if _, err := x.next(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	if cap(x.buf) > len(part)+1 {
		t.Errorf("a part of %d bytes was read in a buffer of %d", len(part), cap(x.buf))
	}
}
