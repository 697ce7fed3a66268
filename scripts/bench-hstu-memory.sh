#!/usr/bin/env bash
# Peak memory of training HSTU (max_len 200) on about 1,000,000 synthetic events: generates the log,
# ingests it into a private PostgreSQL and trains under /usr/bin/time -v (release build). Prints the
# peak resident set size; the target is under 4 GiB. EPOCHS (default 1) bounds the run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-release.sh >/dev/null
pleat=$PWD/.build/release/pleat
export PLEAT_HOME=${PLEAT_HOME:-/tmp/pleat-bench-memory}
[ -x /usr/bin/time ] || { apt-get install -y -qq time >/dev/null; }
mkdir -p "$PLEAT_HOME"
$pleat db start >/dev/null
$pleat db migrate >/dev/null
if [ "$($pleat stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["interactions"])')" -lt 1000000 ]; then
  $pleat synth --output "$PLEAT_HOME/log.csv" --users 10000 --items 20000 --categories 50 --median-events 80 --max-events 2000 --seed 7 >/dev/null
  $pleat ingest "$PLEAT_HOME/log.csv" --format csv --items "$PLEAT_HOME/log.items.csv" >/dev/null || [ $? -eq 3 ]
fi
$pleat stats | grep -E "users|items  |interactions"
/usr/bin/time -v -o "$PLEAT_HOME/time.txt" $pleat train --model hstu --set max_length=200 --set epochs="${EPOCHS:-1}" --json | tail -1
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$PLEAT_HOME/time.txt"
awk '/Maximum resident set size/ { printf "peak RSS: %.2f GiB (target < 4 GiB)\n", $6 / 1048576 }' "$PLEAT_HOME/time.txt"
