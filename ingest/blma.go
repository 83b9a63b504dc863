package ingest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/values"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/records"
)

// agreementReader reads a table of bilateral and multilateral labour
// migration agreements.
type agreementReader struct {
	rows                    []pendingAgreement
	signed, inForce, ending values.DateColumn
	flags                   []string // records.ProvisionFlags, asked once, not a row
}

type pendingAgreement struct {
	rec                     records.Agreement
	row                     int
	ok                      bool
	signed, inForce, ending dateCell
	signedF, inForceF, endF field
	statusF                 field
}

func newAgreementReader() *agreementReader {
	return &agreementReader{flags: records.ProvisionFlags()}
}

func (ar *agreementReader) read(t *table, row workbook.Row) {
	p := pendingAgreement{row: row.Num, ok: true}
	p.rec.Source = t.provenance(row.Num)
	fail := func(f field, prob *values.Problem) {
		t.errorAt(row.Num, f, prob)
		p.ok = false
	}
	if f := t.field(row, "agreement_id"); !values.Missing(f.text) {
		p.rec.AgreementID = f.raw
	}
	titleF := t.field(row, "title")
	if values.Missing(titleF.text) {
		fail(titleF, &values.Problem{Code: report.MissingValue, Message: "the agreement has no title"})
	}
	p.rec.Title = titleF.raw
	typeF := t.field(row, "type")
	if values.Missing(typeF.text) {
		fail(typeF, &values.Problem{Code: report.MissingValue, Message: "the agreement type is missing; expected BLA, MOU, SSA, MULTILATERAL_SSA, REGIONAL_FRAMEWORK or OTHER"})
	} else if ty, prob := values.AgreementType(typeF.text); prob != nil {
		fail(typeF, prob)
	} else {
		p.rec.Type = ty
	}
	p.statusF = t.field(row, "status")
	if p.statusF.present() && !values.Missing(p.statusF.text) {
		if s, prob := values.AgreementStatus(p.statusF.text); prob != nil {
			fail(p.statusF, prob)
		} else {
			p.rec.Status = s
		}
	}
	var parties []string
	for _, name := range []string{"origin", "destination"} {
		f := t.field(row, name)
		if !f.present() || missingCountry(f.text) {
			continue
		}
		c, ok := t.country(row.Num, f)
		if !ok {
			p.ok = false
			continue
		}
		parties = append(parties, c.ISO3)
		if name == "origin" {
			p.rec.Origin = c.ISO3
		} else {
			p.rec.Destination = c.ISO3
		}
	}
	if f := t.field(row, "parties"); f.present() && !values.Missing(f.text) {
		var listed []string
		for _, name := range joinCommaNames(splitParties(f.text), func(s string) bool { _, ok := t.r.ref.Countries().Lookup(s); return ok }) {
			if missingCountry(name) {
				// "n/a" in a list is a marker, not Namibia (only "NA" is).
				fail(f, &values.Problem{Code: report.MissingValue, Message: fmt.Sprintf("%s in the parties is a missing-value marker, not a country; list the parties' names or codes separated by ;", report.Quote(name))})
				continue
			}
			c, ok := t.r.ref.Countries().Lookup(name)
			if !ok {
				fail(f, t.unknownCountry(name))
				continue
			}
			listed = append(listed, c.ISO3)
		}
		// origin and destination, or parties (inputs.md): when both are
		// given they must name the same countries, or one of them is wrong.
		if len(parties) > 0 && len(listed) > 0 && !slices.Equal(records.SortedParties(parties), records.SortedParties(listed)) {
			fail(f, &values.Problem{Code: report.Inconsistent, Message: fmt.Sprintf("the parties (%s) are not the origin and destination (%s); give origin and destination, or parties, or make them agree",
				strings.Join(records.SortedParties(listed), ", "), strings.Join(records.SortedParties(parties), ", "))})
		}
		parties = append(parties, listed...)
	}
	p.rec.Parties = records.SortedParties(parties)
	if p.ok && len(p.rec.Parties) < 2 {
		// Point at the cell to fill: the empty one of origin and
		// destination, else the parties.
		f := t.field(row, "parties")
		origin, dest := t.field(row, "origin"), t.field(row, "destination")
		switch {
		case origin.present() && values.Missing(origin.text) && !f.present():
			f = origin
		case dest.present() && values.Missing(dest.text) && (!f.present() || p.rec.Origin != ""):
			f = dest
		case !f.present():
			f = origin
		}
		fail(f, &values.Problem{Code: report.MissingValue, Message: "an agreement needs at least two different parties; give origin and destination, or parties separated by ;"})
	}
	p.signedF = t.field(row, "date_signed")
	p.inForceF = t.field(row, "date_in_force")
	p.endF = t.field(row, "date_end")
	for _, d := range []struct {
		f   field
		out *dateCell
		col *values.DateColumn
	}{{p.signedF, &p.signed, &ar.signed}, {p.inForceF, &p.inForce, &ar.inForce}, {p.endF, &p.ending, &ar.ending}} {
		if !d.f.present() || values.Missing(d.f.text) {
			continue
		}
		v, prob := t.readDate(row.Num, d.f, true, d.col)
		if prob != nil {
			fail(d.f, prob)
			continue
		}
		*d.out = v
	}
	for i, flag := range ar.flags {
		if p.rec.Provisions == nil {
			p.rec.Provisions = make([]string, len(ar.flags))
		}
		p.rec.Provisions[i] = records.FlagUnknown
		f := t.field(row, flag)
		if !f.present() {
			continue
		}
		v, prob := values.Flag(f.text)
		if prob != nil {
			fail(f, prob)
			continue
		}
		p.rec.Provisions[i] = v
	}
	if f := t.field(row, "sectors"); !values.Missing(f.text) {
		p.rec.Sectors = f.raw
	}
	ar.rows = append(ar.rows, p)
}

