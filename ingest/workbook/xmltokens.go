package workbook

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"unicode/utf8"
)

// xmlTokens reads the tokens of a workbook part as encoding/xml's
// RawToken gives them, about three times as fast, for the XML Excel,
// LibreOffice and the other writers emit: elements, attributes in either
// quote, text, the five named entities and character references, an
// <?xml?> declaration in UTF-8. At the first token with anything else
// (a comment, CDATA, a DOCTYPE, another entity, a control character,
// invalid UTF-8, a name encoding/xml might refuse, a tag cut off by the
// end of the part, a token over 4 MiB) it hands the rest of the part,
// from that token on, to encoding/xml, which reads it as before and
// reports what is wrong with it, its line numbers counted from the start
// of the part. The reader never reads legal XML differently from
// encoding/xml, and refuses what encoding/xml refuses:
// FuzzXMLTokensAreEncodingXMLs compares the two on any input.
//
// The bytes of a token (names, attributes, text) are valid until the
// next call.
type xmlTokens struct {
	src io.Reader
	buf []byte
	// pos is where the next token starts in buf; end where the bytes
	// read end.
	pos, end int
	eof      bool
	// lines counts the line feeds of the bytes consumed before buf.
	lines int
	// fallback reads the rest of the part once the fast reader has
	// stopped; fallbackLines is the lines before its first byte.
	fallback      *xml.Decoder
	fallbackLines int
	// pendingEnd is the end of an empty element (<c/>), given after its
	// start.
	pendingEnd []byte
	tok        xmlToken
	scratch    []byte
	// attrs keeps the attributes' slice from one start to the next: the
	// tokens between would drop it, and growing a new one for each start
	// was a third of the reader's time.
	attrs []xmlAttr
	// scans counts the scans of tokens, which a test bounds.
	scans int
	// emptyReads counts the reads in a row that gave nothing.
	emptyReads int
	// minFree is the room below which the buffer grows before a read:
	// half a read, or a byte for a part known to fit.
	minFree int
}

// tokenKind is what an xmlToken is.
type tokenKind uint8

const (
	tokenStart tokenKind = iota + 1
	tokenEnd
	tokenText
	tokenOther // a declaration, comment or directive: no content
)

// xmlToken is one token: an element's start (local name, attributes), its
// end (local name), or text.
type xmlToken struct {
	kind  tokenKind
	local []byte
	attrs []xmlAttr
	text  []byte
}

// xmlAttr is an attribute by its local name.
type xmlAttr struct{ local, value []byte }

// attr is the value of the start's attribute of that local name, nil if
// it has none.
func (t *xmlToken) attr(local string) []byte {
	for _, a := range t.attrs {
		if string(a.local) == local {
			return a.value
		}
	}
	return nil
}

const (
	xmlReadSize = 64 << 10
	// xmlMaxToken bounds the bytes one token may take before the fast
	// reader gives the rest to encoding/xml: a text of a few megabytes is
	// legal, but is nothing the fast path needs to hold.
	xmlMaxToken = 4 << 20
)

// newXMLTokens reads the part r, of sizeHint bytes if that is known (0
// if not). A small part, as most are, is read into a buffer of its size
// and a byte to see its end, not 64 KiB: 600 small workbooks allocated
// 77 MB of buffers. A hint that is wrong only costs a larger buffer.
func newXMLTokens(r io.Reader, sizeHint int64) *xmlTokens {
	x := &xmlTokens{src: r, minFree: xmlReadSize / 2}
	size := xmlReadSize
	if sizeHint > 0 && sizeHint < xmlReadSize {
		size, x.minFree = int(sizeHint)+1, 1
	}
	x.buf = make([]byte, 0, size)
	return x
}

// errFallback stops the fast reader at a token it does not read.
var errFallback = errors.New("fall back to encoding/xml")

