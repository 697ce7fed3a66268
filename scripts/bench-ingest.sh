#!/usr/bin/env bash
# Ingestion benchmark (release build): N synthetic events (default 5,000,000) loaded by `pleat ingest`
# (validation, id mapping, de-duplication, index maintenance) and by `psql \copy` of the same CSV into a
# bare table without indexes, one after the other on the same throwaway server. Pleat runs twice, into
# two empty databases: on the log as generated (user by user) and on the same rows in time order (the
# usual order of event logs). Prints the table, the ratios and the peak RSS of each pleat ingest.
#
#   scripts/bench-ingest.sh [EVENTS] [--vs OTHER_PLEAT] [--pairs N]
#
# With --vs, the same log (as generated) is instead loaded by this build and by OTHER_PLEAT (e.g. a
# release build of an earlier commit) in N alternating pairs (default 5), each into a fresh database,
# and the median per-pair time ratio (this / other) is printed with its min and max, and both peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
events=5000000 other="" pairs=5
while [ $# -gt 0 ]; do
  case $1 in
    --vs) other=$(readlink -f "$2"); shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    *) events=$1; shift ;;
  esac
done

scripts/setup.sh
scripts/build-release.sh >/dev/null
pleat=$PWD/.build/release/pleat
source scripts/lib/scratch-database.sh
scratch_database bench
$pleat db migrate >/dev/null
url=$($pleat db url)
# Enough users for N events at a median of 160 per user, then cut to exactly N rows.
$pleat synth --output "$work/all.csv" --users $((events / 200 + 1000)) --median-events 160 --max-events 50000 --json >/dev/null
head -n $((events + 1)) "$work/all.csv" > "$work/events.csv"
rm "$work/all.csv"
size=$(du -m "$work/events.csv" | cut -f1)

# Seconds and peak RSS (MiB) of one `ingest` by the binary $1 into a fresh database.
timed_ingest() {
  local fresh=fresh_$RANDOM$RANDOM
  psql -q "$url" -c "CREATE DATABASE $fresh"
  local db=${url/\/\/\/pleat?/\/\/\/$fresh?}
  PLEAT_DATABASE_URL=$db "$1" db migrate >/dev/null
  local start end
  start=$(date +%s.%N)
  PLEAT_DATABASE_URL=$db /usr/bin/time -f "%M" -o "$work/rss" "$1" ingest "$work/events.csv" --format csv --json > "$work/run.json"
  end=$(date +%s.%N)
  python3 -c "import json; r = json.load(open('$work/run.json')); assert r['status'] == 'committed', r"
  echo "$(python3 -c "print($end - $start)") $(( $(cat "$work/rss") / 1024 ))"
  psql -q "$url" -c "DROP DATABASE $fresh"
}

if [ -n "$other" ]; then
  : > "$work/pairs"
  for i in $(seq "$pairs"); do
    echo "pair $i/$pairs" >&2
    echo "$(timed_ingest "$pleat") $(timed_ingest "$other")" >> "$work/pairs"
  done
  python3 - "$work/pairs" "$events" "$size" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
ratios = [a / c for a, _, c, _ in rows]
print(f"ingest of {int(sys.argv[2]):,} events ({sys.argv[3]} MB CSV, user by user), {len(rows)} alternating pairs, release builds")
print("| | median s | peak RSS MiB |")
print("|---|---|---|")
print(f"| this build | {statistics.median(r[0] for r in rows):.2f} | {statistics.median(r[1] for r in rows):.0f} |")
print(f"| other | {statistics.median(r[2] for r in rows):.2f} | {statistics.median(r[3] for r in rows):.0f} |")
print(f"time ratio this/other: median {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})")
PY
  exit 0
fi

(head -n 1 "$work/events.csv"; tail -n +2 "$work/events.csv" | sort -t, -k3,3n -S 1G) > "$work/by-time.csv"
psql -q "$url" -c "CREATE DATABASE by_time"
PLEAT_DATABASE_URL=${url/\/\/\/pleat?/\/\/\/by_time?} $pleat db migrate >/dev/null

now() { date +%s.%N; }
t0=$(now)
/usr/bin/time -f "%M" -o "$work/rss-1" $pleat ingest "$work/events.csv" --format csv --json > "$work/pleat.json"
t1=$(now)
PLEAT_DATABASE_URL=${url/\/\/\/pleat?/\/\/\/by_time?} /usr/bin/time -f "%M" -o "$work/rss-2" \
  $pleat ingest "$work/by-time.csv" --format csv --json > "$work/pleat-by-time.json"
t2=$(now)
psql -q "$url" -c "CREATE TABLE bare_copy (user_id text, item_id text, ts bigint, event_type text)"
t3=$(now)
psql -q "$url" -c "\\copy bare_copy FROM '$work/events.csv' WITH (FORMAT csv, HEADER true)"
t4=$(now)
# The server's own floor for the final step: the stored rows, already binary and in key order, copied
# into an empty table with the same primary key.
psql -q "$url" -c "\\copy (SELECT * FROM interactions ORDER BY user_id, occurred_at, item_id, event_type) TO '$work/rows.bin' WITH (FORMAT binary)"
psql -q "$url" -c "CREATE TABLE floor_copy (LIKE interactions INCLUDING ALL)"
t5=$(now)
psql -q "$url" -c "\\copy floor_copy FROM '$work/rows.bin' WITH (FORMAT binary)"
t6=$(now)

python3 - "$events" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" "$t6" "$size" "$work/pleat.json" "$work/pleat-by-time.json" \
  "$(cat "$work/rss-1")" "$(cat "$work/rss-2")" <<'PY'
import json, sys
events = int(sys.argv[1]); t0, t1, t2, t3, t4, t5, t6 = map(float, sys.argv[2:9]); size = sys.argv[9]
rss = [int(sys.argv[12]) // 1024, int(sys.argv[13]) // 1024]
for path in sys.argv[10:12]:
    report = json.load(open(path))
    assert report["status"] == "committed" and report["rows_loaded"] + report["duplicates"] + report["rows_rejected"] == events, report
copy_s = t4 - t3
rows = [("pleat ingest, log as generated (user by user)", t1 - t0),
        ("pleat ingest, same rows in time order", t2 - t1),
        ("psql \\copy into a bare table (no index)", copy_s),
        ("floor: psql \\copy of the stored rows (binary, key order) into a table with the same primary key", t6 - t5)]
print(f"ingest benchmark: {events:,} events, {size} MB CSV, same server, release build")
print("| path | seconds | rows/s | throughput vs \\copy |")
print("|---|---|---|---|")
for name, s in rows:
    print(f"| {name} | {s:.2f} | {events/s:,.0f} | {copy_s/s:.2f} |")
print(f"peak RSS of pleat ingest: {rss[0]} MiB (user by user), {rss[1]} MiB (time order)")
PY
