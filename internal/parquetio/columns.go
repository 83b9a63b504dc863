package parquetio

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
)

// parquetSchema maps a flat Arrow schema to Parquet's, as pqarrow does: a
// nullable field is an optional column, any other a required one.
func parquetSchema(sc *arrow.Schema) (*schema.GroupNode, error) {
	fields := make(schema.FieldList, sc.NumFields())
	for i, f := range sc.Fields() {
		rep := parquet.Repetitions.Required
		if f.Nullable {
			rep = parquet.Repetitions.Optional
		}
		var logical schema.LogicalType
		var physical parquet.Type
		switch f.Type.ID() {
		case arrow.STRING:
			logical, physical = schema.StringLogicalType{}, parquet.Types.ByteArray
		case arrow.INT32:
			logical, physical = schema.NewIntLogicalType(32, true), parquet.Types.Int32
		case arrow.INT64:
			logical, physical = schema.NewIntLogicalType(64, true), parquet.Types.Int64
		case arrow.FLOAT64:
			logical, physical = schema.NoLogicalType{}, parquet.Types.Double
		case arrow.DATE32:
			logical, physical = schema.DateLogicalType{}, parquet.Types.Int32
		case arrow.BOOL:
			logical, physical = schema.NoLogicalType{}, parquet.Types.Boolean
		case arrow.LIST:
			node, err := listNode(f, rep)
			if err != nil {
				return nil, err
			}
			fields[i] = node
			continue
		default:
			return nil, fmt.Errorf("column %s: type %s is not supported", f.Name, f.Type)
		}
		node, err := schema.NewPrimitiveNodeLogical(f.Name, rep, logical, physical, -1, -1)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		fields[i] = node
	}
	return schema.NewGroupNode("schema", parquet.Repetitions.Required, fields, -1)
}

// listNode is a list of strings in Parquet's three-level layout, the one
// Arrow's writers use: a LIST group holding a repeated group "list" of one
// field "element".
func listNode(f arrow.Field, rep parquet.Repetition) (schema.Node, error) {
	lt := f.Type.(*arrow.ListType)
	if lt.Elem().ID() != arrow.STRING {
		return nil, fmt.Errorf("column %s: type %s is not supported", f.Name, f.Type)
	}
	elemRep := parquet.Repetitions.Required
	if lt.ElemField().Nullable {
		elemRep = parquet.Repetitions.Optional
	}
	elem, err := schema.NewPrimitiveNodeLogical("element", elemRep, schema.StringLogicalType{}, parquet.Types.ByteArray, -1, -1)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", f.Name, err)
	}
	list, err := schema.NewGroupNode("list", parquet.Repetitions.Repeated, schema.FieldList{elem}, -1)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", f.Name, err)
	}
	return schema.NewGroupNodeLogical(f.Name, rep, schema.FieldList{list}, schema.ListLogicalType{}, -1)
}

// listField reads a root field in the layout listNode writes.
func listField(n *schema.GroupNode) (arrow.Field, error) {
	if _, ok := n.LogicalType().(schema.ListLogicalType); !ok || n.NumFields() != 1 {
		return arrow.Field{}, fmt.Errorf("column %s: groups other than lists are not supported", n.Name())
	}
	list, ok := n.Field(0).(*schema.GroupNode)
	if !ok || list.RepetitionType() != parquet.Repetitions.Repeated || list.NumFields() != 1 {
		return arrow.Field{}, fmt.Errorf("column %s: only three-level lists are supported", n.Name())
	}
	elem, ok := list.Field(0).(*schema.PrimitiveNode)
	if !ok || elem.PhysicalType() != parquet.Types.ByteArray || elem.RepetitionType() == parquet.Repetitions.Repeated {
		return arrow.Field{}, fmt.Errorf("column %s: only lists of strings are supported", n.Name())
	}
	if _, ok := elem.LogicalType().(schema.StringLogicalType); !ok {
		return arrow.Field{}, fmt.Errorf("column %s: only lists of strings are supported", n.Name())
	}
	t := arrow.ListOfField(arrow.Field{Name: "item", Type: arrow.BinaryTypes.String, Nullable: elem.RepetitionType() == parquet.Repetitions.Optional})
	return arrow.Field{Name: n.Name(), Type: t, Nullable: n.RepetitionType() == parquet.Repetitions.Optional}, nil
}

// arrowSchema is the Arrow schema of a file of flat columns: the inverse
// of parquetSchema, with the file's key-value metadata (but the stored
// Arrow schema) as the schema's metadata.
func arrowSchema(md *metadata.FileMetaData) (*arrow.Schema, error) {
	sc := md.Schema
	if sc.Root().NumFields() != sc.NumColumns() {
		return nil, fmt.Errorf("%d fields in %d columns: only flat tables and lists are supported", sc.Root().NumFields(), sc.NumColumns())
	}
	fields := make([]arrow.Field, sc.NumColumns())
	for i := range sc.NumColumns() {
		if g, ok := sc.Root().Field(i).(*schema.GroupNode); ok {
			f, err := listField(g)
			if err != nil {
				return nil, err
			}
			fields[i] = f
			continue
		}
		c := sc.Column(i)
		if c.MaxRepetitionLevel() != 0 || c.MaxDefinitionLevel() > 1 || c.SchemaNode().Parent() != sc.Root() {
			return nil, fmt.Errorf("column %s: nested columns are not supported", c.ColumnPath())
		}
		var t arrow.DataType
		logical := c.LogicalType()
		switch c.PhysicalType() {
		case parquet.Types.ByteArray:
			if _, ok := logical.(schema.StringLogicalType); !ok {
				return nil, fmt.Errorf("column %s: byte arrays that are not strings are not supported", c.Name())
			}
			t = arrow.BinaryTypes.String
		case parquet.Types.Int32:
			switch logical.(type) {
			case schema.DateLogicalType:
				t = arrow.FixedWidthTypes.Date32
			case schema.IntLogicalType, schema.NoLogicalType, nil:
				if il, ok := logical.(schema.IntLogicalType); ok && (il.BitWidth() != 32 || !il.IsSigned()) {
					return nil, fmt.Errorf("column %s: %s is not supported", c.Name(), logical)
				}
				t = arrow.PrimitiveTypes.Int32
			default:
				return nil, fmt.Errorf("column %s: %s is not supported", c.Name(), logical)
			}
		case parquet.Types.Int64:
			if il, ok := logical.(schema.IntLogicalType); ok && (il.BitWidth() != 64 || !il.IsSigned()) {
				return nil, fmt.Errorf("column %s: %s is not supported", c.Name(), logical)
			} else if !ok && !isNone(logical) {
				return nil, fmt.Errorf("column %s: %s is not supported", c.Name(), logical)
			}
			t = arrow.PrimitiveTypes.Int64
		case parquet.Types.Double:
			t = arrow.PrimitiveTypes.Float64
		case parquet.Types.Boolean:
			t = arrow.FixedWidthTypes.Boolean
		default:
			return nil, fmt.Errorf("column %s: physical type %s is not supported", c.Name(), c.PhysicalType())
		}
		fields[i] = arrow.Field{Name: c.Name(), Type: t, Nullable: c.MaxDefinitionLevel() == 1}
	}
	var keys, values []string
	kv := md.KeyValueMetadata()
	for i, k := range kv.Keys() {
		if k != arrowSchemaKey {
			keys = append(keys, k)
			values = append(values, kv.Values()[i])
		}
	}
	var meta *arrow.Metadata
	if len(keys) > 0 {
		m := arrow.NewMetadata(keys, values)
		meta = &m
	}
	return arrow.NewSchema(fields, meta), nil
}

func isNone(l schema.LogicalType) bool {
	_, ok := l.(schema.NoLogicalType)
	return l == nil || ok
}

// SameColumns reports whether two schemas have the same columns in the
// same order: names, types and nullability, metadata aside.
func SameColumns(a, b *arrow.Schema) bool {
	return sameFields(a, b, func(t arrow.DataType) arrow.DataType { return t })
}

// SameValues is SameColumns taking a dictionary column (as
// ReadCodedColumns gives) for a column of its values.
func SameValues(a, b *arrow.Schema) bool {
	return sameFields(a, b, func(t arrow.DataType) arrow.DataType {
		if d, ok := t.(*arrow.DictionaryType); ok {
			return d.ValueType
		}
		return t
	})
}

// sameFields reports whether two schemas have the same columns in the
// same order, their types compared as as gives them, metadata aside.
func sameFields(a, b *arrow.Schema, as func(arrow.DataType) arrow.DataType) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.NumFields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Nullable != fb.Nullable || !arrow.TypeEqual(as(fa.Type), as(fb.Type)) {
			return false
		}
	}
	return true
}

// columnBuffers are a writer's scratch slices, kept from one column to the
// next.
type columnBuffers struct {
	// dict, dictValues and indices are a string column's dictionary
	// (writeDictionary); arrowDictionaries leaves it to arrow-go (tests).
	dict              map[string]int32
	dictValues        []string
	indices           []int32
	arrowDictionaries bool
	// decoded counts the dictionary columns written as their text a row
	// (the tests see which way a column went).
	decoded int
	// batchOf marks, for each dictionary index, the last write batch it
	// was seen in: a batch's statistics are taken over its distinct
	// values.
	batchOf []int32

	defs   []int16
	reps   []int16
	bytes  []parquet.ByteArray
	int32s []int32
	f64s   []float64
	i64s   []int64
	bools  []bool
}

// definitions fills b.defs with each row's definition level (1 present,
// 0 null) when the column is nullable; nil otherwise.
func (b *columnBuffers) definitions(col arrow.Array, nullable bool) ([]int16, error) {
	if !nullable {
		if col.NullN() > 0 {
			return nil, errors.New("nulls in a column that is not nullable")
		}
		return nil, nil
	}
	b.defs = grow(b.defs, col.Len())
	for i := range col.Len() {
		if col.IsValid(i) {
			b.defs[i] = 1
		} else {
			b.defs[i] = 0
		}
	}
	return b.defs, nil
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// compact keeps the values of the rows that are not null, in order, in
// dst (Parquet's writers take only those).
func compact[T any](dst []T, col arrow.Array, values []T) []T {
	if col.NullN() == 0 {
		return values
	}
	dst = dst[:0]
	for i, v := range values {
		if col.IsValid(i) {
			dst = append(dst, v)
		}
	}
	return dst
}

// writeColumn writes one Arrow array to its column chunk writer. A
// dictionary of text (arrowcol's coded columns) is written as the text it
// stands for: its codes and values as the chunk's dictionary when the
// chunk is dictionary-encoded, else its text a row.
func writeColumn(cw file.ColumnChunkWriter, col arrow.Array, nullable bool, b *columnBuffers) error {
	defs, err := b.definitions(col, nullable)
	if err != nil {
		return err
	}
	if d, ok := col.(*array.Dictionary); ok {
		w, ok := cw.(*file.ByteArrayColumnChunkWriter)
		if !ok {
			return fmt.Errorf("a dictionary column written as %s", cw.Type())
		}
		if done, err := b.writeDictionary(w, d, defs); done || err != nil {
			return err
		}
		text, err := decodeText(d)
		if err != nil {
			return err
		}
		b.decoded++
		defer text.Release()
		col = text
	}
	switch c := col.(type) {
	case *array.String:
		w, ok := cw.(*file.ByteArrayColumnChunkWriter)
		if !ok {
			return fmt.Errorf("a string column written as %s", cw.Type())
		}
		if done, err := b.writeDictionary(w, c, defs); done || err != nil {
			return err
		}
		offsets := c.ValueOffsets()
		var data []byte
		if buf := c.Data().Buffers()[2]; buf != nil {
			data = buf.Bytes()
		}
		b.bytes = b.bytes[:0]
		for i := range c.Len() {
			if c.IsValid(i) {
				b.bytes = append(b.bytes, data[offsets[i]:offsets[i+1]:offsets[i+1]])
			}
		}
		_, err = w.WriteBatch(b.bytes, defs, nil)
	case *array.Int32:
		w, ok := cw.(*file.Int32ColumnChunkWriter)
		if !ok {
			return fmt.Errorf("an int32 column written as %s", cw.Type())
		}
		_, err = w.WriteBatch(compact(b.int32s, c, c.Int32Values()), defs, nil)
	case *array.Date32:
		w, ok := cw.(*file.Int32ColumnChunkWriter)
		if !ok {
			return fmt.Errorf("a date32 column written as %s", cw.Type())
		}
		b.int32s = b.int32s[:0]
		for i, v := range c.Date32Values() {
			if c.IsValid(i) {
				b.int32s = append(b.int32s, int32(v))
			}
		}
		_, err = w.WriteBatch(b.int32s, defs, nil)
	case *array.Int64:
		w, ok := cw.(*file.Int64ColumnChunkWriter)
		if !ok {
			return fmt.Errorf("an int64 column written as %s", cw.Type())
		}
		_, err = w.WriteBatch(compact(b.i64s, c, c.Int64Values()), defs, nil)
	case *array.Float64:
		w, ok := cw.(*file.Float64ColumnChunkWriter)
		if !ok {
			return fmt.Errorf("a float64 column written as %s", cw.Type())
		}
		_, err = w.WriteBatch(compact(b.f64s, c, c.Float64Values()), defs, nil)
	case *array.Boolean:
		w, ok := cw.(*file.BooleanColumnChunkWriter)
		if !ok {
			return fmt.Errorf("a boolean column written as %s", cw.Type())
		}
		b.bools = b.bools[:0]
		for i := range c.Len() {
			if c.IsValid(i) {
				b.bools = append(b.bools, c.Value(i))
			}
		}
		_, err = w.WriteBatch(b.bools, defs, nil)
	case *array.List:
		return writeList(cw, c, nullable, b)
	default:
		return fmt.Errorf("type %s is not supported", col.DataType())
	}
	return err
}

// dictionaryEncoder is what writeDictionary needs of arrow-go's dictionary
// encoder, whose type is internal to arrow-go.
type dictionaryEncoder interface {
	PutDictionary(arrow.Array) error
	NumEntries() int
	AddRawSize(int64)
}

// writeDictionary writes a string column whose chunk is dictionary
// encoded: the dictionary and each row's index in it, as arrow-go's
// writer makes them (the values in order of first appearance, the
// statistics of the values), but found here with a map of the column's
// strings. arrow-go hashes each value through an interface, which
// allocates a slice header per value: 70% of a 200k-row CSV ingest's
// allocations and a tenth of its CPU. done is false, with nothing
// written, when the column is left to arrow-go's own path: the chunk is
// not dictionary encoded, the array is a slice, or its dictionary would
// reach the size at which arrow-go falls back to plain encoding, which
// this path does not do.
//
// c is a string array, or a dictionary of strings whose values are in
// order of first appearance (as arrowcol builds them), whose dictionary
// is then the chunk's as it is.
func (b *columnBuffers) writeDictionary(w *file.ByteArrayColumnChunkWriter, c arrow.Array, defs []int16) (done bool, err error) {
	enc, ok := w.CurrentEncoder().(dictionaryEncoder)
	if b.arrowDictionaries || !ok || w.CurrentEncoder().Encoding() != parquet.Encodings.PlainDict || enc.NumEntries() != 0 || c.Data().Offset() != 0 {
		return false, nil
	}
	var dict *array.String
	switch c := c.(type) {
	case *array.String:
		dict, ok = b.dictionaryOf(c)
	case *array.Dictionary:
		dict, ok = b.codedDictionary(c)
	default:
		ok = false
	}
	if !ok {
		return false, nil
	}
	defer dict.Release()
	var validity *memory.Buffer
	if c.NullN() > 0 {
		validity = c.Data().Buffers()[0]
	}
	indexData := array.NewData(arrow.PrimitiveTypes.Int32, c.Len(),
		[]*memory.Buffer{validity, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(b.indices))}, nil, c.NullN(), 0)
	defer indexData.Release()
	indices := array.NewInt32Data(indexData)
	defer indices.Release()
	if err := enc.PutDictionary(dict); err != nil {
		return true, err
	}
	// The rows go in as arrow-go's own path takes them, a write batch at a
	// time, each with the raw size of its values (by which arrow-go cuts
	// pages while it encodes a dictionary) and the page statistics its
	// values give (arrow-go's UpdateFromArrow would leave an empty string
	// out of the minimum, where its own path does not).
	//
	// The statistics are updated with each batch's distinct values, then
	// told how many values it had: the same minimum, maximum and counts as
	// arrow-go's update with every value, whose comparisons were a tenth of
	// writing a coverage file. (The count of values is not written to the
	// file, so no test sees it; it is kept as arrow-go keeps it.)
	stats, _ := w.PageStatistics().(*metadata.ByteArrayStatistics)
	step := int(w.Properties().WriteBatchSize())
	dictBytes, dictOffsets := dict.ValueBytes(), dict.ValueOffsets()
	b.batchOf = grow(b.batchOf, dict.Len())
	for i := range b.batchOf {
		b.batchOf[i] = -1
	}
	for batch, from := int32(0), 0; from < c.Len(); batch, from = batch+1, from+step {
		to := min(from+step, c.Len())
		b.bytes = b.bytes[:0]
		raw, present := 0, 0
		for i := from; i < to; i++ {
			if c.IsValid(i) {
				present++
				idx := b.indices[i]
				v := dictBytes[dictOffsets[idx]:dictOffsets[idx+1]]
				raw += len(v) + arrow.Uint32SizeBytes
				if b.batchOf[idx] != batch {
					b.batchOf[idx] = batch
					b.bytes = append(b.bytes, v[:len(v):len(v)])
				}
			}
		}
		enc.AddRawSize(int64(raw))
		if stats != nil {
			stats.Update(b.bytes, int64(to-from-present))
			stats.IncNumValues(int64(present - len(b.bytes)))
		}
		part := array.NewSlice(indices, int64(from), int64(to))
		var partDefs []int16
		if defs != nil {
			partDefs = defs[from:to]
		}
		err := w.WriteDictIndices(part, partDefs, nil)
		part.Release()
		if err != nil {
			return true, err
		}
	}
	return true, nil
}

// codedDictionary is dictionaryOf for a dictionary array whose values are
// in order of first appearance: they are the dictionary, and its codes
// each row's index (b.indices).
func (b *columnBuffers) codedDictionary(c *array.Dictionary) (dict *array.String, ok bool) {
	values, ok1 := c.Dictionary().(*array.String)
	codes, ok2 := c.Indices().(*array.Int32)
	if !ok1 || !ok2 || c.Data().Offset() != 0 || values.Data().Offset() != 0 {
		return nil, false
	}
	size := len(values.ValueBytes()) + values.Len()*arrow.Uint32SizeBytes
	if size >= int(parquet.DefaultDictionaryPageSizeLimit) {
		return nil, false
	}
	// A null row's code is not written: the validity says it is null.
	b.indices = append(b.indices[:0], codes.Int32Values()...)
	values.Retain()
	return values, true
}

// decodeText is a dictionary of text as a string array of its rows.
func decodeText(d *array.Dictionary) (*array.String, error) {
	text, err := arrowcol.TextOf(d)
	if err != nil {
		return nil, err
	}
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	defer sb.Release()
	sb.Reserve(text.Len())
	for i := range text.Len() {
		if text.IsNull(i) {
			sb.AppendNull()
			continue
		}
		sb.Append(text.Value(i))
	}
	return sb.NewStringArray(), nil
}

// dictionaryOf finds c's dictionary, its distinct values in order of
// first appearance, and each row's index in it (b.indices; 0 for a null).
// ok is false when the dictionary would reach the size at which arrow-go
// falls back to plain encoding.
func (b *columnBuffers) dictionaryOf(c *array.String) (dict *array.String, ok bool) {
	if b.dict == nil {
		b.dict = map[string]int32{}
	}
	clear(b.dict)
	b.dictValues, b.indices = b.dictValues[:0], b.indices[:0]
	size := 0 // as arrow-go counts a dictionary: each value and its length
	last := int32(0)
	for i := range c.Len() {
		if c.IsNull(i) {
			b.indices = append(b.indices, 0)
			continue
		}
		// The key points into the column's buffer: the map lives only
		// for this call, and is cleared before the next. A value equal
		// to the row's before (a constant column, a sorted one) is not
		// looked up.
		v := c.Value(i)
		if len(b.dictValues) > 0 && v == b.dictValues[last] {
			b.indices = append(b.indices, last)
			continue
		}
		idx, seen := b.dict[v]
		if !seen {
			idx = int32(len(b.dictValues))
			b.dict[v] = idx
			b.dictValues = append(b.dictValues, v)
			size += len(v) + arrow.Uint32SizeBytes
			if size >= int(parquet.DefaultDictionaryPageSizeLimit) {
				return nil, false
			}
		}
		b.indices = append(b.indices, idx)
		last = idx
	}
	offsets := make([]int32, 0, len(b.dictValues)+1)
	data := make([]byte, 0, size-len(b.dictValues)*arrow.Uint32SizeBytes)
	offsets = append(offsets, 0)
	for _, v := range b.dictValues {
		data = append(data, v...)
		offsets = append(offsets, int32(len(data)))
	}
	dictData := array.NewData(arrow.BinaryTypes.String, len(b.dictValues),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets)), memory.NewBufferBytes(data)}, nil, 0, 0)
	defer dictData.Release()
	return array.NewStringData(dictData), true
}

// writeList writes a list of strings: one level per element, or one for a
// row whose list is empty or null. The repetition level is 0 where a row
// starts; the definition level says how far down a level is defined.
func writeList(cw file.ColumnChunkWriter, c *array.List, nullable bool, b *columnBuffers) error {
	w, ok := cw.(*file.ByteArrayColumnChunkWriter)
	if !ok {
		return fmt.Errorf("a list column written as %s", cw.Type())
	}
	elems, ok := c.ListValues().(*array.String)
	if !ok {
		return fmt.Errorf("type %s is not supported", c.DataType())
	}
	if !nullable && c.NullN() > 0 {
		return errors.New("nulls in a column that is not nullable")
	}
	elemNullable := c.DataType().(*arrow.ListType).ElemField().Nullable
	empty := int16(0) // the level of an empty list
	if nullable {
		empty = 1
	}
	present := empty + 1 // of an element that is there
	if elemNullable {
		present++
	}
	offsets := elems.ValueOffsets()
	var data []byte
	if buf := elems.Data().Buffers()[2]; buf != nil {
		data = buf.Bytes()
	}
	b.defs, b.reps, b.bytes = b.defs[:0], b.reps[:0], b.bytes[:0]
	for i := range c.Len() {
		if c.IsNull(i) {
			b.defs, b.reps = append(b.defs, 0), append(b.reps, 0)
			continue
		}
		start, end := c.ValueOffsets(i)
		if start == end {
			b.defs, b.reps = append(b.defs, empty), append(b.reps, 0)
			continue
		}
		for j := start; j < end; j++ {
			rep := int16(1)
			if j == start {
				rep = 0
			}
			b.reps = append(b.reps, rep)
			if elems.IsNull(int(j)) {
				if !elemNullable {
					return errors.New("a null element in a list whose elements are not nullable")
				}
				b.defs = append(b.defs, present-1)
				continue
			}
			b.defs = append(b.defs, present)
			b.bytes = append(b.bytes, data[offsets[j]:offsets[j+1]:offsets[j+1]])
		}
	}
	_, err := w.WriteBatch(b.bytes, b.defs, b.reps)
	return err
}

// readRowGroup reads one row group in batches of at most maxRows rows (0:
// the whole row group as one batch).
func readRowGroup(ctx context.Context, rg *file.RowGroupReader, sc *arrow.Schema, columns []int, parallel bool, maxRows int64, dict *dictionaryReader, fn func(arrow.RecordBatch) error) error {
	readers := make([]file.ColumnChunkReader, sc.NumFields())
	defer func() {
		for _, cr := range readers {
			if cr != nil {
				cr.Close()
			}
		}
	}()
	total := rg.NumRows()
	if maxRows <= 0 {
		maxRows = max(total, 1)
	}
	// The columns read as dictionaries, when the row group is read whole,
	// and the batches' schema, which says so.
	coded := make([]bool, len(readers))
	if dict != nil && maxRows >= total {
		var fields []arrow.Field
		for i := range coded {
			f := sc.Field(i)
			if md, err := rg.MetaData().ColumnChunk(columns[i]); err == nil && f.Type.ID() == arrow.STRING && dictionaryEncoded(md) {
				coded[i] = true
				f.Type = arrowcol.CodedText()
			}
			fields = append(fields, f)
		}
		md := sc.Metadata()
		sc = arrow.NewSchema(fields, &md)
	}
	hints := make([]int64, sc.NumFields())
	for i := range readers {
		if coded[i] {
			continue
		}
		cr, err := rg.Column(columns[i])
		if err != nil {
			return fmt.Errorf("column %s: %w", sc.Field(i).Name, err)
		}
		readers[i] = cr
		if md, err := rg.MetaData().ColumnChunk(columns[i]); err == nil {
			hints[i] = md.TotalUncompressedSize()
		}
	}
	// A list column's levels do not say where a row ends until the next
	// one starts: it is read whole, once, and sliced into the batches.
	lists := make([]arrow.Array, len(readers))
	textBytes := make([]int64, len(readers))
	defer func() {
		for _, l := range lists {
			if l != nil {
				l.Release()
			}
		}
	}()
	for from := int64(0); from < total; from += maxRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(maxRows, total-from)
		cols := make([]arrow.Array, len(readers))
		errs := make([]error, len(readers))
		read := func(i int) {
			f := sc.Field(i)
			if coded[i] {
				cols[i], errs[i] = dict.read(rg, columns[i], f, int(n))
				return
			}
			if f.Type.ID() != arrow.LIST {
				// A string column's bytes: what the chunk holds, in
				// proportion to the rows, at first (a dictionary-encoded
				// chunk holds far fewer), then what the last batch held.
				hint := hints[i] * n / max(total, 1)
				if from > 0 {
					hint = textBytes[i] * n / from * 9 / 8
				}
				cols[i], errs[i] = readColumn(readers[i], f, int(n), int(hint))
				if s, ok := cols[i].(*array.String); ok {
					textBytes[i] += int64(len(s.ValueBytes()))
				}
				return
			}
			if lists[i] == nil {
				if lists[i], errs[i] = readList(readers[i], f, int(total), int(hints[i])); errs[i] != nil {
					return
				}
			}
			cols[i] = array.NewSlice(lists[i], from, from+n)
		}
		if parallel && len(readers) > 1 {
			var wg sync.WaitGroup
			next := make(chan int)
			for range min(runtime.GOMAXPROCS(0), len(readers)) {
				wg.Go(func() {
					for i := range next {
						read(i)
					}
				})
			}
			for i := range readers {
				next <- i
			}
			close(next)
			wg.Wait()
		} else {
			for i := range readers {
				read(i)
			}
		}
		err := errors.Join(errs...)
		if err == nil {
			rec := array.NewRecordBatch(sc, cols, n)
			err = fn(rec)
			rec.Release()
		}
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// dictionaryEncoded reports whether every data page of a column chunk is
// dictionary-encoded: a dictionary that grew too large for the writer
// leaves the pages after it plain.
func dictionaryEncoded(md *metadata.ColumnChunkMetaData) bool {
	stats := md.EncodingStats()
	if !md.HasDictionaryPage() || len(stats) == 0 {
		return false
	}
	for _, s := range stats {
		switch s.PageType.String() {
		case "DATA_PAGE", "DATA_PAGE_V2":
			if s.Encoding != parquet.Encodings.RLEDict && s.Encoding != parquet.Encodings.PlainDict {
				return false
			}
		}
	}
	return true
}

// dictionaryReader reads string columns of a file as Arrow dictionaries.
type dictionaryReader struct {
	file *file.Reader
	mem  memory.Allocator
}

// read reads the n rows of column col of a row group as a dictionary:
// arrow-go's record reader decodes the pages' codes, and the dictionary
// page once, instead of a string a row.
func (d *dictionaryReader) read(rg *file.RowGroupReader, col int, f arrow.Field, n int) (arrow.Array, error) {
	pages, err := rg.GetColumnPageReader(col)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", f.Name, err)
	}
	level := file.LevelInfo{NullSlotUsage: 1}
	if f.Nullable {
		level.DefLevel = 1
	}
	rr := file.NewRecordReader(d.file.MetaData().Schema.Column(col), level, arrowcol.CodedText(), d.mem, d.file.BufferPool())
	defer rr.Release()
	set, ok := rr.(file.RecordReaderWithError)
	binary, ok2 := rr.(file.BinaryRecordReader)
	if !ok || !ok2 {
		return nil, fmt.Errorf("column %s: arrow-go's record reader cannot read a dictionary", f.Name)
	}
	if err := set.SetPageReaderWithError(pages); err != nil {
		return nil, fmt.Errorf("column %s: %w", f.Name, err)
	}
	if err := rr.Reserve(int64(n)); err != nil {
		return nil, fmt.Errorf("column %s: %w", f.Name, err)
	}
	for read := 0; read < n; {
		got, err := rr.ReadRecords(int64(n - read))
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		if got == 0 {
			return nil, fmt.Errorf("column %s: the column ends after %d of %d rows", f.Name, read, n)
		}
		read += int(got)
	}
	chunks := binary.GetBuilderChunks()
	defer func() {
		for _, c := range chunks {
			c.Release()
		}
	}()
	if len(chunks) == 1 && chunks[0].Len() == n {
		chunks[0].Retain()
		return chunks[0], nil
	}
	out, err := array.Concatenate(chunks, d.mem)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", f.Name, err)
	}
	if out.Len() != n {
		out.Release()
		return nil, fmt.Errorf("column %s: %d rows read of %d", f.Name, out.Len(), n)
	}
	return out, nil
}

// readColumn reads the next n rows of a column into an Arrow array.
func readColumn(cr file.ColumnChunkReader, f arrow.Field, n, hint int) (arrow.Array, error) {
	var defs []int16
	if f.Nullable {
		defs = make([]int16, n)
	}
	var (
		arr arrow.Array
		err error
	)
	switch r := cr.(type) {
	case *file.ByteArrayColumnChunkReader:
		arr, err = readStrings(r, n, defs, hint)
	case *file.Int32ColumnChunkReader:
		var values []int32
		if values, err = readValues(r.ReadBatch, n, defs); err == nil {
			arr = fixedWidth(f.Type, n, defs, arrow.Int32Traits.CastToBytes(values))
		}
	case *file.Int64ColumnChunkReader:
		var values []int64
		if values, err = readValues(r.ReadBatch, n, defs); err == nil {
			arr = fixedWidth(f.Type, n, defs, arrow.Int64Traits.CastToBytes(values))
		}
	case *file.Float64ColumnChunkReader:
		var values []float64
		if values, err = readValues(r.ReadBatch, n, defs); err == nil {
			arr = fixedWidth(f.Type, n, defs, arrow.Float64Traits.CastToBytes(values))
		}
	case *file.BooleanColumnChunkReader:
		var values []bool
		if values, err = readValues(r.ReadBatch, n, defs); err == nil {
			bits := make([]byte, bitutil.BytesForBits(int64(n)))
			for i, v := range values {
				if v {
					bitutil.SetBit(bits, i)
				}
			}
			arr = fixedWidth(f.Type, n, defs, bits)
		}
	default:
		err = fmt.Errorf("physical type %s is not supported", cr.Type())
	}
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", f.Name, err)
	}
	return arr, nil
}

// readValues reads n rows of a fixed-width column, a null row holding the
// zero value.
func readValues[T any](readBatch func(int64, []T, []int16, []int16) (int64, int, error), n int, defs []int16) ([]T, error) {
	values := make([]T, n)
	var zero T
	for read := 0; read < n; {
		var d []int16
		if defs != nil {
			d = defs[read:n]
		}
		levels, got, err := readBatch(int64(n-read), values[read:n], d, nil)
		if err != nil {
			return nil, err
		}
		if levels == 0 {
			return nil, fmt.Errorf("the column ends after %d of %d rows", read, n)
		}
		if defs != nil && got < int(levels) {
			// The values read are packed at the front: spread them to
			// their rows, from the back so that none is overwritten.
			j := got - 1
			for k := int(levels) - 1; k >= 0; k-- {
				if d[k] == 1 {
					values[read+k] = values[read+j]
					j--
				} else {
					values[read+k] = zero
				}
			}
		}
		read += int(levels)
	}
	return values, nil
}

// readStrings reads n rows of a string column. The byte slices a read
// within a page hands back point into the page, so each batch is copied
// before the next is read: once, into the array's buffer (ReadBatch would
// copy every value into a buffer of its own first). The buffer is sized
// from the hint, then from the first values read.
func readStrings(r *file.ByteArrayColumnChunkReader, n int, defs []int16, hint int) (arrow.Array, error) {
	const step = 4096
	values := make([]parquet.ByteArray, min(n, step))
	offsets := make([]int32, 1, n+1)
	data := make([]byte, 0, max(hint-4*n, 0))
	for read := 0; read < n; {
		want := min(n-read, step)
		var d []int16
		if defs != nil {
			d = defs[read : read+want]
		}
		levels, _, err := r.ReadBatchInPage(int64(want), values, d, nil)
		if err != nil {
			return nil, err
		}
		if levels == 0 {
			return nil, fmt.Errorf("the column ends after %d of %d rows", read, n)
		}
		v := 0
		for k := range int(levels) {
			if d == nil || d[k] == 1 {
				data = appendBytes(data, values[v])
				v++
			}
			if len(data) > 1<<31-1 {
				return nil, errors.New("more than 2 GiB of text in one batch")
			}
			offsets = append(offsets, int32(len(data)))
		}
		read += int(levels)
		if read < n && read == int(levels) {
			// The first values say what the rest will take, within an
			// eighth.
			if want := len(data) / read * n * 9 / 8; want > cap(data) {
				grown := make([]byte, len(data), want)
				copy(grown, data)
				data = grown
			}
		}
	}
	buffers := []*memory.Buffer{validity(defs, n), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets)), memory.NewBufferBytes(data)}
	ad := array.NewData(arrow.BinaryTypes.String, n, buffers, nil, nulls(defs), 0)
	defer ad.Release()
	return array.NewStringData(ad), nil
}

// readList reads all n rows of a list-of-strings column (listNode's
// layout).
func readList(cr file.ColumnChunkReader, f arrow.Field, n, hint int) (arrow.Array, error) {
	r, ok := cr.(*file.ByteArrayColumnChunkReader)
	if !ok {
		return nil, fmt.Errorf("column %s: a list read as %s", f.Name, cr.Type())
	}
	elemNullable := f.Type.(*arrow.ListType).ElemField().Nullable
	empty := int16(0)
	if f.Nullable {
		empty = 1
	}
	present := empty + 1
	if elemNullable {
		present++
	}
	const step = 4096
	values := make([]parquet.ByteArray, step)
	defs, reps := make([]int16, step), make([]int16, step)
	listOffsets := make([]int32, 0, n+1)
	listValid := make([]bool, 0, n)
	elemOffsets := make([]int32, 1, n+1)
	var elemValid []bool
	data := make([]byte, 0, hint)
	for {
		levels, _, err := r.ReadBatchInPage(step, values, defs, reps)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		if levels == 0 {
			break
		}
		v := 0
		for k := range int(levels) {
			if reps[k] == 0 {
				if len(listValid) == n {
					return nil, fmt.Errorf("column %s: more than the row group's %d rows", f.Name, n)
				}
				listOffsets = append(listOffsets, int32(len(elemOffsets)-1))
				listValid = append(listValid, defs[k] > 0 || !f.Nullable)
			} else if len(listValid) == 0 {
				return nil, fmt.Errorf("column %s: a list continues before any starts", f.Name)
			}
			switch d := defs[k]; {
			case d < empty+1:
				// a null or empty list: no element
			case d == present:
				data = appendBytes(data, values[v])
				v++
				elemOffsets = append(elemOffsets, int32(len(data)))
				elemValid = append(elemValid, true)
			default:
				elemOffsets = append(elemOffsets, int32(len(data)))
				elemValid = append(elemValid, false)
			}
			if len(data) > 1<<31-1 {
				return nil, fmt.Errorf("column %s: more than 2 GiB of text", f.Name)
			}
		}
	}
	if len(listValid) != n {
		return nil, fmt.Errorf("column %s: %d of the row group's %d rows", f.Name, len(listValid), n)
	}
	listOffsets = append(listOffsets, int32(len(elemOffsets)-1))
	elemDefs := boolDefs(elemValid)
	elemData := array.NewData(arrow.BinaryTypes.String, len(elemValid),
		[]*memory.Buffer{validity(elemDefs, len(elemValid)), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(elemOffsets)), memory.NewBufferBytes(data)},
		nil, nulls(elemDefs), 0)
	defer elemData.Release()
	listDefs := boolDefs(listValid)
	ld := array.NewData(f.Type, n,
		[]*memory.Buffer{validity(listDefs, n), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(listOffsets))},
		[]arrow.ArrayData{elemData}, nulls(listDefs), 0)
	defer ld.Release()
	return array.NewListData(ld), nil
}

// boolDefs turns validity flags into definition levels (1 valid, 0 null).
func boolDefs(valid []bool) []int16 {
	defs := make([]int16, len(valid))
	for i, v := range valid {
		if v {
			defs[i] = 1
		}
	}
	return defs
}

// appendBytes is append for a buffer that grows to tens of megabytes:
// doubling, where append would grow a large slice by a quarter at a time
// and copy (and clear) it over and over.
func appendBytes(data, b []byte) []byte {
	if need := len(data) + len(b); need > cap(data) {
		grown := make([]byte, len(data), max(2*cap(data), need, 4096))
		copy(grown, data)
		data = grown
	}
	return append(data, b...)
}

// fixedWidth makes an array of a fixed-width type from its value bytes.
func fixedWidth(t arrow.DataType, n int, defs []int16, values []byte) arrow.Array {
	ad := array.NewData(t, n, []*memory.Buffer{validity(defs, n), memory.NewBufferBytes(values)}, nil, nulls(defs), 0)
	defer ad.Release()
	return array.MakeFromData(ad)
}

// validity is the validity bitmap of the rows, nil when none is null.
func validity(defs []int16, n int) *memory.Buffer {
	if nulls(defs) == 0 {
		return nil
	}
	bits := make([]byte, bitutil.BytesForBits(int64(n)))
	for i, d := range defs {
		if d == 1 {
			bitutil.SetBit(bits, i)
		}
	}
	return memory.NewBufferBytes(bits)
}

func nulls(defs []int16) int {
	count := 0
	for _, d := range defs {
		if d == 0 {
			count++
		}
	}
	return count
}