// splitParties splits a parties cell at ";" or, when it has none, at ",".
// Commas inside names such as "Korea, Republic of" survive when the list
// uses semicolons.
func splitParties(s string) []string {
	sep := ";"
	if !strings.Contains(s, ";") {
		sep = ","
	}
	var out []string
	for _, part := range strings.Split(s, sep) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// joinCommaNames puts back together names a comma split apart, such as
// "Korea, Republic of", when a list uses commas between parties.
func joinCommaNames(parts []string, known func(string) bool) []string {
	var out []string
	for i := 0; i < len(parts); i++ {
		if i+1 < len(parts) && !known(parts[i+1]) && known(parts[i]+", "+parts[i+1]) {
			out = append(out, parts[i]+", "+parts[i+1])
			i++
			continue
		}
		out = append(out, parts[i])
	}
	return out
}

func (ar *agreementReader) finish(t *table) {
	if _, ok := t.h.columns["date_signed"]; !ok {
		for _, p := range ar.rows {
			if p.rec.Status != records.StatusNegotiating {
				t.rep.Errorf(report.MissingColumn, t.sheet, 0, t.h.row, "the agreements table whose header is on row %d has no date_signed column; it is required unless every agreement is negotiating; add it with one of these headers: %s", t.h.row, acceptedHeaders(t.h.spec, "date_signed"))
				break
			}
		}
	}
	byKey := map[string]int{}
	var out []records.Agreement
	for i := range ar.rows {
		p := &ar.rows[i]
		for _, d := range []struct {
			cell *dateCell
			col  *values.DateColumn
			dst  *records.PartialDate
		}{{&p.signed, &ar.signed, &p.rec.Signed}, {&p.inForce, &ar.inForce, &p.rec.InForce}, {&p.ending, &ar.ending, &p.rec.End}} {
			if !d.cell.ok {
				continue
			}
			if !t.settle(d.cell, d.col) {
				p.ok = false
				continue
			}
			*d.dst = d.cell.value.Partial()
		}
		// The checks between cells run on whatever parsed, even in a row
		// with other errors, so that every problem is reported in one
		// pass; a date or status that did not parse is not checked again.
		tried := func(f field) bool { return f.present() && !values.Missing(f.text) }
		statusKnown := !tried(p.statusF) || p.rec.Status != ""
		fail := func(f field, prob *values.Problem) {
			t.errorAt(p.row, f, prob)
			p.ok = false
		}
		if statusKnown && !tried(p.signedF) && p.rec.Status != records.StatusNegotiating {
			// Without the column, the header reports it.
			fail(p.signedF, &values.Problem{Code: report.MissingValue, Message: "the signature date is missing; it is required unless the status is negotiating (a bare year such as 2019 is enough)"})
		}
		if p.rec.Signed.HasDay && t.future(p.rec.Signed.Date) || !p.rec.Signed.HasDay && p.rec.Signed.Year > t.r.now().UTC().Year() {
			fail(p.signedF, &values.Problem{Code: report.OutOfRange, Message: "the signature date " + p.rec.Signed.String() + " is in the future; an agreement not yet signed has the status negotiating"})
		}
		if values.Ended(p.rec.Status) && !tried(p.endF) {
			f := p.endF
			if !f.present() {
				f = p.statusF
			}
			fail(f, &values.Problem{Code: report.MissingValue, Message: "the agreement is " + p.rec.Status + " but has no end date; give the date or year it ended"})
		}
		if p.rec.Signed.Known() && p.rec.InForce.Known() && p.rec.InForce.Before(p.rec.Signed) {
			fail(p.inForceF, &values.Problem{Code: report.Inconsistent, Message: "the entry into force " + p.rec.InForce.String() + " is before the signature " + p.rec.Signed.String()})
		}
		if p.rec.Signed.Known() && p.rec.End.Known() && p.rec.End.Before(p.rec.Signed) {
			fail(p.endF, &values.Problem{Code: report.Inconsistent, Message: "the end date " + p.rec.End.String() + " is before the signature " + p.rec.Signed.String()})
		}
		if !p.ok {
			continue
		}
		k := p.rec.Key()
		if j, dup := byKey[k]; dup {
			first := out[j]
			if sameAgreement(first, p.rec) {
				t.rep.Warnf(report.DuplicateRow, t.sheet, t.h.firstCol, p.row, "row %d repeats the agreement of row %d (%s); the repeat was ignored", p.row, rowNum(first.Source.Cell), p.rec.Title)
				continue
			}
			pairs := [][3]string{
				{"title", first.Title, p.rec.Title}, {"status", first.Status, p.rec.Status},
				{"date_signed", first.Signed.String(), p.rec.Signed.String()}, {"date_in_force", first.InForce.String(), p.rec.InForce.String()},
				{"date_end", first.End.String(), p.rec.End.String()}, {"sectors", first.Sectors, p.rec.Sectors},
			}
			for _, fl := range records.ProvisionFlags() {
				pairs = append(pairs, [3]string{fl, first.Provision(fl), p.rec.Provision(fl)})
			}
			t.duplicate(rowNum(first.Source.Cell), p.row, "agreement "+describeAgreement(p.rec), differences(pairs...))
			continue
		}
		byKey[k] = len(out)
		out = append(out, p.rec)
	}
	t.records += len(out)
	t.sub.Agreements = append(t.sub.Agreements, out...)
}

func describeAgreement(a records.Agreement) string {
	if a.AgreementID != "" {
		return a.AgreementID
	}
	year := "(no signature year)"
	if a.Signed.Known() {
		year = "signed in " + strconv.Itoa(a.Signed.Year)
	}
	return a.Type + " between " + strings.Join(a.Parties, ", ") + " " + year + " (no agreement_id: give each agreement an id to keep them apart)"
}

func sameAgreement(a, b records.Agreement) bool {
	a.Source, b.Source = records.Provenance{}, records.Provenance{}
	if len(a.Parties) != len(b.Parties) || len(a.Provisions) != len(b.Provisions) {
		return false
	}
	for i := range a.Parties {
		if a.Parties[i] != b.Parties[i] {
			return false
		}
	}
	for i := range a.Provisions {
		if a.Provisions[i] != b.Provisions[i] {
			return false
		}
	}
	a.Parties, b.Parties, a.Provisions, b.Provisions = nil, nil, nil, nil
	return a.AgreementID == b.AgreementID && a.Title == b.Title && a.Type == b.Type && a.Origin == b.Origin &&
		a.Destination == b.Destination && a.Signed == b.Signed && a.InForce == b.InForce && a.End == b.End &&
		a.Status == b.Status && a.Sectors == b.Sectors
}
