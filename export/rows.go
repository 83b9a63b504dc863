package export

import (
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
)

// IndicatorRow is one row of indicators.parquet, with the outputs.md
// columns.
type IndicatorRow struct {
	Pledge        string   `json:"pledge"`
	IndicatorID   string   `json:"indicator_id"`
	IndicatorName string   `json:"indicator_name"`
	RefArea       string   `json:"ref_area"`
	RefAreaName   string   `json:"ref_area_name"`
	RefAreaType   string   `json:"ref_area_type"`
	TimePeriod    int      `json:"time_period"`
	Sex           string   `json:"sex"`
	Instrument    *string  `json:"instrument"`
	Value         float64  `json:"value"`
	Unit          string   `json:"unit"`
	Numerator     *float64 `json:"numerator"`
	Denominator   *float64 `json:"denominator"`
	Note          *string  `json:"note"`
	Sources       *string  `json:"sources"`
}

// InstrumentCode is the row's instrument, "" when it has none.
func (r IndicatorRow) InstrumentCode() string {
	if r.Instrument == nil {
		return ""
	}
	return *r.Instrument
}

// IndicatorRows copies a batch of indicators.parquet into rows, the
// strings copied out of the batch (it may be released after the call):
// the portal, explain and the publish gates read published runs with it.
func IndicatorRows(b arrow.RecordBatch) ([]IndicatorRow, error) {
	str, err1 := arrowcol.StringColumns(b, "pledge", "indicator_id", "indicator_name", "ref_area", "ref_area_name", "ref_area_type",
		"sex", "instrument", "unit", "note", "sources")
	f64, err2 := floatColumns(b, "value", "numerator", "denominator")
	period, err3 := arrowcol.Get[*array.Int32](b, "time_period")
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	pledge, id, name, area, areaName, areaType, sex, inst, unit, note, sources := str[0], str[1], str[2], str[3], str[4], str[5], str[6], str[7], str[8], str[9], str[10]
	value, num, den := f64[0], f64[1], f64[2]
	codes := arrowcol.NewStrings()
	optCode := func(c *array.String, i int) *string {
		if c.IsNull(i) {
			return nil
		}
		v := codes.Code(c, i)
		return &v
	}
	optText := func(c *array.String, i int) *string {
		if c.IsNull(i) {
			return nil
		}
		v := arrowcol.Text(c, i)
		return &v
	}
	optF := func(c *array.Float64, i int) *float64 {
		if c.IsNull(i) {
			return nil
		}
		v := c.Value(i)
		return &v
	}
	out := make([]IndicatorRow, b.NumRows())
	for i := range out {
		out[i] = IndicatorRow{
			Pledge: codes.Code(pledge, i), IndicatorID: codes.Code(id, i), IndicatorName: codes.Code(name, i),
			RefArea: codes.Code(area, i), RefAreaName: codes.Code(areaName, i), RefAreaType: codes.Code(areaType, i),
			TimePeriod: int(period.Value(i)), Sex: codes.Code(sex, i), Instrument: optCode(inst, i), Value: value.Value(i),
			Unit: codes.Code(unit, i), Numerator: optF(num, i), Denominator: optF(den, i), Note: optCode(note, i), Sources: optText(sources, i),
		}
	}
	return out, nil
}

func floatColumns(b arrow.RecordBatch, names ...string) ([]*array.Float64, error) {
	out := make([]*array.Float64, len(names))
	for i, n := range names {
		col, err := arrowcol.Get[*array.Float64](b, n)
		if err != nil {
			return nil, err
		}
		out[i] = col
	}
	return out, nil
}
