package store

import (
	"context"

	"github.com/ilo-pledge/pledgestat/records"
)

// current is the merged state: the current records, each domain's in the
// order their keys first appeared (a record whose key is current replaces
// it in place), kept through the domains' descriptors so that the store
// holds no code of its own per domain.
type current struct {
	recs    records.Set
	domains []*keyedDomain // in the descriptors' order
}

// keyedDomain indexes one domain's records of a current by key.
type keyedDomain struct {
	desc  records.Descriptor
	order []string       // keys in the order they first appeared
	byKey map[string]int // key -> index of its record (and in order)
}

func newCurrent(descs []records.Descriptor) *current {
	c := &current{}
	for _, desc := range descs {
		c.domains = append(c.domains, &keyedDomain{desc: desc, byKey: map[string]int{}})
	}
	return c
}

// keys returns the keys of domain d's current records, in order.
func (c *current) keys(d records.Domain) []string {
	for _, k := range c.domains {
		if k.desc.Domain == d {
			return k.order
		}
	}
	return nil
}

// apply puts a submission's records: each replaces the current record of
// its key, or is appended.
func (c *current) apply(seq int, set records.Set) {
	for _, k := range c.domains {
		n := k.desc.Count(set)
		for j := 0; j < n; j++ {
			key := k.desc.Key(set, j)
			if i, ok := k.byKey[key]; ok {
				k.desc.Put(&c.recs, i, set, j)
				continue
			}
			k.byKey[key] = len(k.order)
			k.order = append(k.order, key)
			k.desc.AppendOne(&c.recs, set, j)
		}
	}
}

// applyChecked is apply for the large loads of a build: it checks ctx
// every few thousand records.
func (c *current) applyChecked(ctx context.Context, seq int, set records.Set) error {
	const step = 16 << 10
	for _, k := range c.domains {
		desc := k.desc
		n := desc.Count(set)
		for from := 0; from < n; from += step {
			if err := ctx.Err(); err != nil {
				return err
			}
			c.apply(seq, desc.Slice(set, from, min(n, from+step)))
		}
	}
	return nil
}

// supersededBy counts, per domain, the records of set whose key is
// current.
func (c *current) supersededBy(set records.Set) map[string]int {
	out := map[string]int{}
	for _, k := range c.domains {
		n := k.desc.Count(set)
		for j := 0; j < n; j++ {
			if _, ok := k.byKey[k.desc.Key(set, j)]; ok {
				out[string(k.desc.Domain)]++
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// index returns the key index of the records.
func (c *current) index() *keyIndex {
	idx := newKeyIndex(c.descs())
	idx.add(c.recs)
	return idx
}

// descs returns the descriptors of the current's domains.
func (c *current) descs() []records.Descriptor {
	out := make([]records.Descriptor, len(c.domains))
	for i, k := range c.domains {
		out[i] = k.desc
	}
	return out
}

// set returns a copy of the current records (apply replaces them in
// place).
func (c *current) set() records.Set {
	var out records.Set
	for _, k := range c.domains {
		k.desc.Clone(&out, c.recs)
	}
	return out
}
