package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol/arrowcoltest"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/records"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func names(code string) string { return code }

func ratification(country, inst string, year int, file string) records.Ratification {
	return records.Ratification{Country: country, Instrument: inst, RatificationDate: records.DateOf(year, time.January, 1),
		Source: records.Provenance{File: file, Cell: "A2", SHA256: "x"}, DateCell: "C2"}
}

func sha(c byte) string { return strings.Repeat(string(c), 64) }

func TestAcceptSupersedeAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(fsx.OS{}, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	first := records.Set{Ratifications: []records.Ratification{ratification("FRA", "C097", 1954, "a.xlsx"), ratification("DEU", "C097", 1959, "a.xlsx")},
		Coverage: []records.CoverageObservation{{Area: "FRA", Year: 2020, Series: "SOC_CONTIG_TOTAL", Sex: "T", Population: "total", Value: 70, ValueCell: "C2"}}}
	e1, err := s.Accept(ctx, Entry{File: "a.xlsx", SHA256: sha('a')}, first, nil, names)
	if err != nil {
		t.Fatal(err)
	}
	if e1.Seq != 1 || e1.Rows["ratification"] != 2 || e1.Superseded != nil {
		t.Errorf("first entry = %+v", e1)
	}
	second := records.Set{Ratifications: []records.Ratification{ratification("FRA", "C097", 1955, "b.xlsx")}}
	e2, err := s.Accept(ctx, Entry{File: "b.xlsx", SHA256: sha('b')}, second, nil, names)
	if err != nil {
		t.Fatal(err)
	}
	if e2.Seq != 2 || e2.Superseded["ratification"] != 1 {
		t.Errorf("second entry = %+v", e2)
	}
	check := func(s *Store) {
		t.Helper()
		cur, err := s.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cur.Ratifications) != 2 || len(cur.Coverage) != 1 {
			t.Fatalf("current = %+v", cur)
		}
		if got := cur.Ratifications[0]; got.Country != "FRA" || got.RatificationDate.Year() != 1955 || got.Source.File != "b.xlsx" {
			t.Errorf("FRA not superseded: %+v", got)
		}
	}
	check(s)
	reopened, err := Open(fsx.OS{}, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	check(reopened)
	if _, ok := reopened.FindAccepted(sha('a')); !ok {
		t.Error("FindAccepted does not find the first submission")
	}
	if _, ok := reopened.FindAccepted(sha('c')); ok {
		t.Error("FindAccepted finds bytes never submitted")
	}
	// Withdrawing the correction brings the first value back.
	if err := reopened.Record(Entry{Event: EventWithdrawn, Seq: 2}); err != nil {
		t.Fatal(err)
	}
	cur, _ := reopened.Current(ctx)
	if cur.Ratifications[0].RatificationDate.Year() != 1954 {
		t.Errorf("after withdrawal FRA = %+v", cur.Ratifications[0])
	}
}

func TestRepairsTornLedgerAndOrphans(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := Open(fsx.OS{}, dir, quiet)
	if _, err := s.Accept(ctx, Entry{File: "a.xlsx", SHA256: sha('a')}, records.Set{Ratifications: []records.Ratification{ratification("FRA", "C097", 1954, "a.xlsx")}}, nil, names); err != nil {
		t.Fatal(err)
	}
	// A crash mid-append leaves half a line; a crash after writing data but
	// before the ledger leaves an unnamed folder.
	f, _ := os.OpenFile(filepath.Join(dir, ledgerName), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`1234abcd {"event":"accepted","seq":2,`)
	f.Close()
	orphan := filepath.Join(dir, "submissions", "000002-bbbbbbbbbbbb")
	os.MkdirAll(orphan, 0o755)
	s2, err := Open(fsx.OS{}, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if len(s2.Entries()) != 1 {
		t.Errorf("entries = %+v", s2.Entries())
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Error("orphan folder not removed")
	}
	data, _ := os.ReadFile(filepath.Join(dir, ledgerName))
	if !strings.HasSuffix(string(data), "\n") || strings.Contains(string(data), `"seq":2,`) {
		t.Errorf("ledger not repaired: %q", data)
	}
	lines := strings.SplitAfter(string(data), "\n")
	// A whole line that does not check out is damage, even the last one.
	os.WriteFile(filepath.Join(dir, ledgerName), []byte(strings.Replace(lines[0], "a.xlsx", "b.xlsx", 1)), 0o644)
	if _, err := Open(fsx.OS{}, dir, quiet); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("a damaged complete last line was taken for a torn append: %v", err)
	}
	// A damaged line in the middle is corruption, not a torn append.
	os.WriteFile(filepath.Join(dir, ledgerName), []byte(strings.Replace(lines[0], "a.xlsx", "b.xlsx", 1)+lines[0]), 0o644)
	if _, err := Open(fsx.OS{}, dir, quiet); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt ledger opened: %v", err)
	}
}

