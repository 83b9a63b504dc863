package values

import (
	"github.com/xuri/excelize/v2"

	"math"
	"regexp"
	"strconv"
	"time"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/internal/textnorm"
	"github.com/ilo-pledge/pledgestat/records"
)

// DayOrder says how a numeric date such as 04/03/2019 is read.
type DayOrder int

// Day orders of numeric dates.
const (
	OrderUnknown DayOrder = iota
	DayFirst
	MonthFirst
)

// DateValue is a date read from one cell. A numeric date whose first two
// parts are both 12 or less is Pending until its column settles the order.
type DateValue struct {
	Date     records.Date
	Year     int
	YearOnly bool // the cell held a bare year (allowed for agreement dates)
	Pending  bool // day/month order not known yet: settle with a DateColumn
	// Evidence is the order this cell proves for its column (a part over 12).
	Evidence DayOrder
	a, b     int // first and second numeric parts of a pending date
}

// Partial converts the value to a records.PartialDate.
func (v DateValue) Partial() records.PartialDate {
	if v.YearOnly {
		return records.PartialDate{Year: v.Year}
	}
	return records.PartialDate{Year: v.Year, Date: v.Date, HasDay: true}
}

const (
	minYear = 1900
	maxYear = 2100
)

var (
	isoDate     = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$`)
	numericDate = regexp.MustCompile(`^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{2}|\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$`)
	compactDate = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})$`)
	ordinal     = regexp.MustCompile(`^(\d{1,2})(st|nd|rd|th|er|re|e|o|a|ro)$`)
)

var months = map[string]time.Month{}

func init() {
	for m, names := range map[time.Month][]string{
		time.January:   {"january", "jan", "janvier", "janv", "enero", "ene"},
		time.February:  {"february", "feb", "fevrier", "fevr", "fev", "febrero"},
		time.March:     {"march", "mar", "mars", "marzo"},
		time.April:     {"april", "apr", "avril", "avr", "abril", "abr"},
		time.May:       {"may", "mai", "mayo"},
		time.June:      {"june", "jun", "juin", "junio"},
		time.July:      {"july", "jul", "juillet", "juil", "julio"},
		time.August:    {"august", "aug", "aout", "agosto", "ago"},
		time.September: {"september", "sep", "sept", "septembre", "septiembre", "setiembre", "set"},
		time.October:   {"october", "oct", "octobre", "octubre"},
		time.November:  {"november", "nov", "novembre", "noviembre"},
		time.December:  {"december", "dec", "decembre", "diciembre", "dic"},
	} {
		for _, n := range names {
			months[n] = m
		}
	}
}

// filler words that may surround a written date ("4 de marzo de 2019",
// "le 4 mars 2019", "Monday, 4 March 2019").
var filler = map[string]bool{
	"de": true, "del": true, "le": true, "the": true, "of": true, "el": true, "la": true,
	"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true, "saturday": true, "sunday": true,
	"mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true,
	"lundi": true, "mardi": true, "mercredi": true, "jeudi": true, "vendredi": true, "samedi": true, "dimanche": true,
	"lunes": true, "martes": true, "miercoles": true, "jueves": true, "viernes": true, "sabado": true, "domingo": true,
}

