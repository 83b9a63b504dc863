package parquetio

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// The zstd codec of every Parquet file is the one registered here: its
// encoders outlive garbage collections (a page compressed after two
// collections allocates no new encoder's megabyte), its pages are plain
// zstd frames that any decoder reads, and it reads them back.
func TestZstdCodec(t *testing.T) {
	codec, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := codec.(*zstdCodec); !ok {
		t.Fatalf("the registered zstd codec is %T, not pledgestat's", codec)
	}
	page := bytes.Repeat([]byte("SOC_CONTIG_TOTAL,FRA,2020,45.5,Sheet1!C4\n"), 1<<15) // 1.3 MB, several blocks
	for _, level := range []int{1, compress.DefaultCompressionLevel} {                // pledgestat writes level 1
		dst := make([]byte, 0, codec.CompressBound(int64(len(page))))
		for range runtime.GOMAXPROCS(0) { // an encoder each, made on first use
			codec.EncodeLevel(dst, page, level)
		}
		runtime.GC()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		out := codec.EncodeLevel(dst, page, level)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<10 {
			t.Errorf("level %d: a page after two collections allocated %d bytes: a new encoder", level, alloc)
		}
		plain, err := zstd.NewReader(nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := plain.DecodeAll(out, nil); err != nil || !bytes.Equal(got, page) {
			t.Errorf("level %d: a plain zstd decoder read %d bytes, %v", level, len(got), err)
		}
		plain.Close()
		got, err := codec.(compress.ErrorCodec).DecodeWithError(nil, out)
		if err != nil || !bytes.Equal(got, page) {
			t.Errorf("level %d: decoded %d bytes, %v", level, len(got), err)
		}
	}
	if _, err := codec.(compress.ErrorCodec).DecodeWithError(nil, []byte("not zstd")); err == nil {
		t.Error("a malformed page decoded without an error")
	}
}
