#!/usr/bin/env bash
# bench-load.sh: measure Quire against the peer anchors (bare pgx, PostGraphile v5)
# in one run of ../shared/bench/peers/run.sh, and write docs/performance.md.
#
# Builds bin/quire, starts `quire serve` on a fresh embedded database under /tmp
# (rate limits off), seeds 100 orgs × 1,000 notes with one token per org, runs
# the shared harness with Quire as the third contender, and turns its JSON into
# the table. `make bench-load` runs it from the repository root, as root (the
# harness needs root). Knobs passed through to the harness: WARM DUR ROUNDS
# PREWARM (and CONNS, POOL, EXTRA_STMTS_CMD if set). The seeded access tokens
# live 15 minutes, so seeding happens right before the load (~10 min by default).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PEERS=${PEERS:-$ROOT/../shared/bench/peers}
ORGS=${ORGS:-100}
NOTES=${NOTES:-1000}
MEMBERS=${MEMBERS:-10}
OUT=${OUT:-$ROOT/docs/performance.md}

log() { printf '[bench-load %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }

missing=()
for tool in wrk jq curl; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  die "missing ${missing[*]}: install with  apt-get install -y ${missing[*]}"
fi
[[ -f $PEERS/run.sh ]] || die "no peer harness at $PEERS/run.sh (set PEERS=)"
[[ $(id -u) -eq 0 ]] || die "run as root: the peer harness needs it"

log "build bin/quire"
go build -o bin/quire ./cmd/server

DATA=$(mktemp -d /tmp/quire-bench.XXXX)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SERVER_PID=""
cleanup() {
  local rc=$?
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do # up to 10 s for a clean shutdown (it stops the embedded database)
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if ((rc != 0)) && [[ -f $DATA/serve.log ]]; then
    log "quire serve log (last 20 lines):"
    tail -n 20 "$DATA/serve.log" >&2 || true
  fi
  rm -rf "$DATA"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export QUIRE_DATA_DIR=$DATA QUIRE_ADDR=127.0.0.1:$PORT QUIRE_RATE_LIMIT=0 QUIRE_KEY_RATE_LIMIT=0
unset DATABASE_URL DATABASE_MIGRATE_URL QUIRE_ENV

log "start quire serve on $QUIRE_ADDR, data in $DATA"
bin/quire serve >"$DATA/serve.log" 2>&1 &
SERVER_PID=$!
deadline=$((SECONDS + 60))
until curl -fsS -m 2 "http://$QUIRE_ADDR/readyz" >/dev/null 2>&1; do
  kill -0 "$SERVER_PID" 2>/dev/null || die "quire serve exited before it was ready"
  ((SECONDS < deadline)) || die "quire serve not ready after 60 s"
  sleep 0.2
done

log "seed $ORGS orgs × $NOTES notes ($MEMBERS members each)"
bin/quire admin seed --orgs "$ORGS" --notes-per-org "$NOTES" --members-per-org "$MEMBERS" \
  --tokens "$DATA/tokens.txt" --body "$DATA/body.json" 2>"$DATA/seed.log" || { cat "$DATA/seed.log" >&2; die "seeding failed"; }
SEED_LINE=$(grep '^seeded ' "$DATA/seed.log")
log "$SEED_LINE"

log "count Quire's statements and round trips per warm request (its /metrics counters)"
EXTRA_URL="http://$QUIRE_ADDR/graphql" EXTRA_TOKENS="$DATA/tokens.txt" EXTRA_BODY="$DATA/body.json" STMT_REQS=200 \
  bash scripts/bench-stmts.sh >"$DATA/stmts.out"
QUIRE_TRIPS=$(awk -F': ' '/^round trips\/req/ { print $2 }' "$DATA/stmts.out")
log "quire: $(tail -n 1 "$DATA/stmts.out") statements/req, $QUIRE_TRIPS round trips/req"

log "run the peer harness (see $PEERS/README.md)"
JSON=$DATA/peers.json
EXTRA_NAME=quire EXTRA_URL="http://$QUIRE_ADDR/graphql" EXTRA_TOKENS="$DATA/tokens.txt" EXTRA_BODY="$DATA/body.json" \
  EXTRA_STMTS_CMD="cat '$DATA/stmts.out'" bash "$PEERS/run.sh" --json "$JSON"
mkdir -p bin
cp "$JSON" bin/bench-load.json

rounds=$(jq -r .settings.rounds "$JSON")
smoke=""
if [[ $rounds == 1 ]]; then
  smoke="**Smoke run: 1 round, short durations.** The ratios are single samples (±15–20 % noise); rerun with the defaults for numbers to report."
fi
{
  echo "## Latest run: Quire against the peer anchors"
  echo
  if [[ -n $smoke ]]; then
    echo "$smoke"
    echo
  fi
  echo "- **Date**: $(date -u +%Y-%m-%d), harness run \`$(jq -r .stamp "$JSON")\`."
  jq -r '"- **Machine**: \(.machine.cores) cores (\(.machine.cpu)), \(.machine.mem_gib) GiB RAM, kernel \(.machine.kernel). wrk, the servers and every PostgreSQL share these cores."' "$JSON"
  jq -r '.settings | "- **Load**: pre-warm \(.prewarm_s) s at c=\(.conns) once; per round warm \(.warm_s) s, \(.dur_s) s at c=\(.conns) and \(.dur_s) s at c=1; \(.rounds) alternating round(s); anchors pool \(.pool)."' "$JSON"
  echo "- **Data**: $SEED_LINE (\`quire admin seed\`, one owner token per org)."
  echo "- **Request**: \`$(jq -r .query "$DATA/body.json")\`"
  echo
  echo "### Summary (median over $rounds round(s))"
  echo
  echo "| server | conns | req/s | p50 ms | p99 ms | req/s ÷ bare batched | req/s ÷ PostGraphile v5 | statements/req | PG round trips/req |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  jq -r --arg trips "$QUIRE_TRIPS" '.summary[] | "| \(if .role == "extra" then "**\(.server)**" else .server end) | \(.conns) | \(.rps | round) | \(.p50_ms) | \(.p99_ms) | \(if .rps_vs_bare_batch == null then "–" else "\(.rps_vs_bare_batch * 100 | round / 100)×" end) | \(if .rps_vs_postgraphile == null then "–" else "\(.rps_vs_postgraphile * 100 | round / 100)×" end) | \(.statements_per_req // "n/a") | \(if .role == "extra" then $trips else (.pg_round_trips_per_req // "n/a") end) |"' "$JSON"
  echo
  jq -r '[.summary[] | select(.role == "extra")] | map("- Quire at c=\(.conns): \(.rps_vs_bare_batch * 100 | round)% of bare batched, \(.rps_vs_postgraphile * 100 | round / 100)× PostGraphile v5; \(.non2xx) non-2xx, \(.socket_errors) socket errors.") | .[]' "$JSON"
  echo
  echo "Quire runs on its embedded development PostgreSQL with its own pool and settings; the anchors"
  echo "share the harness's PostgreSQL 15 (\`shared_buffers=256MB\`, pool 10). Compare ratios, not absolute"
  echo "figures: they drift between runs."
  echo
  echo "### How to reproduce"
  echo
  echo "As root, from the repository root: \`make bench-load\` (needs go, wrk, jq, curl, node+npm; the"
  echo "first run installs PostGraphile with \`npm ci\`, about 485 MB). It builds \`bin/quire\`, serves it on a"
  echo "fresh embedded database under /tmp with rate limits off, seeds 100 orgs × 1,000 notes with"
  echo "\`quire admin seed --tokens … --body …\`, runs \`../shared/bench/peers/run.sh\` with Quire as the third"
  echo "contender, and rewrites this file (the raw JSON is kept in \`bin/bench-load.json\`). A full run takes"
  echo "about 10 minutes; \`WARM=2 DUR=5 ROUNDS=1 PREWARM=3 make bench-load\` is a 3-minute smoke run."
} >"$OUT.tmp"
# docs/performance.md is written by hand around the run's section: replace
# what lies between the markers, or write the whole file if it has none.
if [[ -f $OUT ]] && grep -q '^<!-- bench-load:start -->$' "$OUT" && grep -q '^<!-- bench-load:end -->$' "$OUT"; then
  awk -v gen="$OUT.tmp" '
    /^<!-- bench-load:start -->$/ { print; while ((getline line < gen) > 0) print line; skip = 1; next }
    /^<!-- bench-load:end -->$/ { skip = 0 }
    !skip { print }' "$OUT" >"$OUT.spliced"
  mv -f "$OUT.spliced" "$OUT"
  rm -f "$OUT.tmp"
else
  mv -f "$OUT.tmp" "$OUT"
fi
log "wrote $OUT"
cat "$OUT"
