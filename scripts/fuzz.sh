#!/usr/bin/env bash
# Fuzz every parser of user input for a bounded time each.
#   scripts/fuzz.sh            # 60s per target
#   FUZZTIME=10m scripts/fuzz.sh
# New crashers land in the package's testdata/fuzz/ and become regression
# tests of the normal `go test ./...`.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-60s}"
targets=(
  "./internal/textnorm FuzzKey"
  "./ingest/values FuzzPercent"
  "./ingest/values FuzzDateText"
  "./ingest/values FuzzFlag"
  "./ingest/values FuzzYear"
  "./refdata FuzzCountryLookup"
  "./refdata FuzzInstrumentLookup"
  "./ingest/workbook FuzzSniffDelimiter"
  "./ingest/workbook FuzzOpen"
  "./ingest FuzzMatchHeader"
  "./ingest FuzzReadCSV"
  "./ingest FuzzReadXLSX"
  "./ingest FuzzCSVLineEndings"
  "./internal/termsafe FuzzWriter"
  "./workspace FuzzStoredName"
  "./schedules FuzzParseCron"
)
for t in "${targets[@]}"; do
  set -- $t
  echo "=== $2 ($1) for $fuzztime"
  go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime"
done
