package template

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/internal/textnorm"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

// Every template column is a column of its domain's descriptor, headed by
// one of the spellings ingest reads for it, and every column of the
// descriptor is in the template.
func TestTemplateColumnsAreDescribed(t *testing.T) {
	for _, desc := range records.Descriptors() {
		spec, ok := domains[desc.Domain]
		if !ok {
			t.Errorf("no template for %s", desc.Domain)
			continue
		}
		described := map[string][]string{}
		for _, c := range desc.Columns {
			described[c.Name] = append([]string{c.Name}, c.Headers...)
		}
		inTemplate := map[string]bool{}
		for _, c := range spec.columns {
			inTemplate[c.name] = true
			spellings, ok := described[c.name]
			if !ok {
				t.Errorf("%s: template column %q is not a column of the domain", desc.Domain, c.name)
				continue
			}
			found := false
			for _, sp := range spellings {
				found = found || textnorm.Key(sp) == textnorm.Key(c.header)
			}
			if !found {
				t.Errorf("%s: template header %q is not a spelling of %s", desc.Domain, c.header, c.name)
			}
		}
		for name := range described {
			if !inTemplate[name] {
				t.Errorf("%s: column %s is missing from the template", desc.Domain, name)
			}
		}
	}
}

// The ratification template offers only ILO member States: a non-member
// picked from its list would be refused (not_member).
func TestRatificationTemplateOffersMembersOnly(t *testing.T) {
	ref, err := refdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, records.DomainRatification, ref); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	dvs, err := f.GetDataValidations(domains[records.DomainRatification].sheet)
	if err != nil {
		t.Fatal(err)
	}
	var list string
	for _, dv := range dvs {
		if strings.HasPrefix(dv.Sqref, "A") {
			list = dv.Formula1
		}
	}
	if !strings.Contains(list, "$D$") {
		t.Fatalf("the country column's list is %q, want the member States' (column D)", list)
	}
	rows, _ := f.GetRows(ListsSheet)
	n := 0
	for _, r := range rows[1:] {
		if len(r) >= 4 && r[3] != "" {
			n++
			if c, ok := ref.Countries().Lookup(r[3]); !ok || !c.ILOMember {
				t.Errorf("%q offered as a member State", r[3])
			}
		}
	}
	if n != len(ref.Countries().Members()) {
		t.Errorf("%d names offered, want the %d member States", n, len(ref.Countries().Members()))
	}
}
