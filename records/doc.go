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
// its table's schema, its record key and how its records sit in a Set.
// The store, the build, status, the template command and the CLI work
// through Descriptors(); a domain they are given that is not described is
// an error (Describe), never a fall-through into another domain's code.
// Facts shared between packages live here once: the rule for "ratified at
// the end of the year" (RatifiedAtEndOf), the provision columns with the
// headers that name them (Provisions).
//
// # Adding a domain
//
//  1. Here: the record type with its Key method (what a later record
//     supersedes), its Arrow schema, New…Batch and …Of, a field of Set,
//     the key reader (keys.go) and its Descriptor in Descriptors(). The
//     tests TestDescriptorsAreComplete and TestKeysOfTables then cover it
//     once a sample of its records is added to them.
//  2. ingest: its columns with their English, French and Spanish headers
//     and a row reader (a domainSpec in ingest/columns.go);
//     TestEveryDomainHasAReader fails until it exists.
//  3. ingest/template: its sheet and columns; the template round trip
//     test fails until it has rows for the domain.
//  4. store: the in-memory current state (store.current) and the key
//     index (keyIndex.add) keep each domain's records by key; history.go
//     lists their versions.
//  5. The spec (inputs.md, outputs.md) and, if indicators read it, the
//     transform package (see its documentation for adding an indicator).
package records