// next returns the next token, io.EOF after the last, or the error
// encoding/xml reports for the part.
func (x *xmlTokens) next() (*xmlToken, error) {
	if x.fallback != nil {
		return x.nextFallback()
	}
	if x.pendingEnd != nil {
		x.tok = xmlToken{kind: tokenEnd, local: x.pendingEnd}
		x.pendingEnd = nil
		return &x.tok, nil
	}
	for {
		if x.pos == x.end && x.eof {
			return nil, io.EOF
		}
		if x.pos < x.end {
			n, err := x.scan()
			if err == nil {
				x.pos += n
				return &x.tok, nil
			}
			if err != errIncomplete || x.eof || x.end-x.pos >= xmlMaxToken {
				x.startFallback()
				return x.nextFallback()
			}
			// The token is scanned again only once twice as many of its
			// bytes are read: a tag of many attributes coming in small
			// reads was scanned from its start at each, quadratically.
			if err := x.fillTo(2 * (x.end - x.pos)); err != nil {
				return nil, err
			}
			continue
		}
		if err := x.fill(); err != nil {
			return nil, err
		}
	}
}

// fillTo reads until n bytes from pos are read, or the part ends.
func (x *xmlTokens) fillTo(n int) error {
	for x.end-x.pos < n && !x.eof {
		if err := x.fill(); err != nil {
			return err
		}
	}
	return nil
}

// errIncomplete: the token goes on past the bytes read.
var errIncomplete = errors.New("incomplete token")

// fill reads more of the part, keeping the token begun at pos.
func (x *xmlTokens) fill() error {
	if x.pos > 0 {
		x.lines += bytes.Count(x.buf[:x.pos], []byte{'\n'})
		n := copy(x.buf, x.buf[x.pos:x.end])
		x.buf = x.buf[:n]
		x.end, x.pos = n, 0
	}
	if cap(x.buf)-x.end < x.minFree {
		grown := make([]byte, x.end, 2*cap(x.buf)+xmlReadSize)
		copy(grown, x.buf[:x.end])
		x.buf = grown
		x.minFree = xmlReadSize / 2
	}
	n, err := x.src.Read(x.buf[x.end:cap(x.buf)])
	x.end += n
	x.buf = x.buf[:x.end]
	switch {
	case errors.Is(err, io.EOF):
		x.eof = true
	case err != nil:
		return err
	case n > 0:
		x.emptyReads = 0
	default:
		// A reader that gives nothing and no error, again and again,
		// would keep the reader here for ever (bufio stops it alike).
		if x.emptyReads++; x.emptyReads == maxEmptyReads {
			return io.ErrNoProgress
		}
	}
	return nil
}

// maxEmptyReads is how many reads in a row may give nothing.
const maxEmptyReads = 100

// startFallback hands the part from pos on to encoding/xml.
func (x *xmlTokens) startFallback() {
	x.fallbackLines = x.lines + bytes.Count(x.buf[:x.pos], []byte{'\n'})
	rest := bytes.Clone(x.buf[x.pos:x.end])
	src := io.Reader(bytes.NewReader(rest))
	if !x.eof {
		src = io.MultiReader(src, x.src)
	}
	x.fallback = xml.NewDecoder(src)
	x.buf, x.pos, x.end = nil, 0, 0
}

// nextFallback is the next token of encoding/xml, as an xmlToken.
func (x *xmlTokens) nextFallback() (*xmlToken, error) {
	tok, err := x.fallback.RawToken()
	if err != nil {
		var syntax *xml.SyntaxError
		if errors.As(err, &syntax) {
			shifted := *syntax
			shifted.Line += x.fallbackLines
			return nil, &shifted
		}
		return nil, err
	}
	x.tok = xmlToken{kind: tokenOther}
	switch t := tok.(type) {
	case xml.StartElement:
		x.tok.kind, x.tok.local = tokenStart, []byte(t.Name.Local)
		for _, a := range t.Attr {
			x.tok.attrs = append(x.tok.attrs, xmlAttr{local: []byte(a.Name.Local), value: []byte(a.Value)})
		}
	case xml.EndElement:
		x.tok.kind, x.tok.local = tokenEnd, []byte(t.Name.Local)
	case xml.CharData:
		x.tok.kind, x.tok.text = tokenText, t
	}
	return &x.tok, nil
}

