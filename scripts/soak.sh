#!/usr/bin/env bash
# Soak test (issue 4): drops thousands of files over repeated runs with
# random duplicates, corrections and broken files, then checks the store
# against an independent recount of the archive.
#   scripts/soak.sh              # 5000 files
#   FILES=500 scripts/soak.sh    # quicker
set -euo pipefail
cd "$(dirname "$0")/.."
PLEDGESTAT_SOAK=1 PLEDGESTAT_SOAK_FILES="${FILES:-5000}" go test ./pipeline -run '^TestSoak$' -v -timeout 2h
