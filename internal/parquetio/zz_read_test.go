package parquetio

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestZZSizes(t *testing.T) {
	p := os.Getenv("ZZ")
	if p == "" {
		t.Skip()
	}
	total := 0
	ReadRowGroups(context.Background(), p, memory.DefaultAllocator, func(r arrow.RecordBatch) error {
		for i, c := range r.Columns() {
			n := 0
			for _, b := range c.Data().Buffers() {
				if b != nil {
					n += b.Len()
				}
			}
			if l, ok := c.(*array.List); ok {
				for _, b := range l.ListValues().Data().Buffers() {
					if b != nil {
						n += b.Len()
					}
				}
			}
			total += n
			fmt.Printf("%s rows=%d bytes=%d\n", r.Schema().Field(i).Name, c.Len(), n)
		}
		return nil
	})
	fmt.Println("total", total)
}

func BenchmarkZZReadAll(b *testing.B) {
	p := os.Getenv("ZZ")
	for b.Loop() {
		ReadRowGroups(context.Background(), p, memory.DefaultAllocator, func(r arrow.RecordBatch) error { return nil })
	}
}
