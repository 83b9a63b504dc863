// Package demo bundles sample input files for trying pledgestat without real
// data: ratifications of ILO Conventions (an English NORMLEX-style workbook
// and a Spanish CSV), social-protection coverage (a workbook and an ILOSTAT
// bulk CSV), bilateral and multilateral labour migration agreements, and one
// file of agreement updates that the reader must reject, to show an error
// report.
//
// The data are invented. They are plausible in shape and order of magnitude,
// and they use real country names and ILO instrument codes, but they are not
// real statistics: no figure, date or agreement in them may be quoted as a
// fact about any country.
//
// The files are written by tools/demogen (go run ./tools/demogen -o
// demo/samples) and embedded here.
package demo

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
)

//go:embed samples/*
var samples embed.FS

// Files returns the bundled sample files by name.
func Files() (map[string][]byte, error) {
	entries, err := fs.ReadDir(samples, "samples")
	if err != nil {
		return nil, fmt.Errorf("demo: list samples: %w", err)
	}
	out := make(map[string][]byte, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := samples.ReadFile(path.Join("samples", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("demo: read %s: %w", e.Name(), err)
		}
		out[e.Name()] = b
	}
	return out, nil
}

// Seed writes the sample files into dir (the inbox), creating it; it never
// overwrites an existing file. It returns the names of the files it wrote,
// in lexical order; a file already present under a sample's name is left as
// it is and not listed.
//
// Each file is written under a hidden temporary name (which the reader
// skips) and then linked to its final name, so the inbox never shows a
// half-written sample and an existing file can never be replaced.
func Seed(dir string) ([]string, error) {
	files, err := Files()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: create %s: %w", dir, err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var written []string
	for _, name := range names {
		ok, err := writeNew(filepath.Join(dir, name), files[name])
		if err != nil {
			return written, fmt.Errorf("demo: %w", err)
		}
		if ok {
			written = append(written, name)
		}
	}
	return written, nil
}

// writeNew creates path with data unless it exists; it reports whether it
// wrote the file.
func writeNew(dst string, data []byte) (bool, error) {
	if _, err := os.Lstat(dst); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".demo-*-"+filepath.Base(dst))
	if err != nil {
		return false, err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return false, fmt.Errorf("chmod %s: %w", tmpName, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("sync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("close %s: %w", tmpName, err)
	}
	// A hard link fails if dst exists: the check and the creation are one
	// step, so a file that appeared meanwhile is not replaced either.
	err = os.Link(tmpName, dst)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrExist):
		return false, nil
	}
	// File systems without hard links: create exclusively and copy.
	return copyExclusive(dst, data)
}

func copyExclusive(dst string, data []byte) (bool, error) {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(dst)
		return false, fmt.Errorf("write %s: %w", dst, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(dst)
		return false, fmt.Errorf("close %s: %w", dst, err)
	}
	return true, nil
}
