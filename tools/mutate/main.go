//go:build unix

// Command mutate breaks the rules that matter on purpose, one at a time,
// and checks that a test fails each time: a test that survives the
// mutation of its rule does not test that rule.
//
//	go run ./tools/mutate                 # every mutation in scripts/mutations.txt
//	go run ./tools/mutate -only csv       # those whose name contains "csv"
//
// Each mutation names a file, an exact text that must occur once in it
// (⏎ stands for a newline), its replacement, and the tests that must then
// fail. The file is restored
// after each run, also when the tool is interrupted.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// mutation is one line of the list: name | file | old | new | package | test regexp.
type mutation struct {
	name, file, old, new, pkg, run string
}

func main() {
	list := flag.String("list", "scripts/mutations.txt", "the mutation list")
	only := flag.String("only", "", "run only the mutations whose name contains this")
	timeout := flag.Duration("timeout", 5*time.Minute, "time allowed to each test run")
	flag.Parse()
	muts, err := readList(*list)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	killed, survived := 0, []string{}
	for _, m := range muts {
		if !strings.Contains(m.name, *only) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		ok, err := try(ctx, m, *timeout)
		switch {
		case err != nil:
			fmt.Printf("ERROR     %s: %v\n", m.name, err)
			survived = append(survived, m.name+" (error)")
		case ok:
			fmt.Printf("killed    %s\n", m.name)
			killed++
		default:
			fmt.Printf("SURVIVED  %s\n", m.name)
			survived = append(survived, m.name)
		}
	}
	total := killed + len(survived)
	fmt.Printf("\nmutation score: %d of %d killed\n", killed, total)
	if len(survived) > 0 {
		fmt.Println("survivors:", strings.Join(survived, "; "))
		os.Exit(1)
	}
}

// try applies m, runs its tests and restores the file; it reports whether
// the tests failed (the mutation was killed).
func try(ctx context.Context, m mutation, timeout time.Duration) (bool, error) {
	orig, err := os.ReadFile(m.file)
	if err != nil {
		return false, err
	}
	if n := strings.Count(string(orig), m.old); n != 1 {
		return false, fmt.Errorf("%s holds the text to mutate %d times, want once: %q", m.file, n, m.old)
	}
	mutated := strings.Replace(string(orig), m.old, m.new, 1)
	if err := os.WriteFile(m.file, []byte(mutated), 0o644); err != nil {
		return false, err
	}
	defer os.WriteFile(m.file, orig, 0o644)
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, "go", "test", "-count=1", "-run", m.run, m.pkg)
	// Its own process group, killed whole: a mutation that makes a test
	// hang must not leave the test binary and its children running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if tctx.Err() != nil && ctx.Err() == nil {
		return true, nil // a test that hangs on the mutation caught it (too slowly)
	}
	if err == nil {
		return false, nil
	}
	if strings.Contains(string(out), "[build failed]") || strings.Contains(string(out), "setup failed") {
		return false, fmt.Errorf("the mutation does not compile:\n%s", out)
	}
	return true, nil
}

func readList(path string) ([]mutation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mutation
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), " \r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.Split(text, " | ")
		if len(parts) != 6 {
			return nil, fmt.Errorf("%s:%d: want 6 fields separated by \" | \", found %d", path, line, len(parts))
		}
		for _, i := range []int{0, 1, 4, 5} { // the texts keep their leading tabs
			parts[i] = strings.TrimSpace(parts[i])
		}
		unescape := strings.NewReplacer("⏎", "\n").Replace
		out = append(out, mutation{parts[0], parts[1], unescape(parts[2]), unescape(parts[3]), parts[4], parts[5]})
	}
	return out, sc.Err()
}
