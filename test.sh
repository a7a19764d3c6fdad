#!/usr/bin/env bash
# Runs every test: unit tests, the server suite on SQLite and on a throwaway PostgreSQL, and, as root, the
# end-to-end suite (real server, agents and sshd in network namespaces, the CLI in a client namespace).
set -euo pipefail
cd "$(dirname "$0")"

scripts/prerequisites.sh
dotnet restore Drawbridge.slnx --locked-mode --nologo -v quiet
npm ci --prefix tests/azure-sdk --no-audit --no-fund --loglevel=error
dotnet build Drawbridge.slnx -c Release --no-restore --nologo -v quiet
scripts/publish.sh

pg_dir=$(mktemp -d /tmp/drawbridge-pg.XXXXXX)
trap 'scripts/postgres.sh stop "$pg_dir"' EXIT
export DRAWBRIDGE_TEST_POSTGRES
DRAWBRIDGE_TEST_POSTGRES=$(scripts/postgres.sh start "$pg_dir" $((20000 + RANDOM % 20000)))
export DRAWBRIDGE_REQUIRE_POSTGRES=1
if [ "$(id -u)" -eq 0 ]; then export DRAWBRIDGE_REQUIRE_ROOT_TESTS=1; fi

log=$(mktemp /tmp/drawbridge-test.XXXXXX)
status=0
dotnet test Drawbridge.slnx -c Release --no-build --nologo 2>&1 | tee "$log" || status=$?

# One closing line for the whole suite, summed over the test assemblies.
awk -F'[:,]' '/(Passed|Failed)!  - /{ f+=$2; p+=$4; s+=$6 } END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
