// Package xlsxtest helps tests make workbooks that excelize does not write
// itself: cached formula results, stale ranges, broken XML.
package xlsxtest

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
)

// EditParts returns a copy of a workbook's bytes in which every part whose
// name starts with prefix has been passed through edit.
func EditParts(t testing.TB, data []byte, prefix string, edit func(string) string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(f.Name, prefix) {
			body = []byte(edit(string(body)))
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
