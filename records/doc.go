// Package records defines the normalised records of the input domains
// (ratification, social protection, bilateral labour migration
// agreements), their record keys, and their Arrow tables.
//
// These types are the contract between ingest (which produces them from
// spreadsheets), store (which keeps them between runs) and transform (which
// reads their Arrow tables). The package knows nothing about files or
// indicators.
//
// Each domain is described once, by a Descriptor (domain.go): its names,
// its input columns with the English, French and Spanish headers that
// name them (columns.go), its table's schema, its record key and how its
// records sit in a Set.
// The store, the build, status, the template command and the CLI work
// through Descriptors(); a domain they are given that is not described is
// an error (Describe), never a fall-through into another domain's code.
// Facts shared between packages live here once: the rule for "ratified at
// the end of the year" (RatifiedAtEndOf), the provision columns with the
// headers that name them (Provisions).
//
// # Adding a domain
//
// A domain can live by its descriptor alone: records.NewDescriptor takes
// its names and schema (a Descriptor) and what its record type brings (a
// Kind: how its table is made and read back, its key, the areas a
// record concerns, what the history shows of it); a Set holds its
// records in Others. The store takes the descriptors it holds
// (store.WithDomains) and keeps, supersedes, counts, compacts and lists
// the history of such a domain with no code of its own for it: the test
// TestToyDomainThroughItsDescriptorAlone (store/toy_test.go) adds a toy
// fourth domain that way. For a domain users send and indicators read:
//
//  1. Here: the record type with its Key method (what a later record
//     supersedes), its input columns and their headers (columns.go), its
//     Arrow schema, New…Batch and …Of, the key reader (keys.go) and its
//     Descriptor in Descriptors() (describe with its Kind and, for a
//     pledge domain, a field of Set; NewDescriptor otherwise). The tests
//     TestDescriptorsAreComplete and TestKeysOfTables then cover it once
//     a sample of its records is added to them.
//  2. ingest: which columns are required and a row reader (a domainSpec
//     in ingest/columns.go, built from the descriptor's columns); a
//     vocabulary column reads through ingest/values, whose vocabularies
//     also give the template its drop-down lists (values.Choices);
//     TestEveryDomainHasAReader fails until it exists.
//  3. ingest/template: its sheet and the presentation of each column
//     (kind, width, help); TestTemplateColumnsAreDescribed fails until
//     every column is there, and the template round trip test until it
//     has rows for the domain.
//  4. store: nothing: the current records, the key index, the snapshot
//     and the history work through the descriptors.
//  5. The spec (inputs.md, outputs.md) and, if indicators read it, the
//     transform package (see its documentation for adding an indicator).
package records
