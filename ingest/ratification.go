package ingest

import (
	"fmt"
	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/values"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/records"
)

// ratificationReader reads a ratification table (inputs.md).
type ratificationReader struct {
	rows                  []pendingRatification
	dateCol, denunciation values.DateColumn
}

type pendingRatification struct {
	rec          records.Ratification
	row          int
	ok           bool // no error so far
	date, denun  dateCell
	status       field
	denunField   field
	hasDenunDate bool
}

func newRatificationReader() *ratificationReader { return &ratificationReader{} }

func (rr *ratificationReader) read(t *table, row workbook.Row) {
	p := pendingRatification{row: row.Num, ok: true}
	p.rec.Source = t.provenance(row.Num)
	fail := func(f field, prob *values.Problem) {
		t.errorAt(row.Num, f, prob)
		p.ok = false
	}
	countryF := t.field(row, "country")
	if c, ok := t.country(row.Num, countryF); ok {
		p.rec.Country = c.ISO3
		if !c.ILOMember {
			fail(countryF, &values.Problem{Code: report.NotMember, Message: c.String() + " is not an ILO member State, so it cannot ratify ILO instruments; remove the row"})
		}
	} else {
		p.ok = false
	}
	instF := t.field(row, "instrument")
	switch q := t.r.ref.Instruments().Lookup(instF.text); {
	case values.Missing(instF.text):
		fail(instF, &values.Problem{Code: report.MissingValue, Message: "the instrument is missing; expected a code such as C097 or P029"})
	case q.Found:
		p.rec.Instrument = q.Instrument.Code
	case q.Number > 0:
		fail(instF, &values.Problem{Code: report.UnknownInstrument, Message: report.Quote(instF.text) + " is not an ILO Convention or Protocol number (Conventions run from C001 to C192; Protocols are P029, P081, P089, P110, P147 and P155)"})
	default:
		fail(instF, &values.Problem{Code: report.UnknownInstrument, Message: report.Quote(instF.text) + " is not an ILO instrument; expected a code such as C097, C 97, No. 97, P029 or the official title"})
	}
	dateF := t.field(row, "ratification_date")
	if values.Missing(dateF.text) {
		fail(dateF, &values.Problem{Code: report.MissingValue, Message: "the ratification date is missing; expected the date the ratification was registered"})
	} else if d, prob := t.readDate(row.Num, dateF, false, &rr.dateCol); prob != nil {
		fail(dateF, prob)
	} else {
		p.date = d
	}
	p.status = t.field(row, "status")
	if p.status.present() && !values.Missing(p.status.text) {
		if s, prob := values.RatificationStatus(p.status.text); prob != nil {
			fail(p.status, prob)
		} else {
			p.rec.Status = s
		}
	}
	p.denunField = t.field(row, "denunciation_date")
	if p.denunField.present() && !values.Missing(p.denunField.text) {
		p.hasDenunDate = true
		if d, prob := t.readDate(row.Num, p.denunField, false, &rr.denunciation); prob != nil {
			fail(p.denunField, prob)
		} else {
			p.denun = d
		}
	}
	if n := t.field(row, "note"); n.present() && !values.Missing(n.text) {
		p.rec.Note = n.raw
	}
	rr.rows = append(rr.rows, p)
}

func (rr *ratificationReader) finish(t *table) {
	byKey := map[string]int{}
	var out []records.Ratification
	for i := range rr.rows {
		p := &rr.rows[i]
		// The checks between cells run on whatever parsed, even in a row
		// with other errors: every problem is reported in one pass
		// (cli.md), not one more per resubmission.
		dateOK := p.date.ok && t.settle(&p.date, &rr.dateCol)
		if p.date.ok && !dateOK {
			p.ok = false
		}
		denunOK := p.hasDenunDate && p.denun.ok && t.settle(&p.denun, &rr.denunciation)
		if p.hasDenunDate && p.denun.ok && !denunOK {
			p.ok = false
		}
		if dateOK {
			p.rec.RatificationDate = p.date.value.Date
			p.rec.DateCell = cellRef(p.date.f.col, p.row)
			if t.future(p.rec.RatificationDate) {
				t.errorAt(p.row, p.date.f, &values.Problem{Code: report.OutOfRange, Message: "the ratification date " + p.rec.RatificationDate.String() + " is in the future; expected the date the ratification was registered"})
				p.ok = false
			} else if inst, ok := t.r.ref.Instruments().ByCode(p.rec.Instrument); ok && p.rec.RatificationDate.Year() < inst.Year {
				t.errorAt(p.row, p.date.f, &values.Problem{Code: report.OutOfRange, Message: fmt.Sprintf("the ratification date %s is before %s was adopted, in %d; check the date and the instrument", p.rec.RatificationDate, inst.Code, inst.Year)})
				p.ok = false
			}
		}
		if denunOK {
			p.rec.Denunciation = records.OptionalDate{Date: p.denun.value.Date, Valid: true}
			p.rec.DenunciationCell = cellRef(p.denunField.col, p.row)
			if p.rec.Status == "in_force" {
				// The date is what the indicators use; the contradiction
				// is worth a look.
				t.rep.Warnf(report.Inconsistent, t.sheet, p.denunField.col, p.row, "the status is In Force but a denunciation date (%s) is given; the ratification is counted as denounced from that date: correct the status or remove the date", p.rec.Denunciation.Date)
			}
		}
		if p.rec.Status == "denounced" && !p.hasDenunDate {
			f := p.denunField
			if !f.present() {
				f = p.status
			}
			t.errorAt(p.row, f, &values.Problem{Code: report.MissingValue, Message: "the ratification is denounced but has no denunciation date; give the date the denunciation took effect"})
			p.ok = false
		}
		if dateOK && denunOK && p.rec.Denunciation.Date < p.rec.RatificationDate {
			t.errorAt(p.row, p.denunField, &values.Problem{Code: report.Inconsistent, Message: "the denunciation date " + p.rec.Denunciation.Date.String() + " is before the ratification date " + p.rec.RatificationDate.String()})
			p.ok = false
		}
		if !p.ok {
			continue
		}
		if j, dup := byKey[p.rec.Key()]; dup {
			first := out[j]
			if sameRatification(first, p.rec) {
				t.rep.Warnf(report.DuplicateRow, t.sheet, t.h.firstCol, p.row, "row %d repeats row %d (%s, %s); the repeat was ignored", p.row, rowNum(first.Source.Cell), p.rec.Country, p.rec.Instrument)
				continue
			}
			t.duplicate(rowNum(first.Source.Cell), p.row, p.rec.Country+" "+p.rec.Instrument, differences(
				[3]string{"ratification_date", first.RatificationDate.String(), p.rec.RatificationDate.String()},
				[3]string{"status", first.Status, p.rec.Status},
				[3]string{"denunciation_date", optDate(first.Denunciation), optDate(p.rec.Denunciation)},
				[3]string{"note", first.Note, p.rec.Note}))
			continue
		}
		byKey[p.rec.Key()] = len(out)
		out = append(out, p.rec)
	}
	t.records += len(out)
	t.sub.Ratifications = append(t.sub.Ratifications, out...)
}

func optDate(d records.OptionalDate) string {
	if !d.Valid {
		return ""
	}
	return d.Date.String()
}

func sameRatification(a, b records.Ratification) bool {
	return a.Country == b.Country && a.Instrument == b.Instrument && a.RatificationDate == b.RatificationDate &&
		a.Status == b.Status && a.Denunciation == b.Denunciation && a.Note == b.Note
}
