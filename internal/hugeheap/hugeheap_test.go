package hugeheap

import (
	"errors"
	"io/fs"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// fakeSystem is a system where huge pages are left to programs, unless a
// test changes its files or environment.
func fakeSystem() (system, map[string]string, map[string]string) {
	files := map[string]string{
		modeFile:       "always [madvise] never\n",
		pmdModeFile:    "always inherit [madvise] never\n",
		overcommitFile: "0\n",
		statusFile:     "Name:\tpledgestat\nTHP_enabled:\t1\nThreads:\t4\n",
	}
	env := map[string]string{}
	s := system{
		readFile: func(name string) ([]byte, error) {
			b, ok := files[name]
			if !ok {
				return nil, fs.ErrNotExist
			}
			return []byte(b), nil
		},
		getenv:         func(k string) string { return env[k] },
		addressLimit:   func() (bool, error) { return false, nil },
		maps:           func() (string, error) { return "0-ffffffffffffffff rw-p 00000000 00:00 0\n", nil },
		madvise:        func(lo, n uint64) error { return nil },
		smallFaultCost: func() (time.Duration, error) { return 3 * time.Millisecond, nil },
	}
	return s, files, env
}

func TestUnsuitable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(files, env map[string]string, s *system)
		want   string // "" when the heap may be advised
	}{
		{name: "left to programs", change: func(files, env map[string]string, s *system) {}},
		{name: "always", change: func(files, env map[string]string, s *system) { files[modeFile] = "[always] madvise never\n" }, want: `"always"`},
		{name: "never", change: func(files, env map[string]string, s *system) { files[modeFile] = "always madvise [never]\n" }, want: `"never"`},
		{name: "no huge pages in the kernel", change: func(files, env map[string]string, s *system) { delete(files, modeFile) }, want: `""`},
		{name: "2 MiB pages off", change: func(files, env map[string]string, s *system) {
			files[pmdModeFile] = "always inherit madvise [never]\n"
		}, want: "2 MiB"},
		{name: "no per-size setting (older kernels)", change: func(files, env map[string]string, s *system) { delete(files, pmdModeFile) }},
		{name: "process opted out", change: func(files, env map[string]string, s *system) {
			files[statusFile] = "Name:\tpledgestat\nTHP_enabled:\t0\n"
		}, want: "PR_SET_THP_DISABLE"},
		{name: "GODEBUG disablethp", change: func(files, env map[string]string, s *system) { env["GODEBUG"] = "gctrace=1,disablethp=1" }, want: "disablethp"},
		{name: "GODEBUG disablethp undone", change: func(files, env map[string]string, s *system) { env["GODEBUG"] = "disablethp=1,disablethp=0" }},
		{name: "4 KiB faults cheap", change: func(files, env map[string]string, s *system) {
			s.smallFaultCost = func() (time.Duration, error) { return 500 * time.Microsecond, nil }
		}, want: "cheap here"},
		{name: "4 KiB faults just under the bound", change: func(files, env map[string]string, s *system) {
			s.smallFaultCost = func() (time.Duration, error) { return minSmallFaultCost - time.Microsecond, nil }
		}, want: "cheap here"},
		{name: "4 KiB faults at the bound", change: func(files, env map[string]string, s *system) {
			s.smallFaultCost = func() (time.Duration, error) { return minSmallFaultCost, nil }
		}},
		{name: "fault cost unknown", change: func(files, env map[string]string, s *system) {
			s.smallFaultCost = func() (time.Duration, error) { return 0, errors.New("ENOMEM") }
		}, want: "unknown (ENOMEM)"},
		{name: "address space limited", change: func(files, env map[string]string, s *system) {
			s.addressLimit = func() (bool, error) { return true, nil }
		}, want: "ulimit -v"},
		{name: "address limit unknown", change: func(files, env map[string]string, s *system) {
			s.addressLimit = func() (bool, error) { return false, errors.New("no getrlimit") }
		}, want: "ulimit -v"},
		{name: "strict overcommit", change: func(files, env map[string]string, s *system) { files[overcommitFile] = "2\n" }, want: "overcommit"},
		{name: "overcommit unknown", change: func(files, env map[string]string, s *system) { delete(files, overcommitFile) }, want: "overcommit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, files, env := fakeSystem()
			tc.change(files, env, &s)
			got := s.unsuitable()
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("unsuitable() = %q, want %q", got, tc.want)
			}
		})
	}
}

