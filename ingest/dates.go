package ingest

import (
	"math"
	"strconv"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/values"
)

// dateCell is a date read from a cell, possibly waiting for its column to
// settle the day/month order.
type dateCell struct {
	f     field
	row   int
	value values.DateValue
	ok    bool // parsed (possibly pending)
}

// readDate reads a date field. Numbers in an XLSX cell are Excel serials,
// except a whole number from 1900 to 2100 not shown as a date, which is a
// year; text goes through values.DateText. The column's DateColumn gets the
// evidence for settling numeric dates.
func (t *table) readDate(row int, f field, allowYear bool, col *values.DateColumn) (dateCell, *values.Problem) {
	d := dateCell{f: f, row: row}
	if f.cell.Numeric {
		v, err := strconv.ParseFloat(f.cell.Text, 64)
		if err != nil {
			return d, &values.Problem{Code: report.BadDate, Message: report.Quote(f.text) + " is not a date"}
		}
		// A whole number from 1900 to 2100 is a year, even in a cell
		// formatted as a date: Excel shows 2019 typed there as 11/07/1905,
		// a date no ILO record can have.
		if v == math.Trunc(v) && v >= 1900 && v <= 2100 {
			if !allowYear {
				msg := report.Quote(f.text) + " is a year, not a date; expected a full date such as 2019-03-04"
				if f.cell.DateFormat {
					msg = "the cell holds the number " + f.cell.Text + ", which Excel shows as a date in 1905; type the full date, such as 2019-03-04"
				}
				return d, &values.Problem{Code: report.BadDate, Message: msg}
			}
			d.value = values.DateValue{Year: int(v), YearOnly: true}
			d.ok = true
			return d, nil
		}
		if !f.cell.DateFormat {
			// An Excel date is a number shown as a date (inputs.md); a
			// plain number such as 5 is not one.
			msg := "the cell holds the number " + f.cell.Text + ", not a date; type the date (such as 2019-03-04) or format the cell as a date"
			if s, p := values.Serial(v, t.date1904); p == nil {
				msg += " (formatted as a date it would read " + s.String() + ")"
			}
			return d, &values.Problem{Code: report.BadDate, Message: msg}
		}
		date, p := values.Serial(v, t.date1904)
		if p != nil {
			return d, p
		}
		d.value = values.DateValue{Date: date, Year: date.Year()}
		d.ok = true
		return d, nil
	}
	v, p := values.DateText(f.text, allowYear)
	if p != nil {
		return d, p
	}
	col.Observe(v)
	d.value, d.ok = v, true
	return d, nil
}

// settle resolves a pending date with its column; it reports
// ambiguous_date and returns false when the column cannot decide.
func (t *table) settle(d *dateCell, col *values.DateColumn) bool {
	if !d.ok {
		return false
	}
	v, p := col.Settle(d.f.text, d.value)
	if p != nil {
		t.errorAt(d.row, d.f, p)
		d.ok = false
		return false
	}
	d.value = v
	return true
}
