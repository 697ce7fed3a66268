#!/usr/bin/env bash
# Ingestion benchmark (release build): N synthetic events (default 5,000,000) loaded by `pleat ingest`
# (validation, id mapping, de-duplication, index maintenance) and by `psql \copy` of the same CSV into a
# bare table without indexes, one after the other on the same throwaway server. Prints both and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-5000000}

scripts/setup.sh
swift build -c release >/dev/null
pleat=$PWD/.build/release/pleat
work=$(mktemp -d /tmp/pleat-bench-XXXXXX)
chmod 755 "$work"
export PLEAT_HOME=$work
unset DATABASE_URL PLEAT_DATABASE_URL
trap '$pleat db stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

$pleat db start >/dev/null
$pleat db migrate >/dev/null
url=$($pleat db url)
# Enough users for N events at a median of 160 per user, then cut to exactly N rows.
$pleat synth --output "$work/all.csv" --users $((events / 200 + 1000)) --median-events 160 --max-events 50000 --json >/dev/null
head -n $((events + 1)) "$work/all.csv" > "$work/events.csv"
rm "$work/all.csv"
size=$(du -m "$work/events.csv" | cut -f1)

now() { date +%s.%N; }
t0=$(now)
$pleat ingest "$work/events.csv" --format csv --json > "$work/pleat.json"
t1=$(now)
psql -q "$url" -c "CREATE TABLE bare_copy (user_id text, item_id text, ts bigint, event_type text)"
t2=$(now)
psql -q "$url" -c "\\copy bare_copy FROM '$work/events.csv' WITH (FORMAT csv, HEADER true)"
t3=$(now)

python3 - "$events" "$t0" "$t1" "$t2" "$t3" "$size" "$work/pleat.json" <<'PY'
import json, sys
events = int(sys.argv[1]); t0, t1, t2, t3 = map(float, sys.argv[2:6]); size = sys.argv[6]
report = json.load(open(sys.argv[7]))
assert report["rows_loaded"] + report["duplicates"] + report["rows_rejected"] == events, report
pleat_s, copy_s = t1 - t0, t3 - t2
print(f"ingest benchmark: {events:,} events, {size} MB CSV, same server, release build")
print(f"| path | seconds | rows/s |")
print(f"|---|---|---|")
print(f"| pleat ingest (validate, map ids, dedup, PK index) | {pleat_s:.2f} | {events/pleat_s:,.0f} |")
print(f"| psql \\copy into a bare table (no index) | {copy_s:.2f} | {events/copy_s:,.0f} |")
print(f"pleat / \\copy throughput ratio: {copy_s/pleat_s:.2f}")
PY