// heapState reads the collector's heap goal, the heap's free memory not
// given back to the system, and the collections so far.
func heapState() (goal, free, cycles uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/memory/classes/heap/free:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()
}

func TestAdvise(t *testing.T) {
	const reserve = 256 << 20
	for _, tc := range []struct {
		name    string
		maps    func() (string, error)
		madvErr error
		advised bool
		err     string
	}{
		{name: "the mapping that holds the block", advised: true},
		{name: "mappings unreadable", maps: func() (string, error) { return "", fs.ErrPermission }, err: "mappings"},
		{name: "no mapping holds the block", maps: func() (string, error) { return "0-1000 r--p\n", nil }, err: "no mapping"},
		{name: "madvise refused", madvErr: errors.New("EINVAL"), err: "madvise the heap 0x0-0xffffffffffffffff: EINVAL"},
	} {
		for _, set := range settings {
			t.Run(tc.name+"/"+set.name, func(t *testing.T) {
				testAdvise(t, reserve, set.percent, set.limit, tc.maps, tc.madvErr, tc.advised, tc.err)
			})
		}
	}
}

// settings are the collector's settings advise is tried under: it must
// leave them as they were.
var settings = []struct {
	name    string
	percent int
	limit   int64
}{
	// The quiet start's (package quietstart): collector off, a 32 MiB
	// backstop, where a block counted live would bring collections.
	{"quiet start", -1, 32 << 20},
	{"collector on", 50, 1 << 40},
}

// testAdvise runs advise on a fake system under the collector settings
// given, and checks what it must leave behind, failed or not.
func testAdvise(t *testing.T, reserve, percent int, limit int64, maps func() (string, error), madvErr error, wantAdvised bool, wantErr string) {
	t.Helper()
	s, _, _ := fakeSystem()
	if maps != nil {
		s.maps = maps
	}
	var advisedRange []uint64
	s.madvise = func(lo, n uint64) error {
		advisedRange = []uint64{lo, n}
		return madvErr
	}
	defer debug.SetGCPercent(debug.SetGCPercent(percent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
	_, _, cyclesBefore := heapState()

	advised, why, err := advise(reserve, s)
	goal, free, cycles := heapState()
	if wantErr == "" && err != nil || wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
		t.Fatalf("error %v, want %q", err, wantErr)
	}
	if advised != wantAdvised || why != "" {
		t.Errorf("advised %v (%q), want %v", advised, why, wantAdvised)
	}
	if wantAdvised && (advisedRange == nil || advisedRange[0] != 0 || advisedRange[1] != 0xffffffffffffffff) {
		t.Errorf("advised %v, want the whole mapping that holds the block", advisedRange)
	}
	// Failed or not, the block is given back, to the system too,
	// by one collection, and the settings are as they were.
	if goal >= uint64(reserve) || free >= uint64(reserve) {
		t.Errorf("after advise: heap goal %d, free heap %d: the block of %d is kept", goal, free, reserve)
	}
	if n := cycles - cyclesBefore; n != 1 {
		t.Errorf("%d collections in advise, want 1: the block was counted live", n)
	}
	if got := debug.SetGCPercent(percent); got != percent {
		t.Errorf("collector at %d after advise, want %d as it was", got, percent)
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("memory limit %d after advise, want %d as it was", got, limit)
	}
}

func TestAdviseRefusesATinyReserve(t *testing.T) {
	s, _, _ := fakeSystem()
	s.madvise = func(lo, n uint64) error { t.Fatal("madvise called"); return nil }
	if _, _, err := advise(1<<20, s); err == nil {
		t.Fatal("a reserve of 1 MiB was accepted: the block could be anything, even no heap")
	}
}

func TestUnsuitableSystemIsLeftAlone(t *testing.T) {
	s, files, _ := fakeSystem()
	files[modeFile] = "[always] madvise never\n"
	s.maps = func() (string, error) { t.Fatal("maps read"); return "", nil }
	advised, why, err := advise(64<<20, s)
	if advised || why == "" || err != nil {
		t.Fatalf("advise = %v, %q, %v; want not advised, with why", advised, why, err)
	}
}
