package template

import (
	"testing"

	"github.com/ilo-pledge/pledgestat/internal/textnorm"
	"github.com/ilo-pledge/pledgestat/records"
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
