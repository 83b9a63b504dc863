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
// its names, columns (with the headers that name them), required columns
// and schema (a Descriptor) and what its record type brings (a Kind: how a
// record is made from a row, with the problems of its cells; how its table
// is made and read back; its key; the areas a record concerns; what the
// history shows of it); a Set holds its records in Others. Ingest reads
// its tables (ingest.Reader.WithDomains: its header is found by its
// columns, each problem is an error at its cell), the store keeps,
// supersedes, counts, compacts and lists the history of its records
// (store.WithDomains), and a run takes both (pipeline.Pipeline.Domains),
// with no code of their own for it. records/toydomain is such a domain;
// TestToyDomainIsReadByItsDescriptor (ingest), TestToyDomainThroughItsDescriptorAlone
// (store) and TestToyDomainEndToEnd (pipeline) add it. Publishing its
// table and computing indicators from it are what the spec would have to
// say first. For a domain of the pledge, with validation rules of its own:
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
