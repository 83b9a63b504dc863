package export

import (
	"archive/zip"
	"bytes"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/internal/safego"
)

// parallelZip is the workbook's zip writer: it deflates each part on
// several cores, as pigz does, while the part is still being written.
//
// A part's bytes are cut into chunks, each deflated on a goroutine of its
// own as soon as it is complete and ended by a sync flush (so that their
// concatenation is one valid deflate stream), the last by the final
// block. The writer goes on while the chunks before are deflated: the
// pledge sheets' rows are made as they are written (rowSplicer), and
// deflating each chunk inside the Write that completed it left the other
// core idle while the rows were made, then the maker idle while the chunk
// was deflated. At most workers chunks are in flight; the next waits for
// the oldest, whose deflated bytes are then appended in order. Nothing
// written is kept beyond that but the deflated bytes: memory is the
// archive's compressed size and a chunk per worker, not the sheets' XML
// again. A chunk does not see its predecessor's bytes, which costs well
// under 1% of the size at 1 MiB chunks (4.36 → 4.37 MB for the workbook of
// 10,000 submissions). The parts are written to the archive, in order, on
// Close.
type parallelZip struct {
	zw      *zip.Writer
	level   int
	chunk   int
	workers int
	parts   []*zipPart
	current *zipPart
	pool    sync.Pool // *flate.Writer
	buffers sync.Pool // *[]byte of chunk bytes, for the chunks in flight
	// splice, when set, puts the pledge sheets' rows into the sheet
	// parts; spliced writes the current part when it is one.
	splice  *rowSplicer
	spliced *spliceWriter
}

// zipPart is one file of the archive.
type zipPart struct {
	zip     *parallelZip
	name    string
	pending *[]byte // written, not yet handed over: less than a chunk
	// inFlight are the chunks handed over, oldest first, not yet
	// appended to out.
	inFlight []*deflation
	out      bytes.Buffer // the deflated bytes so far
	crc      hash.Hash32
	size     uint64
	err      error
}

// deflation is one chunk being deflated.
type deflation struct {
	done  chan struct{}
	chunk *[]byte
	out   bytes.Buffer
	err   error
}

// zipVersion20 is zip's version 2.0, which deflate needs.
const zipVersion20 = 20

// workbookZip makes excelize's zip writer: deflate at its fastest level
// (the default level took as long as making the sheets, for a file a
// fifth smaller), on every core. The rows of splice's sheets are put into
// their parts.
func workbookZip(workers int, splice *rowSplicer) func(io.Writer) excelize.ZipWriter {
	return func(w io.Writer) excelize.ZipWriter {
		z := newParallelZip(w, flate.BestSpeed, workers, 1<<20)
		z.splice = splice
		return z
	}
}

func newParallelZip(w io.Writer, level, workers, chunk int) *parallelZip {
	return &parallelZip{zw: zip.NewWriter(w), level: level, chunk: chunk, workers: max(1, workers)}
}

// Create starts a part, after deflating the rest of the previous one.
func (z *parallelZip) Create(name string) (io.Writer, error) {
	if err := z.finish(); err != nil {
		return nil, err
	}
	z.current = &zipPart{zip: z, name: name, crc: crc32.NewIEEE(), pending: z.buffer()}
	z.parts = append(z.parts, z.current)
	if z.splice != nil && strings.HasPrefix(name, "xl/worksheets/") {
		z.spliced = &spliceWriter{s: z.splice, part: z.current}
		return z.spliced, nil
	}
	return z.current, nil
}

// AddFS is not used by excelize when it saves a workbook.
func (z *parallelZip) AddFS(fs.FS) error {
	return errors.New("parallelZip: AddFS is not supported")
}

// buffer is an empty chunk buffer.
func (z *parallelZip) buffer() *[]byte {
	if b, ok := z.buffers.Get().(*[]byte); ok {
		*b = (*b)[:0]
		return b
	}
	b := make([]byte, 0, z.chunk)
	return &b
}

