package parquetio

import (
	"io"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// arrow-go compresses each Parquet page with a zstd encoder taken from a
// sync.Pool, which the garbage collector empties at every cycle. Each new
// encoder allocates (and the kernel zeroes) 8.7 MB of history and tables
// before its first page, so a 200k-row ingest made some thirty of them
// and spent 7% of its CPU in that alone. The codec registered here, in
// the way compress.RegisterCodec documents for a replacement codec, keeps
// one encoder per level for the life of the process, each serving every
// goroutine (EncodeAll is safe for concurrent use). Its options are
// arrow-go's but for the window: 1 MiB, the size of a Parquet page
// (parquet.DefaultDataPageSize), as each page is a frame of its own and a
// longer window finds nothing more in it. That makes an encoder 2.4 MB,
// and there are at most four (maxZstdEncoders).
func init() {
	compress.RegisterCodec(compress.Codecs.Zstd, newZstdCodec())
}

// maxZstdEncoders bounds the pages compressed at once, each with an
// encoder of its own made on first use and kept: by default there would
// be one per core (44 MB on a 32-core machine); pledgestat's writers run
// on at most a few goroutines.
const maxZstdEncoders = 4

// zstdWindow is the encoders' window: a page's size.
const zstdWindow = int(parquet.DefaultDataPageSize)

// zstdCodec is the zstd codec of every Parquet file this process reads
// or writes.
type zstdCodec struct {
	encoders [zstd.SpeedBestCompression + 1]func() *zstd.Encoder
	decoder  func() *zstd.Decoder
}

func newZstdCodec() *zstdCodec {
	c := &zstdCodec{}
	for level := zstd.SpeedFastest; level <= zstd.SpeedBestCompression; level++ {
		c.encoders[level] = sync.OnceValue(func() *zstd.Encoder {
			enc, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(level), zstd.WithAllLitEntropyCompression(true),
				zstd.WithWindowSize(zstdWindow), zstd.WithEncoderConcurrency(min(runtime.GOMAXPROCS(0), maxZstdEncoders)))
			if err != nil {
				panic(err) // only for options that do not exist
			}
			return enc
		})
	}
	c.decoder = sync.OnceValue(func() *zstd.Decoder {
		dec, err := zstd.NewReader(nil)
		if err != nil {
			panic(err)
		}
		return dec
	})
	return c
}

// zstdLevel is the encoder level of a zstd level (1 to 22, or arrow-go's
// default), as arrow-go maps it.
func zstdLevel(level int) zstd.EncoderLevel {
	if level == compress.DefaultCompressionLevel {
		return zstd.SpeedDefault
	}
	return zstd.EncoderLevelFromZstd(level)
}

// encoder is the encoder of a zstd level.
func (c *zstdCodec) encoder(level int) *zstd.Encoder {
	return c.encoders[zstdLevel(level)]()
}

// Encode compresses src at the default level.
func (c *zstdCodec) Encode(dst, src []byte) []byte {
	return c.encoder(compress.DefaultCompressionLevel).EncodeAll(src, dst[:0])
}

// EncodeLevel compresses src at a zstd level.
func (c *zstdCodec) EncodeLevel(dst, src []byte, level int) []byte {
	return c.encoder(level).EncodeAll(src, dst[:0])
}

// CompressBound is zstd's ZSTD_COMPRESSBOUND, as arrow-go's codec gives it.
func (c *zstdCodec) CompressBound(n int64) int64 {
	extra := ((128 << 10) - n) >> 11
	if n >= (128 << 10) {
		extra = 0
	}
	return n + (n >> 8) + extra
}

// Decode decompresses a page; it panics on a malformed one, as the Codec
// interface allows (arrow-go calls DecodeWithError).
func (c *zstdCodec) Decode(dst, src []byte) []byte {
	out, err := c.DecodeWithError(dst, src)
	if err != nil {
		panic(err)
	}
	return out
}

// DecodeWithError decompresses a page, with an error for a malformed one.
func (c *zstdCodec) DecodeWithError(dst, src []byte) ([]byte, error) {
	return c.decoder().DecodeAll(src, dst[:0])
}

// NewReader decompresses a stream.
func (c *zstdCodec) NewReader(r io.Reader) io.ReadCloser {
	dec, err := zstd.NewReader(r)
	if err != nil {
		return io.NopCloser(errorReader{err})
	}
	return dec.IOReadCloser()
}

// NewWriter compresses a stream at the default level.
func (c *zstdCodec) NewWriter(w io.Writer) io.WriteCloser {
	enc, _ := zstd.NewWriter(w)
	return enc
}

// NewWriterLevel compresses a stream at a zstd level.
func (c *zstdCodec) NewWriterLevel(w io.Writer, level int) (io.WriteCloser, error) {
	return zstd.NewWriter(w, zstd.WithEncoderLevel(zstdLevel(level)))
}

type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }
