// Package toydomain is a fourth input domain made for tests: scores of
// areas by year, described by its descriptor alone (records.NewDescriptor).
// The tests of ingest, store and pipeline add it to show that a domain
// flows through them with no code of their own for it.
package toydomain

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/values"
	"github.com/ilo-pledge/pledgestat/records"
)

// Domain is the toy domain's name.
const Domain records.Domain = "toy_scores"

// Score is the toy domain's record: an area's score in a year.
type Score struct {
	Area   string
	Year   int32
	Score  float64
	Source records.Provenance
}

// Key is the record key: one score per area and year.
func (s Score) Key() string { return s.Area + "|" + strconv.Itoa(int(s.Year)) }

// Schema is the toy domain's table.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "area", Type: arrow.BinaryTypes.String},
	{Name: "year", Type: arrow.PrimitiveTypes.Int32},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "source_file", Type: arrow.BinaryTypes.String},
	{Name: "source_cell", Type: arrow.BinaryTypes.String},
}, nil)

// Descriptor describes the toy domain.
func Descriptor() records.Descriptor {
	return records.NewDescriptor(records.Descriptor{
		Domain: Domain, Noun: "toy scores", Schema: Schema,
		Columns: []records.Column{
			{Name: "area", Headers: []string{"area", "zone", "région"}},
			{Name: "year", Headers: []string{"year", "année", "año"}},
			{Name: "score", Headers: []string{"score", "points", "puntuación"}},
		},
		Required: []string{"area", "score"},
	}, records.Kind[Score]{
		Batch: batch, Read: Read, Key: Score.Key,
		Areas: func(s Score) []string { return []string{s.Area} },
		Revision: func(s Score) records.Revision {
			return records.Revision{Cell: s.Source.Sheet + "!" + s.Source.Cell, Values: map[string]string{"score": strconv.FormatFloat(s.Score, 'f', -1, 64)}}
		},
		FromRow: fromRow,
	})
}

func batch(mem memory.Allocator, rs []Score, _ records.NameFunc) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, Schema)
	defer b.Release()
	for _, r := range rs {
		b.Field(0).(*array.StringBuilder).Append(r.Area)
		b.Field(1).(*array.Int32Builder).Append(r.Year)
		b.Field(2).(*array.Float64Builder).Append(r.Score)
		b.Field(3).(*array.StringBuilder).Append(r.Source.File)
		b.Field(4).(*array.StringBuilder).Append(r.Source.Cell)
	}
	return b.NewRecordBatch()
}

// Read reads a toy table back into records.
func Read(b arrow.RecordBatch) ([]Score, error) {
	area, ok1 := b.Column(0).(*array.String)
	year, ok2 := b.Column(1).(*array.Int32)
	score, ok3 := b.Column(2).(*array.Float64)
	file, ok4 := b.Column(3).(*array.String)
	cell, ok5 := b.Column(4).(*array.String)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return nil, fmt.Errorf("not a toy table: %s", b.Schema())
	}
	out := make([]Score, b.NumRows())
	for i := range out {
		// Copied: the strings must outlive the batch.
		out[i] = Score{Area: strings.Clone(area.Value(i)), Year: year.Value(i), Score: score.Value(i),
			Source: records.Provenance{File: strings.Clone(file.Value(i)), Cell: strings.Clone(cell.Value(i))}}
	}
	return out, nil
}

func fromRow(row records.Row) (Score, []records.Problem) {
	s := Score{Area: strings.ToUpper(row.Texts["area"]), Source: row.Source}
	var problems []records.Problem
	if text, ok := row.Texts["year"]; ok {
		y, p := values.Year(text, 1990, 2100)
		if p != nil {
			problems = append(problems, records.Problem{Column: "year", Code: string(p.Code), Message: p.Message})
		}
		s.Year = int32(y)
	}
	text, ok := row.Texts["score"]
	v, isNumber := values.Decimal(text)
	switch {
	case !ok:
		problems = append(problems, records.Problem{Column: "score", Code: string(report.MissingValue), Message: "the score is missing"})
	case !isNumber:
		problems = append(problems, records.Problem{Column: "score", Code: string(report.BadNumber), Message: "expected a number"})
	}
	s.Score = v
	return s, problems
}

// Of returns the toy records a set holds.
func Of(s records.Set) []Score {
	v, _ := s.Others[Domain].([]Score)
	return v
}

// Set returns a set holding scores.
func Set(scores ...Score) records.Set {
	return records.Set{Others: map[records.Domain]any{Domain: scores}}
}
