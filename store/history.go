package store

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ilo-pledge/pledgestat/records"
)

// Revision is one submission's version of a record.
type Revision struct {
	Domain    records.Domain    `json:"domain"`
	Key       string            `json:"key"`
	Seq       int               `json:"submission"`
	File      string            `json:"file"`
	Cell      string            `json:"cell"`
	RunID     string            `json:"run_id"`
	Time      string            `json:"time"`
	Withdrawn bool              `json:"withdrawn"`
	Current   bool              `json:"current"` // the version builds use
	Values    map[string]string `json:"values"`
}

// Filter selects records for History.
type Filter struct {
	Area string // ISO3 or ILOSTAT code: the record's country, area or a party
	Key  string // exact record key
	// Keys, when set, are the record keys wanted; Submissions, when set,
	// the submissions read (explain reads those its run used).
	Keys        map[string]bool
	Submissions map[int]bool
	// Domains, when set, are the domains read: a submission without
	// records of them is skipped, and of the others only their files.
	Domains map[records.Domain]bool
}

func (f Filter) match(key string, areas ...string) bool {
	if f.Key != "" && f.Key != key {
		return false
	}
	if f.Keys != nil && !f.Keys[key] {
		return false
	}
	if f.Area == "" {
		return true
	}
	for _, a := range areas {
		if a == f.Area {
			return true
		}
	}
	return false
}

// History returns every version of the matching records across
// submissions, oldest first per record, records in key order.
func (s *Store) History(ctx context.Context, f Filter) ([]Revision, error) {
	withdrawn := s.withdrawn()
	var out []Revision
	latest := map[string]int{} // key -> index in out of the current version
	var wanted []Entry
	for _, e := range s.entries {
		if e.Event != EventAccepted || (f.Submissions != nil && !f.Submissions[e.Seq]) || !holdsAny(e, f.Domains) {
			continue
		}
		wanted = append(wanted, e)
	}
	reader := s.newSubmissionReader(f.Domains)
	read := func(e Entry) (records.Set, error) { return reader.read(ctx, e) }
	descs := s.domains
	err := eachRead(ctx, wanted, read, func(e Entry, set records.Set) {
		add := func(d records.Domain, key string, cell string, values map[string]string) {
			rev := Revision{Domain: d, Key: key, Seq: e.Seq, File: e.File, Cell: cell, RunID: e.RunID,
				Time: e.Time.UTC().Format("2006-01-02T15:04:05Z"), Withdrawn: withdrawn[e.Seq], Values: values}
			out = append(out, rev)
			if !rev.Withdrawn {
				latest[string(d)+"|"+key] = len(out) - 1
			}
		}
		for _, desc := range descs {
			for i, n := 0, desc.Count(set); i < n; i++ {
				key := desc.Key(set, i)
				if f.match(key, desc.Areas(set, i)...) {
					rev := desc.Revision(set, i)
					add(desc.Domain, key, rev.Cell, rev.Values)
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	for _, i := range latest {
		out[i].Current = true
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Domain != out[j].Domain {
			return out[i].Domain < out[j].Domain
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// FindSubmission resolves what a user typed to name a submission: its
// number, a prefix of its SHA-256 (8 characters or more) or its file name.
func (s *Store) FindSubmission(ref string) (Entry, error) {
	var matches []Entry
	n, numErr := strconv.Atoi(strings.TrimPrefix(ref, "#"))
	for _, e := range s.entries {
		if e.Event != EventAccepted {
			continue
		}
		switch {
		case numErr == nil && e.Seq == n,
			len(ref) >= 8 && strings.HasPrefix(e.SHA256, strings.ToLower(ref)),
			e.File == ref:
			matches = append(matches, e)
		}
	}
	switch len(matches) {
	case 0:
		return Entry{}, fmt.Errorf("no accepted submission %q (give its number, 8+ characters of its SHA-256, or its file name; see pledgestat history or status)", ref)
	case 1:
		return matches[0], nil
	}
	var seqs []string
	for _, m := range matches {
		seqs = append(seqs, strconv.Itoa(m.Seq))
	}
	return Entry{}, fmt.Errorf("%q names several submissions (%s); give its number", ref, strings.Join(seqs, ", "))
}

// IsWithdrawn reports whether a submission was withdrawn.
func (s *Store) IsWithdrawn(seq int) bool { return s.withdrawn()[seq] }

// holdsAny reports whether a submission has records of any of the
// domains (nil: of any domain).
func holdsAny(e Entry, domains map[records.Domain]bool) bool {
	if domains == nil {
		return true
	}
	for d := range domains {
		if e.Rows[string(d)] > 0 {
			return true
		}
	}
	return false
}

// readWindow is how many submissions a history reads at once, on every
// core: it reads thousands of small ones, and holds no more than these.
const readWindow = 64

// eachRead reads the entries' records, a window at a time on every core,
// and calls fn with them in the entries' order.
func eachRead(ctx context.Context, entries []Entry, read func(Entry) (records.Set, error), fn func(Entry, records.Set)) error {
	sets := make([]records.Set, readWindow)
	errs := make([]error, readWindow)
	for from := 0; from < len(entries); from += readWindow {
		if err := ctx.Err(); err != nil {
			return err
		}
		window := entries[from:min(from+readWindow, len(entries))]
		next := make(chan int, len(window))
		for i := range window {
			next <- i
		}
		close(next)
		var wg sync.WaitGroup
		for range min(runtime.GOMAXPROCS(0), len(window)) {
			wg.Go(func() {
				for i := range next {
					sets[i], errs[i] = read(window[i])
				}
			})
		}
		wg.Wait()
		for i, e := range window {
			if errs[i] != nil {
				return errs[i]
			}
			fn(e, sets[i])
			sets[i] = records.Set{}
		}
	}
	return nil
}
