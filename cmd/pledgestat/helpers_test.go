package main

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func arrowTableReader(tbl arrow.Table) *array.TableReader {
	return array.NewTableReader(tbl, 1<<16)
}
