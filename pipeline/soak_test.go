package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/store"
)

// TestSoak drops files over repeated runs, with random exact duplicates,
// corrections and broken files, then recounts the archive independently
// of the store and compares. go test runs a short form of 300 files (CI
// does); PLEDGESTAT_SOAK=1 (scripts/soak.sh) runs 5,000, or
// PLEDGESTAT_SOAK_FILES.
func TestSoak(t *testing.T) {
	total := 300
	if os.Getenv("PLEDGESTAT_SOAK") != "" {
		total = 5000
	} else if testing.Short() {
		t.Skip("the soak test is not short")
	}
	if v, err := strconv.Atoi(os.Getenv("PLEDGESTAT_SOAK_FILES")); err == nil {
		total = v
	}
	ws, p := faultWorkspace(t)
	rng := rand.New(rand.NewSource(1))
	countries := []string{"FRA", "DEU", "ITA", "ESP", "PRT", "BEL", "NLD", "POL", "KEN", "PHL", "MAR", "BRA", "ARG", "IND", "IDN", "JPN", "CAN", "USA", "MEX", "XKX"}
	var history [][]byte // contents dropped so far, for duplicates
	dropped := map[string][32]byte{}
	const perRun = 100
	start := time.Now()
	runs, n := 0, 0
	for n < total {
		for i := 0; i < perRun && n < total; i++ {
			var content []byte
			switch r := rng.Float64(); {
			case r < 0.10 && len(history) > 0: // the same bytes again
				content = history[rng.Intn(len(history))]
			case r < 0.15: // broken: a value out of range
				content = []byte(fmt.Sprintf("country,year,value\n%s,2020,%d\n", countries[rng.Intn(len(countries))], 101+rng.Intn(50)))
			default: // new data or a correction of earlier keys
				var b strings.Builder
				b.WriteString("country,year,value\n")
				rows := 1 + rng.Intn(4)
				seen := map[string]bool{}
				for j := 0; j < rows; j++ {
					c, y := countries[rng.Intn(len(countries))], 2015+rng.Intn(10)
					k := fmt.Sprintf("%s,%d", c, y)
					if seen[k] {
						continue
					}
					seen[k] = true
					fmt.Fprintf(&b, "%s,%.1f\n", k, float64(rng.Intn(1000))/10)
				}
				content = []byte(b.String())
				history = append(history, content)
			}
			name := fmt.Sprintf("drop-%05d.csv", n)
			drop(t, ws, name, string(content))
			dropped[name] = sha256.Sum256(content)
			n++
		}
		cmd := CommandIngest
		if runs%10 == 9 || n >= total {
			cmd = CommandRun
		}
		if _, err := p.Execute(context.Background(), cmd, Options{}); err != nil {
			t.Fatalf("run %d: %v", runs, err)
		}
		runs++
	}
	elapsed := time.Since(start)

	// Every dropped file is archived or rejected, exactly once.
	found := map[string]int{}
	for _, dir := range []string{ws.Archive(), ws.Rejected()} {
		list, _ := os.ReadDir(dir)
		for _, d := range list {
			if strings.HasSuffix(d.Name(), ".errors.csv") || strings.HasSuffix(d.Name(), ".report.csv") || strings.HasSuffix(d.Name(), ".annotated.xlsx") {
				continue
			}
			i := strings.Index(d.Name(), "drop-")
			found[d.Name()[i:]]++
		}
	}
	for name := range dropped {
		if found[name] != 1 {
			t.Errorf("%s found %d times in archive/ and rejected/", name, found[name])
		}
	}
	// Independent recount: replay the archive in ingest order (run, then
	// name), skipping bytes seen before; the last value of a key wins.
	list, _ := os.ReadDir(ws.Archive())
	var names []string
	for _, d := range list {
		if !strings.HasSuffix(d.Name(), ".report.csv") && !strings.HasSuffix(d.Name(), ".annotated.xlsx") {
			names = append(names, d.Name())
		}
	}
	// Archived names start with the run id: runs in one second are
	// …Z, …Z-2, …Z-3, which order as times, not as strings.
	sort.Slice(names, func(i, j int) bool {
		ri, rj := archiveRun(names[i]), archiveRun(names[j])
		if c := publish.CompareRunIDs(ri, rj); c != 0 {
			return c < 0
		}
		return names[i] < names[j]
	})
	want := map[string]float64{}
	seenBytes := map[[32]byte]bool{}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(ws.Archive(), name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if seenBytes[sum] {
			continue
		}
		seenBytes[sum] = true
		recs, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs[1:] {
			v, _ := strconv.ParseFloat(r[2], 64)
			want[r[0]+"|"+r[1]+"|SOC_CONTIG_TOTAL|T|total"] = v
		}
	}
	st, err := store.Open(ws.FS, ws.StoreDir(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	cur, err := st.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cur.Coverage) != len(want) {
		t.Errorf("store has %d observations, the archive recount %d", len(cur.Coverage), len(want))
	}
	for _, o := range cur.Coverage {
		if want[o.Key()] != o.Value {
			t.Errorf("%s: store %v, archive recount %v", o.Key(), o.Value, want[o.Key()])
		}
	}
	accepted, duplicates, rejected := 0, 0, 0
	for _, e := range st.Entries() {
		switch e.Event {
		case store.EventAccepted:
			accepted++
		case store.EventDuplicate:
			duplicates++
		case store.EventRejected:
			rejected++
		}
	}
	t.Logf("soak: %d files in %d runs in %v: %d accepted, %d duplicates, %d rejected; %d current observations match the archive recount",
		total, runs, elapsed.Round(time.Second), accepted, duplicates, rejected, len(want))
}

// archiveRun is the run id an archived name starts with.
func archiveRun(name string) string {
	const timeLen = len("20060102T150405Z")
	if len(name) <= timeLen {
		return name
	}
	rest := name[timeLen:]
	if n := strings.IndexByte(rest[1:], '-'); n > 0 && strings.Trim(rest[1:1+n], "0123456789") == "" {
		return name[:timeLen+1+n]
	}
	return name[:timeLen]
}
