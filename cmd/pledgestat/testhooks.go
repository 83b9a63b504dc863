package main

// Test-only hooks, read from the environment by binaries built with
// "-tags crashhook" (the crash tests build one); release builds do not
// contain them.
//
//	PLEDGESTAT_TEST_CRASH_AT=N   SIGKILL the process at its N-th file-system step
//	PLEDGESTAT_TEST_STEPS_LOG=F  append every step ("N op path") to the file F
//	PLEDGESTAT_TEST_SLOW_LIST=D  wait D (a Go duration) per inbox entry listed: a slow share
//	PLEDGESTAT_TEST_STRICT=DIR   with CRASH_AT, a power cut: first undo every change not yet
//	                             fsynced (fsx.Strict, removed files kept in DIR), then SIGKILL
const (
	envStrict   = "PLEDGESTAT_TEST_STRICT"
	envCrashAt  = "PLEDGESTAT_TEST_CRASH_AT"
	envStepsLog = "PLEDGESTAT_TEST_STEPS_LOG"
	envSlowList = "PLEDGESTAT_TEST_SLOW_LIST"
)
