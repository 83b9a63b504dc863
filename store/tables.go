package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/records"
)

// Tables is the current state as one Arrow table per domain, in the
// domain's published schema (its descriptor's), or, for a table read
// unchanged from the snapshot, the columns the caller asked for.
type Tables struct {
	batches map[records.Domain]arrow.RecordBatch
	// files names, for a table read unchanged from the snapshot, the
	// Parquet file that holds it: publishing it is copying that file.
	files map[records.Domain]string
}

func newTables() *Tables {
	return &Tables{batches: map[records.Domain]arrow.RecordBatch{}, files: map[records.Domain]string{}}
}

// Table returns the table of domain d (nil for an unknown domain).
func (t *Tables) Table(d records.Domain) arrow.RecordBatch { return t.batches[d] }

// File returns the path of a Parquet file holding exactly the table of
// domain d, or "" when the table exists only in memory.
func (t *Tables) File(d records.Domain) string { return t.files[d] }

func (t *Tables) set(d records.Domain, b arrow.RecordBatch, file string) {
	if old := t.batches[d]; old != nil {
		old.Release()
	}
	t.batches[d] = b
	if file == "" {
		delete(t.files, d)
	} else {
		t.files[d] = file
	}
}

// Release releases every table.
func (t *Tables) Release() {
	for _, b := range t.batches {
		b.Release()
	}
	clear(t.batches)
}

// Tables returns the current records as Arrow tables: what Current
// returns, in the same order, built by the same names. A build needs
// nothing else, so when the snapshot is usable the records never become
// Go values: its tables are read as they are, and the few submissions
// accepted since are applied on top (a record whose key is current
// replaces it in place, a new one is appended). Without a usable snapshot
// the records are read from every submission, as Current does.
//
// namesID identifies the names (reference data and tool version) the
// tables are built with: a snapshot written with other names is not used
// as it is. only names, per domain, the columns the caller reads of a
// table the snapshot gives unchanged (File names its file, which has
// them all): the others are not read. A domain it does not list is read
// whole. The caller releases the tables.
func (s *Store) Tables(ctx context.Context, mem memory.Allocator, names records.NameFunc, namesID string, only map[records.Domain][]string) (*Tables, error) {
	if snap := s.openSnapshot(); snap != nil && snap.state.Names == namesID && s.current == nil {
		tables, err := s.snapshotTables(ctx, mem, snap, names, only)
		if err == nil {
			return tables, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.log.Warn("store: the snapshot cannot be read; reading every submission", "err", err)
	}
	cur, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	set := cur.set()
	tables := newTables()
	for _, desc := range s.domains {
		tables.set(desc.Domain, desc.Batch(mem, set, names), "")
	}
	return tables, nil
}

// snapshotTables reads the snapshot's tables and applies the submissions
// accepted since.
func (s *Store) snapshotTables(ctx context.Context, mem memory.Allocator, snap *snapshot, names records.NameFunc, only map[records.Domain][]string) (*Tables, error) {
	tables := newTables()
	ok := false
	defer func() {
		if !ok {
			tables.Release()
		}
	}()
	// The submissions accepted since come first: a table they change is
	// read whole, since it is published from memory.
	delta := newCurrent(s.domains)
	err := s.eachSubmissionAfter(ctx, snap.state.Through, func(e Entry, set records.Set) error {
		return delta.applyChecked(ctx, e.Seq, set)
	})
	if err != nil {
		return nil, err
	}
	changed := map[records.Domain]bool{}
	for _, k := range delta.domains {
		changed[k.desc.Domain] = len(k.order) > 0
	}
	for _, desc := range s.domains {
		d, schema := desc.Domain, desc.Schema
		n := snap.state.Rows[string(d)]
		if n == 0 {
			cols := emptyColumns(mem, schema)
			tables.set(d, array.NewRecordBatch(schema, cols, 0), "")
			for _, c := range cols {
				c.Release()
			}
			continue
		}
		path := filepath.Join(snap.dir, string(d)+".parquet")
		var columns []string
		if !changed[d] {
			columns = only[d]
		}
		t, err := readTable(ctx, path, mem, schema, columns)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", snap.dir, err)
		}
		tables.set(d, t, path)
		if int(t.NumRows()) != n {
			return nil, fmt.Errorf("snapshot %s: %s holds %d rows, its state says %d", snap.dir, d, t.NumRows(), n)
		}
	}
	dset := delta.set()
	for _, k := range delta.domains {
		d := k.desc.Domain
		if len(k.order) == 0 {
			continue
		}
		added := k.desc.Batch(mem, dset, names)
		merged, err := s.applyDelta(ctx, snap, d, tables.Table(d), added, k.order, mem)
		added.Release()
		if err != nil {
			return nil, err
		}
		tables.set(d, merged, "")
	}
	ok = true
	return tables, nil
}