// Write fills the pending chunk and hands each complete one over to be
// deflated.
func (p *zipPart) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	written := len(b)
	p.crc.Write(b)
	p.size += uint64(written)
	for len(b) > 0 {
		n := min(len(b), p.zip.chunk-len(*p.pending))
		*p.pending = append(*p.pending, b[:n]...)
		b = b[n:]
		if len(*p.pending) == p.zip.chunk {
			if p.err = p.handOver(false); p.err != nil {
				return 0, p.err
			}
		}
	}
	return written, nil
}

// handOver starts deflating the pending chunk, the final one of the part
// if final is set, once fewer than workers chunks are in flight.
func (p *zipPart) handOver(final bool) error {
	for len(p.inFlight) >= p.zip.workers {
		if err := p.collect(); err != nil {
			return err
		}
	}
	d := &deflation{done: make(chan struct{}), chunk: p.pending}
	p.pending = nil
	if !final {
		p.pending = p.zip.buffer()
	}
	p.inFlight = append(p.inFlight, d)
	go func() {
		defer close(d.done)
		defer safego.Catch(&d.err)
		d.err = p.zip.deflateChunk(&d.out, *d.chunk, final)
	}()
	return nil
}

// collect waits for the oldest chunk in flight and appends its bytes.
func (p *zipPart) collect() error {
	d := p.inFlight[0]
	p.inFlight = p.inFlight[1:]
	<-d.done
	p.zip.buffers.Put(d.chunk)
	if d.err != nil {
		return d.err
	}
	p.out.Write(d.out.Bytes())
	return nil
}

// finish deflates the current part's last bytes with the final block and
// waits for all its chunks. A part that failed still waits for the chunks
// it started.
func (z *parallelZip) finish() error {
	p := z.current
	if p == nil {
		return nil
	}
	z.current = nil
	if w := z.spliced; w != nil {
		z.spliced = nil
		if err := w.flush(); err != nil && p.err == nil {
			p.err = err
		}
	}
	if p.err == nil {
		p.err = p.handOver(true)
	}
	for len(p.inFlight) > 0 {
		if err := p.collect(); err != nil && p.err == nil {
			p.err = err
		}
	}
	return p.err
}

func (z *parallelZip) deflateChunk(out *bytes.Buffer, chunk []byte, final bool) (err error) {
	fw, _ := z.pool.Get().(*flate.Writer)
	if fw == nil {
		if fw, err = flate.NewWriter(out, z.level); err != nil {
			return err
		}
	} else {
		fw.Reset(out)
	}
	defer z.pool.Put(fw)
	if _, err := fw.Write(chunk); err != nil {
		return err
	}
	if final {
		return fw.Close()
	}
	// A sync flush ends the chunk on a byte boundary without ending the
	// stream: the next chunk's blocks follow it.
	return fw.Flush()
}

// Close finishes the last part and writes the archive, parts in order.
func (z *parallelZip) Close() error {
	errs := []error{z.finish()}
	if z.splice != nil {
		errs = append(errs, z.splice.unplaced())
	}
	for _, p := range z.parts {
		if p.err != nil {
			errs = append(errs, p.err)
			break
		}
		// CreateRaw writes the version fields as given: 2.0, as Create
		// writes them (readers such as Excel check them).
		w, err := z.zw.CreateRaw(&zip.FileHeader{Name: p.name, Method: zip.Deflate, CRC32: p.crc.Sum32(),
			CompressedSize64: uint64(p.out.Len()), UncompressedSize64: p.size,
			CreatorVersion: zipVersion20, ReaderVersion: zipVersion20})
		if err == nil {
			_, err = w.Write(p.out.Bytes())
		}
		if err != nil {
			errs = append(errs, err)
			break
		}
		p.out = bytes.Buffer{}
	}
	errs = append(errs, z.zw.Close())
	return errors.Join(errs...)
}
