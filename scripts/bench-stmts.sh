#!/usr/bin/env bash
# bench-stmts.sh: EXTRA_STMTS_CMD for ../shared/bench/peers/run.sh. Sends
# STMT_REQS requests (EXTRA_BODY, rotating EXTRA_TOKENS) to a running Quire
# and prints, from its /metrics counters, the PostgreSQL round trips per
# request and then (last line, as the harness wants) the statements per
# request. Other traffic at the same time would count too: run it alone.
set -euo pipefail
: "${EXTRA_URL:?}" "${EXTRA_TOKENS:?}" "${EXTRA_BODY:?}"
reqs=${STMT_REQS:-200}
base=${EXTRA_URL%/graphql}

metric() { curl -fsS "$base/metrics" | awk -v name="$1" '$1 == name { printf "%d\n", $2 }'; }

mapfile -t tokens < <(grep -v '^[[:space:]]*$' "$EXTRA_TOKENS")
# One request per token first, so that every session and principal is in
# the server's cache: the figure is for warm requests.
for t in "${tokens[@]}"; do
  curl -fsS -o /dev/null -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
    --data-binary "@$EXTRA_BODY" "$EXTRA_URL"
done
s0=$(metric quire_db_statements_total)
r0=$(metric quire_db_round_trips_total)
for ((i = 0; i < reqs; i++)); do
  t=${tokens[i % ${#tokens[@]}]}
  curl -fsS -o /dev/null -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
    --data-binary "@$EXTRA_BODY" "$EXTRA_URL"
done
s1=$(metric quire_db_statements_total)
r1=$(metric quire_db_round_trips_total)
awk -v r="$((r1 - r0))" -v n="$reqs" 'BEGIN { printf "round trips/req: %.2f\n", r / n }'
awk -v s="$((s1 - s0))" -v n="$reqs" 'BEGIN { printf "%.2f\n", s / n }'