// The totals read from the ledger alone equal the records counted after
// loading them, with overlapping submissions; a withdrawal switches to
// counting the records.
func TestTotalsFromTheLedger(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(fsx.OS{}, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	rat := func(country, inst string, y int) records.Ratification {
		return records.Ratification{Country: country, Instrument: inst, RatificationDate: records.DateOf(y, 1, 1), Source: records.Provenance{File: "f", Cell: "A1"}}
	}
	subs := [][]records.Ratification{
		{rat("FRA", "C097", 2000), rat("DEU", "C097", 2001)},
		{rat("FRA", "C097", 2002), rat("ITA", "C097", 2003)}, // FRA supersedes
		{rat("FRA", "C097", 2004), rat("DEU", "C097", 2005), rat("ESP", "C143", 2006)},
	}
	for i, rs := range subs {
		if _, err := s.Accept(ctx, Entry{File: fmt.Sprint(i), SHA256: sha(byte('a' + i)), StoredAs: fmt.Sprint(i)}, records.Set{Ratifications: rs}, nil, func(c string) string { return c }); err != nil {
			t.Fatal(err)
		}
	}
	reopened, _ := OpenReadOnly(dir, quiet)
	fast, _ := reopened.Totals(ctx)
	cur, _ := reopened.Current(ctx)
	if fast[records.DomainRatification] != len(cur.Ratifications) || fast[records.DomainRatification] != 4 {
		t.Errorf("ledger totals %v, records %d, want 4", fast, len(cur.Ratifications))
	}
	if err := s.Record(Entry{Event: EventWithdrawn, Seq: 3}); err != nil {
		t.Fatal(err)
	}
	reopened, _ = OpenReadOnly(dir, quiet)
	after, _ := reopened.Totals(ctx)
	if after[records.DomainRatification] != 3 {
		t.Errorf("after withdrawing submission 3: %v, want 3 (ESP gone, FRA and DEU back to earlier versions)", after)
	}
}

// The snapshot reflects the ledger: the state read through it equals the
// state read from every submission, after more submissions, after a
// withdrawal (which makes the old snapshot unusable), and a snapshot that
// disagrees with the ledger is not used.
func TestSnapshotEqualsTheSubmissions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	names := func(c string) string { return c }
	s, err := Open(fsx.OS{}, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	rat := func(country, inst string, y int) records.Ratification {
		return records.Ratification{Country: country, Instrument: inst, RatificationDate: records.DateOf(y, 1, 1), Source: records.Provenance{File: "f", Cell: "A1"}}
	}
	accept := func(i int, rs ...records.Ratification) {
		t.Helper()
		if _, err := s.Accept(ctx, Entry{File: fmt.Sprint(i), SHA256: sha(byte('a' + i)), StoredAs: fmt.Sprint(i)}, records.Set{Ratifications: rs}, nil, names); err != nil {
			t.Fatal(err)
		}
	}
	// fromSubmissions reads the state with the snapshot pointer hidden.
	fromSubmissions := func() []records.Ratification {
		t.Helper()
		ptr := filepath.Join(dir, snapshotPointer)
		data, _ := os.ReadFile(ptr)
		os.Remove(ptr)
		defer func() {
			if data != nil {
				os.WriteFile(ptr, data, 0o644)
			}
		}()
		ro, _ := OpenReadOnly(dir, quiet)
		cur, err := ro.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return cur.Ratifications
	}
	throughSnapshot := func() []records.Ratification {
		t.Helper()
		ro, _ := OpenReadOnly(dir, quiet)
		if ro.openSnapshot() == nil {
			t.Fatal("no usable snapshot")
		}
		cur, err := ro.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return cur.Ratifications
	}
	same := func(what string, a, b []records.Ratification) {
		t.Helper()
		if len(a) != len(b) {
			t.Fatalf("%s: %d records against %d", what, len(a), len(b))
		}
		for i := range a {
			if a[i].Key() != b[i].Key() || a[i].RatificationDate != b[i].RatificationDate {
				t.Fatalf("%s: record %d is %s %v against %s %v", what, i, a[i].Key(), a[i].RatificationDate, b[i].Key(), b[i].RatificationDate)
			}
		}
	}
	accept(0, rat("FRA", "C097", 2000), rat("DEU", "C097", 2001))
	accept(1, rat("FRA", "C097", 2002), rat("ITA", "C097", 2003))
	if err := compact(t, s, names); err != nil {
		t.Fatal(err)
	}
	same("after compaction", throughSnapshot(), fromSubmissions())
	// More submissions are applied on top of the snapshot.
	s, _ = Open(fsx.OS{}, dir, quiet)
	accept(2, rat("DEU", "C097", 2004), rat("ESP", "C143", 2006))
	same("a submission since the snapshot", throughSnapshot(), fromSubmissions())
	// A withdrawal makes the snapshot unusable until the next compaction.
	if err := s.Record(Entry{Event: EventWithdrawn, Seq: 2}); err != nil {
		t.Fatal(err)
	}
	if ro, _ := OpenReadOnly(dir, quiet); ro.openSnapshot() != nil {
		t.Error("a snapshot from before a withdrawal was used")
	}
	s, _ = Open(fsx.OS{}, dir, quiet)
	if err := compact(t, s, names); err != nil {
		t.Fatal(err)
	}
	same("after the withdrawal", throughSnapshot(), fromSubmissions())
	if got := fromSubmissions(); len(got) != 3 || got[0].RatificationDate != records.DateOf(2000, 1, 1) {
		t.Errorf("withdrawing submission 2 should bring FRA 2000 back: %+v", got)
	}
	// A snapshot whose counts disagree with the ledger is not used.
	dir2 := t.TempDir()
	s2, _ := Open(fsx.OS{}, dir2, quiet)
	if _, err := s2.Accept(ctx, Entry{File: "x", SHA256: sha('d'), StoredAs: "x"}, records.Set{Ratifications: []records.Ratification{rat("FRA", "C097", 2000), rat("DEU", "C097", 2001)}}, nil, names); err != nil {
		t.Fatal(err)
	}
	if err := compact(t, s2, names); err != nil {
		t.Fatal(err)
	}
	ptr, _ := os.ReadFile(filepath.Join(dir2, snapshotPointer))
	var p snapshotPointerFile
	json.Unmarshal(ptr, &p)
	state := filepath.Join(dir2, p.Dir, snapshotState)
	data, _ := os.ReadFile(state)
	if ro, _ := OpenReadOnly(dir2, quiet); ro.openSnapshot() == nil {
		t.Fatal("the intact snapshot is not used")
	}
	os.WriteFile(state, []byte(strings.Replace(string(data), `"ratification": 2`, `"ratification": 1`, 1)), 0o644)
	if ro, _ := OpenReadOnly(dir2, quiet); ro.openSnapshot() != nil {
		t.Error("a snapshot that disagrees with the ledger was used")
	}
}

// Accepting a file through the key index (the records not loaded) counts
// the same superseded records and finds the same agreements without an id
// as with the records loaded, and does not load them.
func TestKeyIndexAgreesWithTheRecords(t *testing.T) {
	ctx := context.Background()
	names := func(c string) string { return c }
	rat := func(country string, y int) records.Ratification {
		return records.Ratification{Country: country, Instrument: "C097", RatificationDate: records.DateOf(y, 1, 1), Source: records.Provenance{File: "f", Cell: "A1"}}
	}
	agr := func(parties []string, y int, file string) records.Agreement {
		a := records.Agreement{Title: "t", Type: "BLA", Parties: parties, Signed: records.PartialDate{Year: y}, Source: records.Provenance{File: file, Cell: "A1"}}
		for range records.ProvisionFlags() {
			a.Provisions = append(a.Provisions, records.FlagUnknown)
		}
		return a
	}
	build := func(dir string, compacted bool) *Store {
		s, err := Open(fsx.OS{}, dir, quiet)
		if err != nil {
			t.Fatal(err)
		}
		s.Accept(ctx, Entry{File: "1", SHA256: sha('1'), StoredAs: "1"}, records.Set{Ratifications: []records.Ratification{rat("FRA", 2000), rat("DEU", 2001)}, Agreements: []records.Agreement{agr([]string{"DEU", "PHL"}, 2018, "old.csv")}}, nil, names)
		if compacted {
			if err := compact(t, s, names); err != nil {
				t.Fatal(err)
			}
		}
		s.Accept(ctx, Entry{File: "2", SHA256: sha('2'), StoredAs: "2"}, records.Set{Ratifications: []records.Ratification{rat("ITA", 2003)}}, nil, names)
		s, _ = Open(fsx.OS{}, dir, quiet) // a new process: nothing loaded
		return s
	}
	indexed, loaded := build(t.TempDir(), true), build(t.TempDir(), false)
	next := records.Set{Ratifications: []records.Ratification{rat("FRA", 2010), rat("ITA", 2011), rat("ESP", 2012)}, Agreements: []records.Agreement{agr([]string{"DEU", "PHL"}, 2019, "new.csv")}}
	similarIdx, _ := indexed.SimilarAgreements(ctx, next.Agreements[0])
	similarLoad, _ := loaded.SimilarAgreements(ctx, next.Agreements[0])
	if len(similarIdx) != 1 || len(similarLoad) != 1 || similarIdx[0].Signed.Year != 2018 || similarIdx[0].Source.File != "old.csv" {
		t.Errorf("similar agreements: index %+v, records %+v", similarIdx, similarLoad)
	}
	ei, err := indexed.Accept(ctx, Entry{File: "3", SHA256: sha('3'), StoredAs: "3"}, next, nil, names)
	if err != nil {
		t.Fatal(err)
	}
	if indexed.current != nil {
		t.Error("accepting through the index loaded the records")
	}
	el, _ := loaded.Accept(ctx, Entry{File: "3", SHA256: sha('3'), StoredAs: "3"}, next, nil, names)
	if ei.Superseded["ratification"] != 2 || ei.Superseded["ratification"] != el.Superseded["ratification"] || ei.Superseded["blma"] != el.Superseded["blma"] {
		t.Errorf("superseded: index %v, records %v", ei.Superseded, el.Superseded)
	}

	// An index whose hashes are out of order (damaged: written sorted)
	// would make a binary search miss keys: it is not used, the records
	// are, and the count is still right.
	dir := t.TempDir()
	build(dir, true)
	bins, _ := filepath.Glob(filepath.Join(dir, "snapshot-*", "keys-ratification.bin"))
	if len(bins) != 1 {
		t.Fatalf("key index files: %v", bins)
	}
	data, _ := os.ReadFile(bins[0])
	if len(data) != 16 {
		t.Fatalf("keys-ratification.bin has %d bytes, want two hashes", len(data))
	}
	os.WriteFile(bins[0], append(data[8:], data[:8]...), 0o644)
	damaged, _ := Open(fsx.OS{}, dir, quiet)
	ed, err := damaged.Accept(ctx, Entry{File: "3", SHA256: sha('3'), StoredAs: "3"}, next, nil, names)
	if err != nil {
		t.Fatal(err)
	}
	if damaged.current == nil || ed.Superseded["ratification"] != 2 {
		t.Errorf("damaged index: records loaded %v, superseded %v; want the records loaded and 2 superseded", damaged.current != nil, ed.Superseded)
	}
}

// compact compacts the store from its current tables, as a build does.
func compact(t *testing.T, s *Store, names records.NameFunc) error {
	t.Helper()
	ctx := context.Background()
	// As a build does: the tables read unchanged from the snapshot (by a
	// store just opened) hold only a few columns, and the snapshot written
	// must still hold all.
	tables, err := s.Tables(ctx, s.mem, names, "test-names", someColumns())
	if err != nil {
		return err
	}
	defer tables.Release()
	return s.Compact(ctx, tables, "test-names")
}

// someColumns names three columns of each domain's table, in another
// order than the table's.
func someColumns() map[records.Domain][]string {
	out := map[records.Domain][]string{}
	for _, desc := range records.Descriptors() {
		f := desc.Schema.Fields()
		out[desc.Domain] = []string{f[len(f)-1].Name, f[0].Name, f[2].Name}
	}
	return out
}

// project is b with the named columns only, in their order.
func project(b arrow.RecordBatch, names []string) arrow.RecordBatch {
	var fields []arrow.Field
	var cols []arrow.Array
	for _, n := range names {
		i := b.Schema().FieldIndices(n)[0]
		fields = append(fields, b.Schema().Field(i))
		cols = append(cols, b.Column(i))
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, b.NumRows())
}

// The tables a build reads from the snapshot and the submissions since
// (Tables) are the tables of the records read from every submission
// (Current), row for row, whatever the history: random submissions that
// supersede each other in every domain, agreements with and without ids,
// compactions and withdrawals at random points.
func TestTablesMatchTheRecords(t *testing.T) {
	ctx := context.Background()
	// Every buffer is checked back in, and poisoned when freed: a record
	// read from a released batch would not match.
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer checked.AssertSize(t, 0)
	mem := arrowcoltest.Poisoning(checked)
	viaSnapshot, partial := 0, 0
	for seed := range 8 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		dir := t.TempDir()
		s, err := Open(fsx.OS{}, dir, quiet)
		if err != nil {
			t.Fatal(err)
		}
		s.SetAllocator(mem)
		countries := []string{"FRA", "DEU", "ITA", "ESP", "PHL", "SAU"}
		pick := func() string { return countries[rng.IntN(len(countries))] }
		var accepted []int
		for step := range 20 {
			switch op := rng.IntN(10); {
			case op < 6:
				var set records.Set
				file := fmt.Sprintf("f%d-%d.xlsx", seed, step)
				for range rng.IntN(4) {
					set.Ratifications = append(set.Ratifications, ratification(pick(), []string{"C097", "C143"}[rng.IntN(2)], 1990+rng.IntN(30), file))
				}
				for range rng.IntN(4) {
					set.Coverage = append(set.Coverage, records.CoverageObservation{Area: pick(), Year: 2015 + rng.IntN(4), Series: "SOC_CONTIG_TOTAL", Sex: "T", Population: "total", Value: float64(rng.IntN(100)), ValueCell: "C2", Source: records.Provenance{File: file, Cell: "A2"}})
				}
				for range rng.IntN(4) {
					a := records.Agreement{Title: "t", Type: "BLA", Parties: []string{pick(), pick()}, Signed: records.PartialDate{Year: 2010 + rng.IntN(3)}, Source: records.Provenance{File: file, Cell: "A3"}}
					if rng.IntN(2) == 0 {
						a.AgreementID = fmt.Sprintf("Id-%d", rng.IntN(5))
					}
					for range records.ProvisionFlags() {
						a.Provisions = append(a.Provisions, records.FlagUnknown)
					}
					set.Agreements = append(set.Agreements, a)
				}
				if set.Len() == 0 {
					continue
				}
				e, err := s.Accept(ctx, Entry{File: file, SHA256: fmt.Sprintf("%064x", seed*100+step), StoredAs: file}, set, nil, names)
				if err != nil {
					t.Fatal(err)
				}
				accepted = append(accepted, e.Seq)
			case op < 8:
				if rng.IntN(2) == 0 {
					// As a build does: a store just opened reads its
					// tables from the snapshot.
					if s, err = Open(fsx.OS{}, dir, quiet); err != nil {
						t.Fatal(err)
					}
					s.SetAllocator(mem)
					s.compactAlways = true
				}
				if err := compact(t, s, names); err != nil {
					t.Fatal(err)
				}
			case op < 9 && len(accepted) > 0:
				seq := accepted[rng.IntN(len(accepted))]
				if err := s.Record(Entry{Event: EventWithdrawn, Seq: seq}); err != nil {
					t.Fatal(err)
				}
			default:
				if s, err = Open(fsx.OS{}, dir, quiet); err != nil {
					t.Fatal(err)
				}
				s.SetAllocator(mem)
			}
			// A snapshot that cannot be read is set aside for the
			// submissions, with a warning: the tables would match, and
			// the snapshot be broken.
			var warnings bytes.Buffer
			fresh, _ := OpenReadOnly(dir, slog.New(slog.NewTextHandler(&warnings, &slog.HandlerOptions{Level: slog.LevelWarn})))
			fresh.SetAllocator(mem)
			if snap := fresh.openSnapshot(); snap != nil && snap.state.Through < fresh.lastSeq {
				viaSnapshot++
			}
			got, err := fresh.Tables(ctx, mem, names, "test-names", nil)
			if err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			// The records from every submission: the snapshot set aside.
			ptr := filepath.Join(dir, snapshotPointer)
			saved, _ := os.ReadFile(ptr)
			os.Remove(ptr)
			fromSubs, _ := OpenReadOnly(dir, quiet)
			fromSubs.SetAllocator(mem)
			set, err := fromSubs.Current(ctx)
			if saved != nil {
				os.WriteFile(ptr, saved, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			// Asked for a few columns, a table read unchanged from the
			// snapshot holds those; one the submissions since change
			// holds all.
			some, err := fresh.Tables(ctx, mem, names, "test-names", someColumns())
			if err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			if strings.Contains(warnings.String(), "snapshot cannot be read") {
				t.Fatalf("seed %d step %d: %s", seed, step, warnings.String())
			}
			for _, desc := range records.Descriptors() {
				d := desc.Domain
				want := desc.Batch(mem, set, names)
				if !array.RecordEqual(got.Table(d), want) {
					t.Fatalf("seed %d step %d, %s: tables %v\nrecords %v", seed, step, d, got.Table(d), want)
				}
				wantSome := want
				if some.File(d) != "" {
					partial++
					wantSome = project(want, someColumns()[d])
					defer wantSome.Release()
				}
				if !array.RecordEqual(some.Table(d), wantSome) {
					t.Fatalf("seed %d step %d, %s (file %q): tables of some columns %v\nrecords %v", seed, step, d, some.File(d), some.Table(d), wantSome)
				}
				want.Release()
			}
			got.Release()
			some.Release()
		}
	}
	if partial < 15 {
		t.Errorf("only %d tables were read in part", partial)
	}
	if viaSnapshot < 15 {
		t.Errorf("only %d steps read a snapshot with submissions since", viaSnapshot)
	} else {
		t.Logf("%d steps read a snapshot with submissions since", viaSnapshot)
	}
}

// A snapshot written with other names (reference data or tool version) is
// not published as it is: the tables are rebuilt with the current names.
func TestSnapshotWithOtherNamesIsRebuilt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := Open(fsx.OS{}, dir, quiet)
	if _, err := s.Accept(ctx, Entry{File: "a", SHA256: sha('a'), StoredAs: "a"}, records.Set{Ratifications: []records.Ratification{ratification("FRA", "C097", 2000, "a")}}, nil, names); err != nil {
		t.Fatal(err)
	}
	if err := compact(t, s, names); err != nil {
		t.Fatal(err)
	}
	renamed := func(code string) string { return "Renamed " + code }
	fresh, _ := OpenReadOnly(dir, quiet)
	tables, err := fresh.Tables(ctx, memory.NewGoAllocator(), renamed, "other-names", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tables.Release()
	col := tables.Table(records.DomainRatification).Column(1).(*array.String)
	if col.Len() != 1 || col.Value(0) != "Renamed FRA" {
		t.Errorf("country_name = %v, want the current names", col)
	}
	if tables.File(records.DomainRatification) != "" {
		t.Error("a table rebuilt with other names is published as the snapshot's file")
	}
}

// Social-protection records spilled while their file was read are stored
// as if they had been held in memory: same records, same superseded
// counts, with the store's records loaded, through the key index, or
// empty; a spill never accepted leaves nothing once the store is opened
// again.
func TestSpillIsAcceptedLikeRecordsInMemory(t *testing.T) {
	ctx := context.Background()
	obs := func(area string, year int, v float64) records.CoverageObservation {
		return records.CoverageObservation{Area: area, Year: year, Series: "SOC_CONTIG_TOTAL", Sex: "T", Population: "total", Value: v, ValueCell: "C2", Source: records.Provenance{File: "f", Cell: "A2"}}
	}
	big := make([]records.CoverageObservation, 0, storeChunkRows+10)
	for i := range storeChunkRows + 10 { // more than one row group
		big = append(big, obs(fmt.Sprintf("A%05d", i), 2000+i%20, float64(i%100)))
	}
	first := []records.CoverageObservation{obs("FRA", 2020, 50), obs("DEU", 2020, 60)}
	second := append([]records.CoverageObservation{obs("FRA", 2020, 51), obs("ITA", 2021, 70)}, big...)
	for _, compacted := range []bool{false, true} {
		run := func(spilled bool) (Entry, records.Set) {
			dir := t.TempDir()
			s, _ := Open(fsx.OS{}, dir, quiet)
			if _, err := s.Accept(ctx, Entry{File: "1", SHA256: sha('1'), StoredAs: "1"}, records.Set{Coverage: first}, nil, names); err != nil {
				t.Fatal(err)
			}
			if compacted {
				if err := compact(t, s, names); err != nil {
					t.Fatal(err)
				}
				s, _ = Open(fsx.OS{}, dir, quiet)
			} else if _, err := s.Current(ctx); err != nil {
				t.Fatal(err)
			}
			var e Entry
			var err error
			if spilled {
				sp := s.NewSpill(names)
				for from := 0; from < len(second); from += 1000 {
					if err := sp.Coverage(second[from:min(len(second), from+1000)]); err != nil {
						t.Fatal(err)
					}
				}
				e, err = s.Accept(ctx, Entry{File: "2", SHA256: sha('2'), StoredAs: "2"}, records.Set{}, sp, names)
				sp.Discard()
			} else {
				e, err = s.Accept(ctx, Entry{File: "2", SHA256: sha('2'), StoredAs: "2"}, records.Set{Coverage: second}, nil, names)
			}
			if err != nil {
				t.Fatal(err)
			}
			// The same process accepts another file: what the spill
			// brought is current for it, and nothing is read again.
			reads := s.submissionsRead.Load()
			third, err := s.Accept(ctx, Entry{File: "3", SHA256: sha('3'), StoredAs: "3"}, records.Set{Coverage: []records.CoverageObservation{obs("ITA", 2021, 71)}}, nil, names)
			if err != nil {
				t.Fatal(err)
			}
			if third.Superseded["social_protection"] != 1 {
				t.Errorf("compacted %v, spilled %v: a record of the spilled submission superseded: %v, want 1", compacted, spilled, third.Superseded)
			}
			if s.submissionsRead.Load() != reads {
				// Loading every record after each spilled file made a run
				// of 600 small files take a minute.
				t.Errorf("compacted %v, spilled %v: accepting after a spilled submission read %d submissions", compacted, spilled, s.submissionsRead.Load()-reads)
			}
			ro, _ := OpenReadOnly(dir, quiet)
			set, err := ro.Current(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if list, _ := os.ReadDir(filepath.Join(dir, "submissions")); len(list) != 3 {
				t.Errorf("submissions/ holds %d entries, want the 3 submissions", len(list))
			}
			return e, set
		}
		inMemory, memSet := run(false)
		spilled, spillSet := run(true)
		if inMemory.Rows["social_protection"] != len(second) || spilled.Rows["social_protection"] != len(second) {
			t.Errorf("compacted %v: rows %v (in memory) and %v (spilled), want %d", compacted, inMemory.Rows, spilled.Rows, len(second))
		}
		if inMemory.Superseded["social_protection"] != 1 || spilled.Superseded["social_protection"] != 1 {
			t.Errorf("compacted %v: superseded %v (in memory) and %v (spilled), want 1", compacted, inMemory.Superseded, spilled.Superseded)
		}
		if len(memSet.Coverage) != len(spillSet.Coverage) {
			t.Fatalf("compacted %v: %d records against %d", compacted, len(memSet.Coverage), len(spillSet.Coverage))
		}
		for i := range memSet.Coverage {
			if memSet.Coverage[i] != spillSet.Coverage[i] {
				t.Fatalf("compacted %v: record %d: %+v against %+v", compacted, i, memSet.Coverage[i], spillSet.Coverage[i])
			}
		}
	}
	// A spill left by a run that died is removed when the store opens.
	dir := t.TempDir()
	s, _ := Open(fsx.OS{}, dir, quiet)
	sp := s.NewSpill(names)
	if err := sp.Coverage(big); err != nil { // past one row group: on disk
		t.Fatal(err)
	}
	if list, _ := os.ReadDir(filepath.Join(dir, "submissions")); len(list) != 1 {
		t.Fatalf("the spill wrote nothing to disk: %v", list)
	}
	Open(fsx.OS{}, dir, quiet)
	if list, _ := os.ReadDir(filepath.Join(dir, "submissions")); len(list) != 0 {
		t.Errorf("a spill no submission took is left after opening: %v", list)
	}
}

// crashAt is the panic a test's file system raises to stop a compaction
// at one of its steps, as a kill would.
type crashAt struct{}

// A compaction killed at any of its steps, over a store that already has
// a snapshot and submissions since, loses nothing: the store opened
// afterwards gives the records of every submission, whichever snapshot
// the pointer names.
func TestCompactionKilledAtEveryStep(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewGoAllocator()
	setup := func(dir string) {
		s, _ := Open(fsx.OS{}, dir, quiet)
		s.Accept(ctx, Entry{File: "1", SHA256: sha('1'), StoredAs: "1"}, records.Set{Ratifications: []records.Ratification{ratification("FRA", "C097", 2000, "1"), ratification("DEU", "C097", 2001, "1")}}, nil, names)
		if err := compact(t, s, names); err != nil {
			t.Fatal(err)
		}
		s.Accept(ctx, Entry{File: "2", SHA256: sha('2'), StoredAs: "2"}, records.Set{Ratifications: []records.Ratification{ratification("FRA", "C097", 2005, "2"), ratification("ITA", "C143", 2003, "2")}}, nil, names)
	}
	want := func(dir string) records.Set {
		ptr := filepath.Join(dir, snapshotPointer)
		saved, _ := os.ReadFile(ptr)
		os.Remove(ptr)
		defer os.WriteFile(ptr, saved, 0o644)
		s, _ := OpenReadOnly(dir, quiet)
		set, err := s.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	for step := int64(1); ; step++ {
		dir := t.TempDir()
		setup(dir)
		expect := want(dir)
		start := int64(-1) // armed once the store is open
		steps := &fsx.Steps{FS: fsx.OS{}, Hook: func(n int64, op, path string) error {
			if start >= 0 && n == start+step {
				panic(crashAt{})
			}
			return nil
		}}
		s, err := Open(steps, dir, quiet)
		if err != nil {
			t.Fatal(err)
		}
		s.compactAlways = true
		start = steps.Count()
		crashed := func() (crashed bool) {
			defer func() {
				if r := recover(); r != nil {
					if _, ok := r.(crashAt); !ok {
						panic(r)
					}
					crashed = true
				}
			}()
			tables, err := s.Tables(ctx, mem, names, "test-names", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tables.Release()
			if err := s.Compact(ctx, tables, "test-names"); err != nil {
				t.Fatal(err)
			}
			return false
		}()
		after, err := Open(fsx.OS{}, dir, quiet)
		if err != nil {
			t.Fatalf("step %d: open after the kill: %v", step, err)
		}
		// The old snapshot or the new one is in force, never none: a
		// killed compaction costs no later build its speed.
		if after.openSnapshot() == nil {
			t.Errorf("step %d: no usable snapshot after the kill", step)
		}
		got, err := after.Tables(ctx, mem, names, "test-names", nil)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		desc, _ := records.Describe(records.DomainRatification)
		w := desc.Batch(mem, expect, names)
		if !array.RecordEqual(got.Table(records.DomainRatification), w) {
			t.Errorf("step %d: after the kill the store gives %v, want %v", step, got.Table(records.DomainRatification), w)
		}
		w.Release()
		got.Release()
		if !crashed {
			if step < 5 {
				t.Fatalf("the compaction took only %d steps", step-1)
			}
			t.Logf("killed at each of the compaction's %d steps", step-1)
			break
		}
	}
}

// A ledger line edited by hand, its checksum recomputed, is damage named
// with its line, never a panic: a short hash, an unknown event, an
// acceptance without a number. Nothing writes such an entry either.
func TestHandEditedLedgerIsDamage(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want string
	}{
		{"short sha", `{"event":"accepted","seq":1,"time":"2026-01-01T00:00:00Z","sha256":"abc"}`, "sha256"},
		{"upper-case sha", `{"event":"intake","outcome":"accepted","time":"2026-01-01T00:00:00Z","sha256":"` + strings.Repeat("A", 64) + `"}`, "sha256"},
		{"no number", `{"event":"accepted","time":"2026-01-01T00:00:00Z","sha256":"` + sha('a') + `"}`, "submission number"},
		{"unknown event", `{"event":"acepted","seq":1,"time":"2026-01-01T00:00:00Z","sha256":"` + sha('a') + `"}`, "unknown event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			line := fmt.Sprintf("%08x %s\n", crc32.ChecksumIEEE([]byte(tc.body)), tc.body)
			if err := os.WriteFile(filepath.Join(dir, ledgerName), []byte(line), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(fsx.OS{}, dir, quiet)
			if err == nil || !strings.Contains(err.Error(), "line 1 is corrupt") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("open: %v", err)
			}
			ro, err := OpenReadOnly(dir, quiet)
			if err != nil || len(ro.Damage()) != 1 {
				t.Errorf("read-only open: %v, damage %v", err, ro.Damage())
			}
		})
	}
	s, err := Open(fsx.OS{}, t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Record(Entry{Event: EventIntake, SHA256: "abc"}); err == nil {
		t.Error("an entry with a short hash was written")
	}
}

// The snapshot is not rewritten after every new submission: a build
// applies a few small ones on top of it, and rewrites it once they are
// more than maxDeltaSubmissions (or too many rows). The tables are the
// same either way.
func TestCompactionWaitsForADelta(t *testing.T) {
	ctx := context.Background()
	s, err := Open(fsx.OS{}, t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	accept := func(i int) {
		t.Helper()
		set := records.Set{Ratifications: []records.Ratification{ratification(fmt.Sprintf("X%02d", i%90), "C097", 2000+i%20, "f")}}
		if _, err := s.Accept(ctx, Entry{File: fmt.Sprint(i), SHA256: fmt.Sprintf("%064x", i+1)}, set, nil, names); err != nil {
			t.Fatal(err)
		}
	}
	accept(0)
	if err := compact(t, s, names); err != nil {
		t.Fatal(err)
	}
	through := func() int { return s.openSnapshot().state.Through }
	for i := 1; i <= maxDeltaSubmissions; i++ {
		accept(i)
		if err := compact(t, s, names); err != nil {
			t.Fatal(err)
		}
		if through() != 1 {
			t.Fatalf("after %d small submissions the snapshot was rewritten (through %d)", i, through())
		}
	}
	accept(maxDeltaSubmissions + 1)
	if err := compact(t, s, names); err != nil {
		t.Fatal(err)
	}
	if got := through(); got != maxDeltaSubmissions+2 {
		t.Errorf("after %d submissions the snapshot reflects %d of them", maxDeltaSubmissions+1, got)
	}
}

// A submission accepted alone (a large file's spilled records, or records
// in memory), cut by a power failure at any of its steps, on a store that
// holds one already: the store opened afterwards either has it whole (its
// acceptance in the ledger, its records readable) or not at all, and the
// earlier one is intact. The file system forgets what was not fsynced
// (fsx.Strict). As in the binary's crash test, the cuts are at every step
// but the writes of a file's bytes, and at every tenth of those.
func TestAcceptedAloneSurvivesAPowerCut(t *testing.T) {
	ctx := context.Background()
	obs := func(area string, year int, v float64) records.CoverageObservation {
		return records.CoverageObservation{Area: area, Year: year, Series: "SOC_CONTIG_TOTAL", Sex: "T", Population: "total", Value: v, ValueCell: "C2", Source: records.Provenance{File: "f", Cell: "A2"}}
	}
	first := []records.CoverageObservation{obs("FRA", 2020, 50)}
	for _, spilled := range []bool{false, true} {
		t.Run(fmt.Sprint("spilled=", spilled), func(t *testing.T) {
			second := []records.CoverageObservation{obs("ITA", 2020, 51), obs("DEU", 2021, 60)}
			if spilled { // past one chunk: on disk while read
				second = second[:0]
				for i := range spillChunkRows + 10 {
					second = append(second, obs(fmt.Sprintf("A%05d", i), 2000+i%20, float64(i%100)))
				}
			}
			// accept runs the acceptance on a store with the first
			// submission, cutting the power at step cut (0: never), and
			// returns the steps' operations and the store's folder.
			accept := func(cut int64) (ops []string, dir string) {
				// The spill writes on a goroutine of its own: the cut is
				// an error from there on (Strict fails every later
				// change), not a panic.
				s, fsys, dir := storeWithOne(t, records.Set{Coverage: first}, cut)
				set := records.Set{Coverage: second}
				var err error
				var sp *Spill
				if spilled {
					sp = s.NewSpill(names)
					err = sp.Coverage(second)
					set = records.Set{}
				}
				if err == nil {
					_, err = s.Accept(ctx, Entry{File: "2", SHA256: sha('2'), StoredAs: "2"}, set, sp, names)
				}
				if sp != nil {
					sp.Discard()
				}
				if err != nil && !fsys.crashed.Load() {
					t.Fatal(err)
				}
				if cut > 0 {
					fsys.cutAtTheEnd(t)
				}
				return fsys.steps(), dir
			}
			ops, _ := accept(0)
			if len(ops) < 4 {
				t.Fatalf("the acceptance took only %d steps", len(ops))
			}
			// Every step is cut, writes included: the spill writes on a
			// goroutine of its own, so the step numbers of its writes and
			// of the acceptance's first steps differ from run to run.
			cuts := 0
			for step := int64(1); step <= int64(len(ops))+1; step++ { // and once done
				cuts++
				_, dir := accept(step)
				after, err := Open(fsx.OS{}, dir, quiet)
				if err != nil {
					t.Fatalf("cut at step %d: open: %v", step, err)
				}
				_, accepted := after.FindAccepted(sha('2'))
				cur, err := after.Current(ctx)
				if err != nil {
					t.Fatalf("cut at step %d, accepted %v: the records cannot be read: %v", step, accepted, err)
				}
				if step > int64(len(ops)) && !accepted {
					t.Errorf("cut once the acceptance returned: the submission is lost")
				}
				want := slices.Clone(first)
				if accepted {
					want = append(want, second...)
				}
				if !sameRecords(cur.Coverage, want) {
					t.Errorf("cut at step %d: accepted %v and %d records, want %d, or other records", step, accepted, len(cur.Coverage), len(want))
				}
			}
			t.Logf("cut at each of the acceptance's %d steps", cuts)
		})
	}
}

// powerCut is a file system that loses power at one step: fsx.Strict
// under fsx.Steps, cutting at the cut-th step (0: never) counted from
// arm, and failing every change after it.
type powerCut struct {
	*fsx.Steps
	strict  *fsx.Strict
	start   atomic.Int64
	crashed atomic.Bool
	mu      sync.Mutex
	ops     []string // the operations since arm
}

func newPowerCut(t *testing.T, cut int64) *powerCut {
	strict := &fsx.Strict{FS: fsx.OS{}, Aside: t.TempDir()}
	pc := &powerCut{strict: strict}
	pc.start.Store(-1)
	pc.Steps = &fsx.Steps{FS: strict, Hook: func(n int64, op, path string) error {
		start := pc.start.Load()
		if start < 0 {
			return nil
		}
		pc.mu.Lock()
		pc.ops = append(pc.ops, op)
		pc.mu.Unlock()
		if n == start+cut {
			pc.crashed.Store(true)
			if err := strict.Crash(); err != nil {
				// A change it could not undo: a file in a folder
				// renamed before the folder was synced.
				t.Errorf("cut at step %d (%s %s): %v", n-start, op, path, err)
			}
			return fsx.ErrCrashed
		}
		return nil
	}}
	return pc
}

// arm starts counting the steps.
func (pc *powerCut) arm() { pc.start.Store(pc.Count()) }

// cutAtTheEnd cuts the power once the work is done, unless it was cut
// already: what was not made durable by then is lost even so.
func (pc *powerCut) cutAtTheEnd(t *testing.T) {
	if pc.crashed.Swap(true) {
		return
	}
	if err := pc.strict.Crash(); err != nil {
		t.Errorf("cut at the end: %v", err)
	}
}

// steps returns the operations since arm.
func (pc *powerCut) steps() []string {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return slices.Clone(pc.ops)
}

// storeWithOne makes a store in a new folder holding one accepted
// submission (file "1") of first, and opens it again on a file system
// that loses power at step cut of what follows (newPowerCut, armed).
func storeWithOne(t *testing.T, first records.Set, cut int64) (*Store, *powerCut, string) {
	t.Helper()
	dir := t.TempDir()
	s, _ := Open(fsx.OS{}, dir, quiet)
	if _, err := s.Accept(context.Background(), Entry{File: "1", SHA256: sha('1'), StoredAs: "1"}, first, nil, names); err != nil {
		t.Fatal(err)
	}
	fsys := newPowerCut(t, cut)
	s, err := Open(fsys, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	fsys.arm()
	return s, fsys, dir
}

// sameRecords reports whether two lists hold the same observations, in
// any order.
func sameRecords(a, b []records.CoverageObservation) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(o records.CoverageObservation) string {
		return fmt.Sprintf("%s %d %s %v", o.Area, o.Year, o.Series, o.Value)
	}
	seen := map[string]int{}
	for _, o := range a {
		seen[key(o)]++
	}
	for _, o := range b {
		if seen[key(o)]--; seen[key(o)] < 0 {
			return false
		}
	}
	return true
}

// A compaction by a store that read some tables from the snapshot in part
// (as a build does) writes every table whole: the unchanged ones are the
// old snapshot's files, copied.
func TestCompactionAfterAPartialReadWritesWholeTables(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := Open(fsx.OS{}, dir, quiet)
	first := records.Set{
		Ratifications: []records.Ratification{ratification("FRA", "C097", 2000, "a")},
		Coverage:      []records.CoverageObservation{{Area: "FRA", Year: 2015, Series: "SOC_CONTIG_TOTAL", Sex: "T", Population: "total", Value: 40, ValueCell: "C2", Source: records.Provenance{File: "a", Cell: "A2"}}},
	}
	if _, err := s.Accept(ctx, Entry{File: "a", SHA256: sha('a'), StoredAs: "a"}, first, nil, names); err != nil {
		t.Fatal(err)
	}
	if err := compact(t, s, names); err != nil {
		t.Fatal(err)
	}
	second := records.Set{Coverage: []records.CoverageObservation{{Area: "DEU", Year: 2016, Series: "SOC_CONTIG_TOTAL", Sex: "T", Population: "total", Value: 50, ValueCell: "C3", Source: records.Provenance{File: "b", Cell: "A3"}}}}
	if _, err := s.Accept(ctx, Entry{File: "b", SHA256: sha('b'), StoredAs: "b"}, second, nil, names); err != nil {
		t.Fatal(err)
	}
	reopened, _ := Open(fsx.OS{}, dir, quiet)
	reopened.compactAlways = true
	tables, err := reopened.Tables(ctx, memory.NewGoAllocator(), names, "test-names", someColumns())
	if err != nil {
		t.Fatal(err)
	}
	if tables.File(records.DomainRatification) == "" || tables.Table(records.DomainRatification).NumCols() != 3 {
		t.Fatalf("the unchanged ratifications: file %q, %d columns; want the snapshot's file, 3 columns", tables.File(records.DomainRatification), tables.Table(records.DomainRatification).NumCols())
	}
	if tables.File(records.DomainSocialProtection) != "" {
		t.Fatal("the changed coverage table names a file")
	}
	err = reopened.Compact(ctx, tables, "test-names")
	tables.Release()
	if err != nil {
		t.Fatal(err)
	}
	var warnings bytes.Buffer
	fresh, _ := OpenReadOnly(dir, slog.New(slog.NewTextHandler(&warnings, nil)))
	got, err := fresh.Tables(ctx, memory.NewGoAllocator(), names, "test-names", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	set, err := fresh.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, desc := range records.Descriptors() {
		want := desc.Batch(memory.NewGoAllocator(), set, names)
		if got.File(desc.Domain) == "" && want.NumRows() > 0 || !array.RecordEqual(got.Table(desc.Domain), want) {
			t.Errorf("%s after the compaction: file %q, table %v, want %v (%s)", desc.Domain, got.File(desc.Domain), got.Table(desc.Domain), want, warnings.String())
		}
		want.Release()
	}
}

// TestSpillGivesWrittenBatchesBack: once a chunk is written, its batches
// are handed back empty (Spare) for the reader to fill again, and no
// batch is handed back before its records are in the file.
func TestSpillGivesWrittenBatchesBack(t *testing.T) {
	s, err := Open(fsx.OS{}, t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	sp := s.NewSpill(names)
	defer sp.Discard()
	const per = 4096
	given := map[*records.CoverageObservation]bool{}
	for i := range 2 * spillChunkRows / per {
		batch := make([]records.CoverageObservation, 0, per)
		for j := range per {
			batch = append(batch, records.CoverageObservation{Area: fmt.Sprintf("A%06d", i*per+j), Year: 2020, Series: "S", Sex: "T", Population: "total", ValueCell: "C2", Source: records.Provenance{File: "f", Cell: "A2"}})
		}
		given[&batch[0]] = true
		if err := sp.Coverage(batch); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sp.keyHashes(); err != nil { // every chunk written
		t.Fatal(err)
	}
	back := 0
	for b := sp.Spare(); b != nil; b = sp.Spare() {
		if len(b) != 0 || cap(b) != per || !given[&b[:1][0]] {
			t.Fatalf("handed back a batch of %d records, room for %d, given: %v", len(b), cap(b), given[&b[:1][0]])
		}
		back++
	}
	if back == 0 {
		t.Error("no written batch was handed back")
	}
	path, err := sp.finish()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := parquetio.ReadFile(context.Background(), path, memory.NewGoAllocator(), func(b arrow.RecordBatch) error {
		areas := b.Column(0).(*array.String)
		for i := range areas.Len() {
			if want := fmt.Sprintf("A%06d", n+i); areas.Value(i) != want {
				return fmt.Errorf("record %d: area %q, want %q", n+i, areas.Value(i), want)
			}
		}
		n += int(b.NumRows())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 2*spillChunkRows {
		t.Errorf("the spill's file holds %d records, want %d", n, 2*spillChunkRows)
	}
}

// TestDiscardedSpillLeavesNothing: a spill that wrote its folder leaves
// none once discarded, and one that kept its records in memory made none.
func TestDiscardedSpillLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(fsx.OS{}, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	spills := func() []string {
		names, _ := filepath.Glob(filepath.Join(dir, "submissions", spillPrefix+"*"))
		return names
	}
	for _, rows := range []int{10, spillChunkRows + 10} {
		sp := s.NewSpill(names)
		batch := make([]records.CoverageObservation, rows)
		for i := range batch {
			batch[i] = records.CoverageObservation{Area: fmt.Sprintf("A%06d", i), Year: 2020, Series: "S", Sex: "T", Population: "total"}
		}
		if err := sp.Coverage(batch); err != nil {
			t.Fatal(err)
		}
		if written := len(spills()) > 0; written != (rows > spillChunkRows) {
			t.Errorf("%d records: folder written %v", rows, written)
		}
		sp.Discard()
		if left := spills(); len(left) > 0 {
			t.Errorf("%d records: a discarded spill left %v", rows, left)
		}
	}
}