// DateText reads a date typed as text: ISO 2019-03-04, written dates in
// English, French or Spanish (4 Mar 2019, 04 mars 2019, 4 de marzo de 2019,
// March 4, 2019), and numeric dates 04/03/2019 or 04.03.2019, which may stay
// Pending until their column settles the order. A bare year 1900..2100 is
// accepted only when allowYear.
func DateText(text string, allowYear bool) (DateValue, *Problem) {
	s := textnorm.Clean(text)
	if s == "" {
		return DateValue{}, problem(report.MissingValue, "the date is empty")
	}
	if y, ok := Decimal(s); ok && y == math.Trunc(y) && y >= minYear && y <= maxYear {
		if allowYear {
			return DateValue{Year: int(y), YearOnly: true}, nil
		}
		return DateValue{}, problem(report.BadDate, "%s is a year, not a date; expected a full date such as 2019-03-04 or 4 March 2019", report.Quote(text))
	}
	if m := isoDate.FindStringSubmatch(s); m != nil {
		return ymd(text, atoi(m[1]), atoi(m[2]), atoi(m[3]))
	}
	if m := compactDate.FindStringSubmatch(s); m != nil {
		return ymd(text, atoi(m[1]), atoi(m[2]), atoi(m[3]))
	}
	if m := numericDate.FindStringSubmatch(s); m != nil {
		return numeric(text, atoi(m[1]), atoi(m[2]), fullYear(m[3]))
	}
	return written(text, allowYear)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// fullYear expands a two-digit year the way Excel does: 00-29 are 2000s.
func fullYear(s string) int {
	y := atoi(s)
	if len(s) == 2 {
		if y < 30 {
			return 2000 + y
		}
		return 1900 + y
	}
	return y
}

func ymd(text string, y, m, d int) (DateValue, *Problem) {
	if !validDay(y, m, d) {
		if (y < minYear || y > maxYear) && validDay(2000, m, d) {
			// A date, but of a year no record can have: say which.
			return DateValue{}, problem(report.BadDate, "%s is in %d; expected a date from %d to %d", report.Quote(text), y, minYear, maxYear)
		}
		return DateValue{}, badDate(text)
	}
	return DateValue{Date: records.DateOf(y, time.Month(m), d), Year: y}, nil
}

func validDay(y, m, d int) bool {
	if y < minYear || y > maxYear || m < 1 || m > 12 || d < 1 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return t.Day() == d && t.Month() == time.Month(m)
}

func badDate(text string) *Problem {
	return problem(report.BadDate, "%s is not a date; expected a date cell, 2019-03-04, 4 March 2019 (or French/Spanish month names) or 04/03/2019", report.Quote(text))
}

func numeric(text string, a, b, y int) (DateValue, *Problem) {
	dayFirstOK := validDay(y, b, a)
	monthFirstOK := validDay(y, a, b)
	switch {
	case dayFirstOK && monthFirstOK && a != b:
		return DateValue{Year: y, Pending: true, a: a, b: b}, nil
	case dayFirstOK:
		v, _ := ymd(text, y, b, a)
		if a > 12 {
			v.Evidence = DayFirst
		}
		return v, nil
	case monthFirstOK:
		v, _ := ymd(text, y, a, b)
		v.Evidence = MonthFirst
		return v, nil
	}
	return DateValue{}, badDate(text)
}

func written(text string, allowYear bool) (DateValue, *Problem) {
	var month time.Month
	var nums []string
	for _, w := range textnorm.Words(text) {
		if filler[w] {
			continue
		}
		if m, ok := months[w]; ok && month == 0 {
			month = m
			continue
		}
		if m := ordinal.FindStringSubmatch(w); m != nil {
			w = m[1]
		}
		if _, err := strconv.Atoi(w); err != nil || len(nums) == 2 {
			return DateValue{}, badDate(text)
		}
		nums = append(nums, w)
	}
	if month == 0 {
		return DateValue{}, badDate(text)
	}
	switch len(nums) {
	case 1: // "March 2019"
		if y := atoi(nums[0]); allowYear && len(nums[0]) == 4 && y >= minYear && y <= maxYear {
			return DateValue{Year: y, YearOnly: true}, nil
		}
	case 2:
		// The year is the part with four digits; "4-Mar-19" (Excel's
		// d-mmm-yy) has the day first and a two-digit year.
		switch {
		case len(nums[1]) == 4:
			return ymd(text, atoi(nums[1]), int(month), atoi(nums[0]))
		case len(nums[0]) == 4:
			return ymd(text, atoi(nums[0]), int(month), atoi(nums[1]))
		case len(nums[1]) == 2 && len(nums[0]) <= 2:
			return ymd(text, fullYear(nums[1]), int(month), atoi(nums[0]))
		}
	}
	return DateValue{}, badDate(text)
}

// Serial converts an Excel date serial (the workbook's 1900 or 1904 system)
// to a date. Excel's 1900 system counts the non-existent 29 February 1900,
// so serials from 61 on are one day ahead of a plain count from 1899-12-31.
func Serial(v float64, date1904 bool) (records.Date, *Problem) {
	if math.IsNaN(v) || v < 1 || v > 2958465 {
		return 0, problem(report.BadDate, "%s is not a valid Excel date", report.Quote(strconv.FormatFloat(v, 'f', -1, 64)))
	}
	// excelize knows Excel's calendars (1900 with its phantom 29
	// February, and 1904); the time of day is dropped, not rounded.
	t, err := excelize.ExcelDateToTime(math.Floor(v), date1904)
	if err != nil {
		return 0, problem(report.BadDate, "%s is not a valid Excel date", report.Quote(strconv.FormatFloat(v, 'f', -1, 64)))
	}
	if t.Year() < minYear || t.Year() > maxYear {
		return 0, problem(report.BadDate, "Excel date %s falls in %d; expected a year from %d to %d", report.Quote(strconv.FormatFloat(v, 'f', -1, 64)), t.Year(), minYear, maxYear)
	}
	return records.DateOf(t.Year(), t.Month(), t.Day()), nil
}

// DateColumn settles the day/month order of a column's numeric dates: a
// part over 12 in any of its dates decides for all (inputs.md).
type DateColumn struct {
	dayFirst, monthFirst int
}

// Observe takes the evidence of one parsed date.
func (c *DateColumn) Observe(v DateValue) {
	switch v.Evidence {
	case DayFirst:
		c.dayFirst++
	case MonthFirst:
		c.monthFirst++
	}
}

// Order returns the settled order, or OrderUnknown when no date or
// contradicting dates decide.
func (c *DateColumn) Order() DayOrder {
	switch {
	case c.dayFirst > 0 && c.monthFirst == 0:
		return DayFirst
	case c.monthFirst > 0 && c.dayFirst == 0:
		return MonthFirst
	}
	return OrderUnknown
}

// Settle resolves a Pending value with the column's order.
func (c *DateColumn) Settle(text string, v DateValue) (DateValue, *Problem) {
	if !v.Pending {
		return v, nil
	}
	switch c.Order() {
	case DayFirst:
		return ymd(text, v.Year, v.b, v.a)
	case MonthFirst:
		return ymd(text, v.Year, v.a, v.b)
	}
	why := "no other date in the column has a day over 12"
	if c.dayFirst > 0 && c.monthFirst > 0 {
		why = "the column mixes day-first and month-first dates"
	}
	return DateValue{}, problem(report.AmbiguousDate, "%s could be %s or %s and %s; write it as %s (ISO) or with the month name",
		report.Quote(text),
		records.DateOf(v.Year, time.Month(v.b), v.a).Time().Format("2 January 2006"),
		records.DateOf(v.Year, time.Month(v.a), v.b).Time().Format("2 January 2006"),
		why, records.DateOf(v.Year, time.Month(v.b), v.a).String())
}
