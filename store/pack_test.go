package store

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/records"
)

func coverage(area string, year int, value float64, file, cell string) records.CoverageObservation {
	return records.CoverageObservation{Area: area, Year: year, Series: "SOC_CONTIG_TOTAL", Sex: "T", Population: "total", Value: value,
		ValueCell: cell, Source: records.Provenance{File: file, Cell: "A" + cell[1:], SHA256: "x"}}
}

// packGroup accepts a.csv alone, then b, c and d.csv as one group: b
// supersedes a's FRA and adds DEU, c brings ratifications only, d
// supersedes b's DEU (in the same group) and adds ITA. It returns the
// group's pending submissions, written and committed as commit says
// (how many of them the ledger records; -1: WriteAll only).
func packGroup(t *testing.T, dir string, commit int) []*Pending {
	t.Helper()
	ctx := context.Background()
	s := mustOpen(t, dir)
	a := records.Set{Coverage: []records.CoverageObservation{coverage("FRA", 2020, 70, "a.csv", "C2")}}
	if _, err := s.Accept(ctx, Entry{File: "a.csv", SHA256: sha('a')}, a, nil, names); err != nil {
		t.Fatal(err)
	}
	group := []struct {
		name string
		set  records.Set
	}{
		{"b.csv", records.Set{Coverage: []records.CoverageObservation{coverage("FRA", 2020, 71, "b.csv", "C2"), coverage("DEU", 2020, 60, "b.csv", "C3")}}},
		{"c.csv", records.Set{Ratifications: []records.Ratification{ratification("FRA", "C097", 1954, "c.csv"), ratification("KEN", "C143", 1979, "c.csv")}}},
		{"d.csv", records.Set{Coverage: []records.CoverageObservation{coverage("DEU", 2020, 61, "d.csv", "C2"), coverage("ITA", 2021, 50, "d.csv", "C3")}}},
	}
	var pending []*Pending
	for _, g := range group {
		p, err := s.Prepare(ctx, Entry{File: g.name, SHA256: sha(g.name[0])}, g.set, names)
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, p)
	}
	if err := s.WriteAll(ctx, pending); err != nil {
		t.Fatal(err)
	}
	if commit >= 0 {
		if err := s.Commit(pending[:commit]); err != nil {
			t.Fatal(err)
		}
	}
	return pending
}

// folders lists the store's submission folders and packs, as
// submissions/NAME and packs/NAME.
func folders(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"submissions", packsDir} {
		list, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range list {
			out = append(out, sub+"/"+e.Name())
		}
	}
	return out
}

func coverageCells(set records.Set) []string {
	var out []string
	for _, c := range set.Coverage {
		out = append(out, c.Area+" "+c.Source.File+"!"+c.ValueCell)
	}
	slices.Sort(out)
	return out
}

// A group filed together is one pack that each of its ledger lines names,
// and a store opened afresh reads from it what each member brought: the
// current records, the history, and what a withdrawal brings back.
func TestAGroupIsStoredAsOnePack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	packGroup(t, dir, 3)
	const pack = "000002-000004-bbbbbbbbbbbb"
	// Not under submissions/, which a pledgestat from before packs would
	// empty of what it cannot tie to a ledger line.
	if got, want := folders(t, dir), []string{"submissions/000001-aaaaaaaaaaaa", "packs/" + pack}; !reflect.DeepEqual(got, want) {
		t.Fatalf("the store holds %v, want %v", got, want)
	}
	s := mustOpen(t, dir)
	for _, e := range s.Accepted() {
		if want := map[bool]string{true: pack, false: ""}[e.Seq > 1]; e.Pack != want {
			t.Errorf("submission %d names pack %q, want %q", e.Seq, e.Pack, want)
		}
	}
	cur, err := s.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := coverageCells(cur), []string{"DEU d.csv!C2", "FRA b.csv!C2", "ITA d.csv!C3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("current coverage %v, want %v", got, want)
	}
	if len(cur.Ratifications) != 2 || cur.Ratifications[1].Country != "KEN" {
		t.Errorf("current ratifications %+v, want c.csv's two", cur.Ratifications)
	}
	revs, err := s.History(ctx, Filter{Area: "DEU"})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int
	for _, r := range revs {
		seqs = append(seqs, r.Seq)
	}
	if !reflect.DeepEqual(seqs, []int{2, 4}) {
		t.Errorf("history of DEU: submissions %v, want [2 4] (b and d of the pack)", seqs)
	}
	if err := s.Record(Entry{Event: EventWithdrawn, Seq: 2}); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	cur, err = ro.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := coverageCells(cur), []string{"DEU d.csv!C2", "FRA a.csv!C2", "ITA d.csv!C3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after withdrawing b.csv: current coverage %v, want %v", got, want)
	}
}

