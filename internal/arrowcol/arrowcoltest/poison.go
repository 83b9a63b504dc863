// Package arrowcoltest holds an allocator for tests that check nothing
// keeps pointing into an Arrow buffer after its batch is released.
package arrowcoltest

import "github.com/apache/arrow-go/v18/arrow/memory"

// Poisoning wraps an allocator so that every buffer is overwritten with
// 0xFF when it is freed: a string still pointing into a released batch
// then reads as garbage instead of, by luck, as its old value (Go's
// allocator keeps freed memory alive and unchanged while anything points
// to it; others reuse it at once).
func Poisoning(mem memory.Allocator) memory.Allocator { return poisoning{mem} }

type poisoning struct{ memory.Allocator }

func (p poisoning) Free(b []byte) {
	for i := range b {
		b[i] = 0xff
	}
	p.Allocator.Free(b)
}

func (p poisoning) Reallocate(size int, b []byte) []byte {
	out := p.Allocator.Reallocate(size, b)
	if len(b) > 0 && len(out) > 0 && &out[0] != &b[0] {
		for i := range b {
			b[i] = 0xff
		}
	}
	return out
}
