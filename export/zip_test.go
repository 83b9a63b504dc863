package export

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"
)

// TestParallelZipWritesEveryPartInOrder writes parts of many sizes, some
// in one write and some in many, some past the size deflated inline, and
// reads the archive back with the standard library.
func TestParallelZipWritesEveryPartInOrder(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			var buf bytes.Buffer
			z := newParallelZip(&buf, flate.BestSpeed, workers, 1000)
			want := map[string]string{}
			var names []string
			for i, size := range []int{0, 1, 999, 1000, 1001, 5000, 70000, 3, 2500, 1999, 2000} {
				name := fmt.Sprintf("xl/part%d.xml", i)
				content := strings.Repeat(fmt.Sprintf("<row r=\"%d\">%d</row>", i, size), size/20+1)[:size]
				w, err := z.Create(name)
				if err != nil {
					t.Fatal(err)
				}
				// Odd parts arrive in small writes, even ones in one.
				if i%2 == 1 {
					for rest := content; rest != ""; {
						n := min(len(rest), 333)
						if _, err := io.WriteString(w, rest[:n]); err != nil {
							t.Fatal(err)
						}
						rest = rest[n:]
					}
				} else if _, err := io.WriteString(w, content); err != nil {
					t.Fatal(err)
				}
				want[name] = content
				names = append(names, name)
			}
			if err := z.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.File) != len(names) {
				t.Fatalf("%d parts, want %d", len(r.File), len(names))
			}
			for i, f := range r.File {
				if f.Name != names[i] {
					t.Errorf("part %d is %s, want %s", i, f.Name, names[i])
				}
				if f.Method != zip.Deflate {
					t.Errorf("%s stored with method %d, want deflate", f.Name, f.Method)
				}
				if f.ReaderVersion != 20 || f.CreatorVersion&0xff != 20 {
					t.Errorf("%s: version needed %d, made by %d, want 20 (2.0) as zip.Writer.Create writes", f.Name, f.ReaderVersion, f.CreatorVersion&0xff)
				}
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc) // checks the CRC and the size
				rc.Close()
				if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				if string(got) != want[f.Name] {
					t.Errorf("%s: %d bytes read back, want %d", f.Name, len(got), len(want[f.Name]))
				}
			}
		})
	}
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after -= len(p); w.after < 0 {
		return 0, fmt.Errorf("disk full")
	}
	return len(p), nil
}

func TestParallelZipReportsAWriteError(t *testing.T) {
	z := newParallelZip(&failingWriter{after: 100}, flate.BestSpeed, 2, 1000)
	for i := range 3 {
		w, _ := z.Create(fmt.Sprintf("p%d", i))
		io.WriteString(w, strings.Repeat("x", 5000))
	}
	if err := z.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Close = %v, want the writer's error", err)
	}
	if err := z.AddFS(nil); err == nil {
		t.Error("AddFS accepted")
	}
}

// TestParallelZipBoundsChunksInFlight: a part written faster than it is
// deflated holds at most a chunk per worker in flight, and a pending one.
func TestParallelZipBoundsChunksInFlight(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		z := newParallelZip(io.Discard, flate.BestSpeed, workers, 4096)
		w, err := z.Create("xl/worksheets/sheet1.xml")
		if err != nil {
			t.Fatal(err)
		}
		most := 0
		for i := range 2000 {
			if _, err := fmt.Fprintf(w, "<row r=\"%d\"><c><v>%d</v></c></row>", i, i*i); err != nil {
				t.Fatal(err)
			}
			most = max(most, len(z.current.inFlight))
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
		if most > workers || most == 0 {
			t.Errorf("%d workers: up to %d chunks in flight", workers, most)
		}
	}
}