// applyDelta returns base with the rows of added applied: a row of added
// whose key (keys[j]) is a row of base replaces that row in place, the
// others are appended in their order. The snapshot's key index tells
// whether any key is current at all; only then are base's keys read.
func (s *Store) applyDelta(ctx context.Context, snap *snapshot, d records.Domain, base, added arrow.RecordBatch, keys []string, mem memory.Allocator) (arrow.RecordBatch, error) {
	current, err := snap.keyHashes(d)
	if err != nil {
		return nil, err
	}
	superseding := false
	for _, k := range keys {
		if current.has(keyHash(k)) {
			superseding = true
			break
		}
	}
	var segs []arrowcol.Rows
	if !superseding {
		segs = []arrowcol.Rows{arrowcol.RowsOf(base, 0, int(base.NumRows())), arrowcol.RowsOf(added, 0, int(added.NumRows()))}
		return arrowcol.Join(mem, base.Schema(), segs)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	baseKeys, err := records.KeysOf(d, base)
	if err != nil {
		return nil, err
	}
	pos := make(map[string]int, len(keys))
	for j, k := range keys {
		pos[k] = j
	}
	used := make([]bool, len(keys))
	from := 0
	for i, k := range baseKeys {
		j, ok := pos[k]
		if !ok {
			continue
		}
		segs = append(segs, arrowcol.RowsOf(base, from, i), arrowcol.RowsOf(added, j, j+1))
		used[j] = true
		from = i + 1
	}
	segs = append(segs, arrowcol.RowsOf(base, from, len(baseKeys)))
	for j := range keys {
		if !used[j] {
			segs = append(segs, arrowcol.RowsOf(added, j, j+1))
		}
	}
	return arrowcol.Join(mem, base.Schema(), segs)
}

// readTable reads a table of the schema from a Parquet file, only the
// named columns when columns is not nil.
func readTable(ctx context.Context, path string, mem memory.Allocator, schema *arrow.Schema, columns []string) (arrow.RecordBatch, error) {
	if columns != nil {
		fields := make([]arrow.Field, 0, len(columns))
		for _, name := range columns {
			idx := schema.FieldIndices(name)
			if len(idx) != 1 {
				return nil, fmt.Errorf("%s: no column %q in %s", path, name, schema)
			}
			fields = append(fields, schema.Field(idx[0]))
		}
		schema = arrow.NewSchema(fields, nil)
	}
	var chunks []arrow.RecordBatch
	defer func() {
		for _, b := range chunks {
			b.Release()
		}
	}()
	read, same := parquetio.ReadRowGroupsColumns, parquetio.SameColumns
	if columns != nil {
		// Columns read for the build's computing alone: its repetitive
		// text (an agreement's twelve provision flags, its type, its
		// file) is read as dictionaries, not a string a row (a third of
		// the build's memory at 10,000 submissions).
		read, same = parquetio.ReadCodedColumns, parquetio.SameValues
	}
	err := read(ctx, path, mem, columns, func(b arrow.RecordBatch) error {
		if !same(b.Schema(), schema) {
			return fmt.Errorf("%s: schema %s, want %s", path, b.Schema(), schema)
		}
		b.Retain()
		chunks = append(chunks, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(chunks) == 1 {
		// The schema the batch has, which says which columns are coded.
		schema = chunks[0].Schema()
	}
	var segs []arrowcol.Rows
	for _, b := range chunks {
		segs = append(segs, arrowcol.RowsOf(b, 0, int(b.NumRows())))
	}
	return arrowcol.Join(mem, schema, segs)
}

func emptyColumns(mem memory.Allocator, schema *arrow.Schema) []arrow.Array {
	cols := make([]arrow.Array, schema.NumFields())
	for i, f := range schema.Fields() {
		cols[i] = array.MakeArrayOfNull(mem, f.Type, 0)
	}
	return cols
}

// keyHashes reads the snapshot's key index of a domain.
func (snap *snapshot) keyHashes(d records.Domain) (*keySet, error) {
	out := newKeySet()
	if snap.state.Rows[string(d)] == 0 {
		return out, nil
	}
	path := filepath.Join(snap.dir, "keys-"+string(d)+".bin")
	data, err := fsx.ReadRegular(path, 1<<34)
	if err != nil {
		return nil, fmt.Errorf("key index: %w", err)
	}
	if len(data)%8 != 0 || len(data)/8 != snap.state.Rows[string(d)] {
		return nil, fmt.Errorf("key index %s: %d bytes for %d records", path, len(data), snap.state.Rows[string(d)])
	}
	out.sorted = make([]uint64, len(data)/8)
	for i := range out.sorted {
		h := binary.LittleEndian.Uint64(data[8*i:])
		if i > 0 && h <= out.sorted[i-1] {
			// Written sorted without repeats (writeIndex): anything else
			// is damage, and a binary search would miss keys in it.
			return nil, fmt.Errorf("key index %s: not in ascending order at hash %d", path, i)
		}
		out.sorted[i] = h
	}
	return out, nil
}