// A pass over the store (the current records, a history) decodes a pack
// once for all its members: once each was 64 decodes of a file of 64
// submissions' records, to use a 64th of each.
func TestAPackIsReadOnceForAllItsMembers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	packGroup(t, dir, 3)
	ro, err := OpenReadOnly(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Current(ctx); err != nil {
		t.Fatal(err)
	}
	if n := ro.packsRead.Load(); n != 1 {
		t.Errorf("reading the current records decoded the pack %d times, want 1", n)
	}
	if _, err := ro.History(ctx, Filter{}); err != nil {
		t.Fatal(err)
	}
	if n := ro.packsRead.Load(); n != 2 {
		t.Errorf("a history decoded the pack %d times, want 1", n-1)
	}
	// A member's records are handed over once: the reader lets them go.
	// One asked for again is read again, the same.
	r := ro.newSubmissionReader(nil)
	accepted := ro.Accepted()
	first, err := r.read(ctx, accepted[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range accepted[2:] {
		if _, err := r.read(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if held := len(r.packs[0].got.sets); held != 0 {
		t.Errorf("the reader still holds the records of %d members it handed over", held)
	}
	again, err := r.read(ctx, accepted[1])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, first) || len(first.Coverage) != 2 {
		t.Errorf("submission 2 read again: %v, first %v", again.Coverage, first.Coverage)
	}
	if n := ro.packsRead.Load(); n != 4 {
		t.Errorf("the pass and the member read again decoded the pack %d times, want 2", n-2)
	}
}

// A run that died after its pack was in place and before the ledger named
// it leaves a folder that the next open removes; one whose ledger append
// was cut short names the first members only, whose records are read and
// the others' not.
func TestAPackIsKeptForWhatTheLedgerNames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	packGroup(t, dir, -1)
	if len(folders(t, dir)) != 2 {
		t.Fatalf("the pack was not written: %v", folders(t, dir))
	}
	s := mustOpen(t, dir)
	if got := folders(t, dir); !reflect.DeepEqual(got, []string{"submissions/000001-aaaaaaaaaaaa"}) {
		t.Errorf("a pack no ledger line names is left after opening: %v", got)
	}
	cur, err := s.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := coverageCells(cur); !reflect.DeepEqual(got, []string{"FRA a.csv!C2"}) {
		t.Errorf("current coverage %v, want a.csv's alone", got)
	}

	dir = t.TempDir()
	packGroup(t, dir, 2)
	s, err = Open(fsx.OS{}, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if got := folders(t, dir); len(got) != 2 {
		t.Errorf("the pack two ledger lines name was removed: %v", got)
	}
	cur, err = s.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := coverageCells(cur), []string{"DEU b.csv!C3", "FRA b.csv!C2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("current coverage %v, want b.csv's (d.csv was never recorded)", got)
	}
	// The next group numbers on from the last recorded submission: its
	// pack does not meet the first one's folder.
	fileGroup(t, s, records.Set{Coverage: []records.CoverageObservation{coverage("ESP", 2019, 40, "e.csv", "C2")}},
		records.Set{Coverage: []records.CoverageObservation{coverage("PRT", 2019, 41, "f.csv", "C2")}})
	ro, err := OpenReadOnly(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if cur, err = ro.Current(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := coverageCells(cur), []string{"DEU b.csv!C3", "ESP e.csv!C2", "FRA b.csv!C2", "PRT f.csv!C2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after the next group: current coverage %v, want %v", got, want)
	}
}

// A pack that lost a file, or whose members disagree with the ledger, is
// an error naming the submission: never records silently missing.
func TestADamagedPackIsAnError(t *testing.T) {
	ctx := context.Background()
	for _, damage := range []struct {
		name string
		do   func(pack string)
	}{
		{"a file removed", func(pack string) { os.Remove(filepath.Join(pack, "social_protection.parquet")) }},
		{"rows no member holds", func(pack string) {
			// The coverage file with its members as they were and one
			// row more.
			relabel(t, filepath.Join(pack, "social_protection.parquet"), "2:2:bbbbbbbbbbbb,3:0:cccccccccccc,4:2:dddddddddddd",
				coverage("ESP", 2019, 1, "x.csv", "C9"))
		}},
		{"its members swapped, their counts alike", func(pack string) {
			// b's and d's rows relabelled in every file: each is listed
			// with the other's bytes.
			relabel(t, filepath.Join(pack, "social_protection.parquet"), "4:2:bbbbbbbbbbbb,3:0:cccccccccccc,2:2:dddddddddddd")
			relabel(t, filepath.Join(pack, "ratification.parquet"), "4:0:bbbbbbbbbbbb,3:2:cccccccccccc,2:0:dddddddddddd")
		}},
		{"its members swapped in one file", func(pack string) {
			relabel(t, filepath.Join(pack, "social_protection.parquet"), "4:2:bbbbbbbbbbbb,3:0:cccccccccccc,2:2:dddddddddddd")
		}},
		{"the pack removed", func(pack string) { os.RemoveAll(pack) }},
		{"its members changed", func(pack string) {
			// The ratifications' file put in place of the coverage's: its
			// members (c.csv alone) are not the ledger's.
			os.Rename(filepath.Join(pack, "ratification.parquet"), filepath.Join(pack, "social_protection.parquet"))
		}},
	} {
		dir := t.TempDir()
		packGroup(t, dir, 3)
		damage.do(filepath.Join(dir, packsDir, "000002-000004-bbbbbbbbbbbb"))
		ro, err := OpenReadOnly(dir, quiet)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ro.Current(ctx)
		if err == nil || !strings.Contains(err.Error(), "submission 2 (b.csv)") {
			t.Errorf("%s: reading the store: %v, want an error naming submission 2 (b.csv)", damage.name, err)
		}
		if want := map[string]string{"the pack removed": "is missing", "its members swapped, their counts alike": "other bytes", "its members swapped in one file": "is listed with bytes"}[damage.name]; err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("%s: reading the store: %v, want it to say %q", damage.name, err, want)
		}
	}
}

func TestValidPack(t *testing.T) {
	for _, c := range []struct {
		name string
		seq  int
		want bool
	}{
		{"000002-000004-bbbbbbbbbbbb", 2, true},
		{"999999-1000001-bbbbbbbbbbbb", 1000000, true},
		{"1000000-1000001-bbbbbbbbbbbb", 1000001, true},
		{"0999999-1000001-bbbbbbbbbbbb", 1000000, false},
		{"000004-000002-bbbbbbbbbbbb", 3, false},
		{"000002-000004-bbbbbbbbbbbb", 4, true},
		{"000002-000004-bbbbbbbbbbbb", 1, false},
		{"000002-000004-bbbbbbbbbbbb", 5, false},
		{"000002-000004-BBBBBBBBBBBB", 3, false},
		{"000002-000004-bbbbbbbbbbb", 3, false},
		{"+00002-000004-bbbbbbbbbbbb", 3, false},
		{"-00002-000004-bbbbbbbbbbbb", 3, false},
		{"00002-000004-bbbbbbbbbbbb", 3, false},
		{"00000a-000004-bbbbbbbbbbbb", 3, false},
		{"000002-0000004-bbbbbbbbbbbb", 3, false},
		{"000002-000004-bbbbbbbbbbbb-x", 3, false},
		{"../../../etc", 3, false},
		{"000002-000004-bbbbbbb/../b", 3, false},
		{"", 3, false},
	} {
		if got := validPack(c.name, c.seq); got != c.want {
			t.Errorf("validPack(%q, %d) = %v, want %v", c.name, c.seq, got, c.want)
		}
	}
	// The ledger refuses a line that names anything else.
	s, err := Open(fsx.OS{}, t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	err = s.RecordAll([]Entry{{Event: EventAccepted, Seq: 1, File: "a.csv", SHA256: sha('a'), Pack: "../../../etc"}})
	if err == nil || !strings.Contains(err.Error(), "pack") {
		t.Errorf("a line naming pack ../../../etc was recorded: %v", err)
	}
}

func TestParseMembers(t *testing.T) {
	got, err := parseMembers("2:2:bbbbbbbbbbbb,3:0:cccccccccccc,4:2:dddddddddddd")
	want := map[int]member{2: {0, 2, "bbbbbbbbbbbb"}, 3: {2, 0, "cccccccccccc"}, 4: {2, 2, "dddddddddddd"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseMembers = %v, %v, want %v", got, err, want)
	}
	const b = ":bbbbbbbbbbbb"
	for _, bad := range []string{"", "2", "2:", ":2", "2:2", "2:-1" + b, "0:2" + b, "-1:2" + b, "2:2" + b + ",2:3" + b, "2:2" + b + ";3:3" + b, "2:x" + b,
		"2:2:bbbbbbbbbbb", "2:2:BBBBBBBBBBBB", "2:2:bbbbbbbbbbbb:x"} {
		if _, err := parseMembers(bad); err == nil {
			t.Errorf("parseMembers(%q) accepted", bad)
		}
	}
}

// prepareAll prepares sets as files named after their first record's
// file, in order.
func prepareAll(t *testing.T, s *Store, sets ...records.Set) []*Pending {
	t.Helper()
	var pending []*Pending
	for _, set := range sets {
		file := set.Coverage[0].Source.File
		p, err := s.Prepare(context.Background(), Entry{File: file, SHA256: sha(file[0])}, set, names)
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, p)
	}
	return pending
}

// fileGroup prepares, writes and commits sets as one group (prepareAll).
func fileGroup(t *testing.T, s *Store, sets ...records.Set) []Entry {
	t.Helper()
	ctx := context.Background()
	pending := prepareAll(t, s, sets...)
	if err := s.WriteAll(ctx, pending); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(pending); err != nil {
		t.Fatal(err)
	}
	var out []Entry
	for _, p := range pending {
		out = append(out, p.Entry())
	}
	return out
}

// twoDomains is a file with a coverage observation and a ratification.
func twoDomains(file, country string) records.Set {
	return records.Set{Coverage: []records.CoverageObservation{coverage(country, 2020, 50, file, "C2")},
		Ratifications: []records.Ratification{ratification(country, "C097", 1990, file)}}
}

// A pass over many packs keeps at most packsKept of them, and a history
// of one domain reads the members that also brought another.
func TestReadingManyPacks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, dir)
	var entries []Entry
	for g, countries := range [][]string{{"FRA", "DEU"}, {"ITA", "ESP"}, {"PRT", "POL"}} {
		var sets []records.Set
		for i, c := range countries {
			sets = append(sets, twoDomains(string(rune('a'+2*g+i))+".csv", c))
		}
		entries = append(entries, fileGroup(t, s, sets...)...)
	}
	if got := folders(t, dir); len(got) != 3 {
		t.Fatalf("the store holds %v, want 3 packs", got)
	}
	ro, err := OpenReadOnly(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	r := ro.newSubmissionReader(nil)
	for _, e := range entries {
		set, err := r.read(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if len(set.Coverage) != 1 || set.Coverage[0].Source.File != e.File {
			t.Errorf("submission %d (%s): %+v", e.Seq, e.File, set.Coverage)
		}
		if len(r.packs) > packsKept {
			t.Errorf("after submission %d the reader holds %d packs, at most %d", e.Seq, len(r.packs), packsKept)
		}
	}
	revs, err := ro.History(ctx, Filter{Domains: map[records.Domain]bool{records.DomainRatification: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != len(entries) {
		t.Errorf("a history of the ratifications: %d revisions, want %d", len(revs), len(entries))
	}
}

// Submission numbers past 999,999 take a seventh digit, in the packs'
// names too.
func TestAGroupPastSubmission999999(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, dir)
	s.lastSeq = 999_999
	got := fileGroup(t, s, twoDomains("a.csv", "FRA"), twoDomains("b.csv", "DEU"))
	if got[1].Seq != 1_000_001 || got[1].Pack != "1000000-1000001-aaaaaaaaaaaa" {
		t.Fatalf("the group: %+v", got)
	}
	ro, err := OpenReadOnly(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := ro.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cur.Coverage) != 2 || len(cur.Ratifications) != 2 {
		t.Errorf("current records %+v", cur)
	}
}

// A group filed as a pack, cut by a power failure at any of its steps, on
// a store that holds a submission of its own and no pack yet: the store
// opened afterwards has the whole group (its lines in the ledger, its
// records readable) or none of it, and the earlier submission intact. The
// file system forgets what was not fsynced (fsx.Strict).
func TestAGroupSurvivesAPowerCut(t *testing.T) {
	ctx := context.Background()
	first := coverage("FRA", 2020, 50, "a.csv", "C2")
	group := []records.Set{twoDomains("b.csv", "DEU"), twoDomains("c.csv", "ITA"), twoDomains("d.csv", "ESP")}
	// file files the group on a store with the first submission, cutting
	// the power at step cut (0: never), and returns the steps and the
	// store's folder.
	file := func(cut int64) (steps int64, dir string) {
		s, fsys, dir := storeWithOne(t, records.Set{Coverage: []records.CoverageObservation{first}}, cut)
		pending := prepareAll(t, s, group...)
		err := s.WriteAll(ctx, pending)
		if err == nil {
			err = s.Commit(pending)
		}
		if err != nil && !fsys.crashed.Load() {
			t.Fatal(err)
		}
		if cut > 0 {
			fsys.cutAtTheEnd(t)
		}
		return int64(len(fsys.steps())), dir
	}
	steps, _ := file(0)
	if steps < 6 {
		t.Fatalf("filing the group took only %d steps", steps)
	}
	for cut := int64(1); cut <= steps+1; cut++ { // and once done
		_, dir := file(cut)
		after, err := Open(fsx.OS{}, dir, quiet)
		if err != nil {
			t.Fatalf("cut at step %d: open: %v", cut, err)
		}
		accepted := len(after.Accepted()) - 1
		cur, err := after.Current(ctx)
		if err != nil {
			t.Fatalf("cut at step %d, %d of the group accepted: the records cannot be read: %v", cut, accepted, err)
		}
		if cut > steps && accepted != len(group) {
			t.Errorf("cut once the group was committed: %d of its %d files accepted", accepted, len(group))
		}
		want := []records.CoverageObservation{first}
		if accepted == len(group) {
			for _, set := range group {
				want = append(want, set.Coverage...)
			}
		} else if accepted != 0 {
			t.Errorf("cut at step %d: %d of the group's %d files accepted", cut, accepted, len(group))
		}
		if !sameRecords(cur.Coverage, want) {
			t.Errorf("cut at step %d: %d accepted and %d records, want %d, or other records", cut, accepted, len(cur.Coverage), len(want))
		}
	}
	t.Logf("cut at each of the group's %d steps", steps)
}

// relabel rewrites a pack file with the member list members and its
// records, more appended.
func relabel(t *testing.T, path, members string, more ...records.CoverageObservation) {
	t.Helper()
	desc := records.Descriptors()[0]
	if strings.HasSuffix(path, "social_protection.parquet") {
		desc = records.Descriptors()[1]
	}
	var set records.Set
	if err := parquetio.ReadFile(context.Background(), path, memory.DefaultAllocator, func(b arrow.RecordBatch) error { return desc.Append(&set, b) }); err != nil {
		t.Fatal(err)
	}
	set.Coverage = append(set.Coverage, more...)
	md := arrow.NewMetadata([]string{membersKey}, []string{members})
	err := fsx.WriteFile(fsx.OS{}, path, 0o644, func(w io.Writer) error {
		b := desc.Batch(memory.DefaultAllocator, set, names)
		defer b.Release()
		return parquetio.Write(w, array.NewRecordBatch(arrow.NewSchema(b.Schema().Fields(), &md), b.Columns(), b.NumRows()))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A build that stops while its compaction writes the snapshot stops the
// compaction at the next table: it does not write the rest, and the
// snapshot in force stays as it was (none here).
func TestCompactionStops(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	fileGroup(t, s, twoDomains("a.csv", "FRA"), twoDomains("b.csv", "DEU"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var written []string
	steps := &fsx.Steps{FS: fsx.OS{}, Hook: func(_ int64, op, path string) error {
		if strings.HasSuffix(path, ".parquet") && strings.Contains(path, snapshotPrefix) {
			written = append(written, filepath.Base(path))
			cancel() // the build stops while the first table is written
		}
		return nil
	}}
	s, err := Open(steps, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := s.Tables(context.Background(), s.mem, names, "names", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tables.Release()
	if err := s.Compact(ctx, tables, "names"); err != context.Canceled {
		t.Errorf("a compaction whose build stopped returned %v", err)
	}
	tablesWritten := map[string]bool{}
	for _, w := range written {
		name := strings.TrimSuffix(w, ".parquet") // or .tmp-RANDOM-DOMAIN.parquet
		tablesWritten[name[strings.LastIndex(name, "-")+1:]] = true
	}
	if len(tablesWritten) != 1 {
		t.Errorf("after the build stopped the compaction went on to write %v", written)
	}
	if _, err := os.Stat(filepath.Join(dir, "snapshot.json")); !os.IsNotExist(err) {
		t.Errorf("a stopped compaction left a snapshot in force: %v", err)
	}
}

// mustOpen opens the store in dir for reading and writing.
func mustOpen(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(fsx.OS{}, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
