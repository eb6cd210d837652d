#!/usr/bin/env bash
# fuzz.sh: run each fuzz target given as package:Target for FUZZTIME (default
# 10s), one `go test -fuzz` per target (it takes one at a time), and print a
# line per target with its executions. `make fuzz` runs it under pgtestrun,
# because some packages' TestMain wants PostgreSQL even when only fuzzing.
#
# Go 1.26's fuzz coordinator can stop a healthy run at the -fuzztime deadline
# with a bare "context deadline exceeded" and no failing input
# (go.dev/issue/75804, fixed in Go 1.27), more often on a loaded machine. Such
# a run is repeated once; a second one, or any run that wrote a failing input
# to testdata/fuzz, fails.
set -uo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}

# run_target prints the run's output to $out and returns go test's status.
run_target() {
  "$GO" test -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" "$1" >"$out" 2>&1
}

# deadline_race reports whether a failed run is the coordinator race above.
deadline_race() {
  grep -q '^    context deadline exceeded$' "$out" && ! grep -q 'Failing input written to' "$out"
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
for target in "$@"; do
  pkg=${target%%:*} name=${target##*:}
  run_target "$pkg" "$name"
  rc=$?
  if [ "$rc" -ne 0 ] && deadline_race; then
    echo "fuzz $name ($pkg): stopped by Go's deadline race (go.dev/issue/75804); running it again"
    run_target "$pkg" "$name"
    rc=$?
  fi
  if [ "$rc" -ne 0 ]; then
    cat "$out"
    echo "fuzz $name ($pkg): FAIL"
    status=1
    continue
  fi
  grep 'execs:' "$out" | tail -n 1 | sed -E \
    "s|^fuzz: elapsed: ([0-9hms.]+), execs: ([0-9]+) .*new interesting: ([0-9]+).*|fuzz $name ($pkg): ok, \\2 executions in \\1, \\3 new interesting inputs|"
done
exit $status