// scan reads the token at pos into x.tok and returns its length:
// errIncomplete when it goes on past the bytes read, errFallback when
// the fast reader does not read it.
func (x *xmlTokens) scan() (int, error) {
	x.scans++
	b := x.buf[x.pos:x.end]
	if b[0] != '<' {
		return x.scanText(b)
	}
	if len(b) < 2 {
		return 0, errIncomplete
	}
	switch b[1] {
	case '/':
		return x.scanEnd(b)
	case '?':
		return x.scanDeclaration(b)
	case '!':
		return 0, errFallback
	}
	return x.scanStart(b)
}

// scanText reads text up to the next '<' or the end of the part.
func (x *xmlTokens) scanText(b []byte) (int, error) {
	n := bytes.IndexByte(b, '<')
	if n < 0 {
		if !x.eof {
			return 0, errIncomplete
		}
		n = len(b)
	}
	if bytes.Contains(b[:n], []byte("]]>")) {
		return 0, errFallback // refused outside CDATA
	}
	text, err := x.unescape(b[:n])
	if err != nil {
		return 0, err
	}
	x.tok = xmlToken{kind: tokenText, text: text}
	return n, nil
}

// unescape decodes the entities of text or an attribute value; it is
// the bytes themselves when there are none. A byte encoding/xml would
// refuse or change makes it fall back.
func (x *xmlTokens) unescape(b []byte) ([]byte, error) {
	amp := -1
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '&' || c == '\r':
			if amp < 0 {
				amp = i
			}
			i++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
				return nil, errFallback
			}
			i += size
		case c < 0x20 && c != '\t' && c != '\n':
			return nil, errFallback // refused
		default:
			i++
		}
	}
	if amp < 0 {
		return b, nil
	}
	out := append(x.scratch[:0], b[:amp]...)
	for i := amp; i < len(b); {
		switch b[i] {
		case '\r':
			// A line end of "\r\n" or "\r" is read as "\n".
			out = append(out, '\n')
			i++
			if i < len(b) && b[i] == '\n' {
				i++
			}
			continue
		case '&':
		default:
			j := bytes.IndexAny(b[i:], "&\r")
			if j < 0 {
				j = len(b) - i
			}
			out = append(out, b[i:i+j]...)
			i += j
			continue
		}
		semi := bytes.IndexByte(b[i:], ';')
		if semi < 0 {
			return nil, errFallback
		}
		r, ok := entity(b[i+1 : i+semi])
		if !ok {
			return nil, errFallback
		}
		out = utf8.AppendRune(out, r)
		i += semi + 1
	}
	x.scratch = out
	return out, nil
}

// entity is the character of a named entity XML predefines, or of a
// character reference that encoding/xml reads as a character.
func entity(name []byte) (rune, bool) {
	switch string(name) {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "apos":
		return '\'', true
	case "quot":
		return '"', true
	}
	if len(name) < 2 || name[0] != '#' || len(name) > 8 {
		return 0, false
	}
	digits, base := name[1:], rune(10)
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 {
		return 0, false
	}
	var r rune
	for _, d := range digits {
		var v rune
		switch {
		case d >= '0' && d <= '9':
			v = rune(d - '0')
		case base == 16 && d >= 'a' && d <= 'f':
			v = rune(d-'a') + 10
		case base == 16 && d >= 'A' && d <= 'F':
			v = rune(d-'A') + 10
		default:
			return 0, false
		}
		r = r*base + v
	}
	if !isXMLChar(r) || r == '\r' {
		return 0, false
	}
	return r, true
}

// isXMLChar is XML's Char production, as encoding/xml checks it.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// scanName reads an ASCII name at the start of b and returns its length:
// 0 with errIncomplete when it may go on past the bytes read, with
// errFallback when it is not a name the fast reader takes (one with a
// byte of a multibyte character, which encoding/xml checks against
// Unicode's tables, or more than one colon, which it refuses).
func scanName(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, errIncomplete
	}
	if c := b[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':') {
		return 0, errFallback
	}
	colons := 0
	if b[0] == ':' {
		colons++
	}
	for i := 1; i < len(b); i++ {
		c := b[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' {
			continue
		}
		if c == ':' {
			colons++
			continue
		}
		if colons > 1 {
			return 0, errFallback
		}
		// A byte of a multibyte character ends the name here, and then
		// the byte after it is none the caller takes (a space, '=', '>'
		// or "/>"): it falls back.
		return i, nil
	}
	return 0, errIncomplete
}

