#!/usr/bin/env bash
# Fuzz every parser of user input for a bounded time each.
#   scripts/fuzz.sh            # 60s per target
#   FUZZTIME=10m scripts/fuzz.sh
# New crashers land in the package's testdata/fuzz/ and become regression
# tests of the normal `go test ./...`.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-60s}"
# Every Fuzz function of every test file, found rather than listed: a list
# kept by hand had missed five of them.
targets=()
while IFS= read -r file; do
  dir="./$(dirname "${file#./}")"
  while IFS= read -r name; do
    targets+=("$dir $name")
  done < <(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //')
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort)
for t in "${targets[@]}"; do
  set -- $t
  echo "=== $2 ($1) for $fuzztime"
  go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime"
done