// localName is a name's local part as encoding/xml's RawToken splits it:
// after its colon with something either side, else the whole name.
func localName(name []byte) []byte {
	i := bytes.IndexByte(name, ':')
	if i <= 0 || i == len(name)-1 {
		return name
	}
	return name[i+1:]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace is the index of the first byte at or after i that is not
// a space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanEnd reads </name>.
func (x *xmlTokens) scanEnd(b []byte) (int, error) {
	n, err := scanName(b[2:])
	if err != nil {
		return 0, err
	}
	i := skipSpace(b, 2+n)
	if i == len(b) {
		return 0, errIncomplete
	}
	if b[i] != '>' {
		return 0, errFallback
	}
	x.tok = xmlToken{kind: tokenEnd, local: localName(b[2 : 2+n])}
	return i + 1, nil
}

// scanStart reads <name attr="value" ...> or its empty form.
func (x *xmlTokens) scanStart(b []byte) (int, error) {
	if bytes.IndexByte(b, '>') < 0 {
		return 0, errIncomplete // no tag ends before the bytes read do
	}
	n, err := scanName(b[1:])
	if err != nil {
		return 0, err
	}
	x.attrs = x.attrs[:0]
	x.tok = xmlToken{kind: tokenStart, local: localName(b[1 : 1+n])}
	i := 1 + n
	for {
		i = skipSpace(b, i)
		if i == len(b) {
			return 0, errIncomplete
		}
		switch b[i] {
		case '>':
			return i + 1, nil
		case '/':
			if i+1 == len(b) {
				return 0, errIncomplete
			}
			if b[i+1] != '>' {
				return 0, errFallback
			}
			x.pendingEnd = x.tok.local
			return i + 2, nil
		}
		an, err := scanName(b[i:])
		if err != nil {
			return 0, err
		}
		name := b[i : i+an]
		i = skipSpace(b, i+an)
		if i == len(b) {
			return 0, errIncomplete
		}
		if b[i] != '=' {
			return 0, errFallback
		}
		i = skipSpace(b, i+1)
		if i == len(b) {
			return 0, errIncomplete
		}
		q := b[i]
		if q != '"' && q != '\'' {
			return 0, errFallback
		}
		end := bytes.IndexByte(b[i+1:], q)
		if end < 0 {
			return 0, errIncomplete
		}
		raw := b[i+1 : i+1+end]
		if bytes.IndexByte(raw, '<') >= 0 {
			return 0, errFallback
		}
		value, err := x.unescape(raw)
		if err != nil {
			return 0, err
		}
		if len(raw) > 0 && &value[0] != &raw[0] {
			// Decoded into scratch, which the next value reuses.
			value = bytes.Clone(value)
		}
		x.attrs = append(x.attrs, xmlAttr{local: localName(name), value: value})
		x.tok.attrs = x.attrs
		i += 1 + end + 1
	}
}

// scanDeclaration reads <?xml ...?> when encoding/xml takes it (it
// checks the version and encoding): encoding/xml itself reads it.
func (x *xmlTokens) scanDeclaration(b []byte) (int, error) {
	end := bytes.Index(b, []byte("?>"))
	if end < 0 {
		return 0, errIncomplete
	}
	decl := b[:end+2]
	if !bytes.HasPrefix(decl, []byte("<?xml ")) {
		return 0, errFallback
	}
	// Starting with "<?xml ", it is a declaration if it reads at all.
	if _, err := xml.NewDecoder(bytes.NewReader(decl)).RawToken(); err != nil {
		return 0, errFallback
	}
	x.tok = xmlToken{kind: tokenOther}
	return end + 2, nil
}
