#!/usr/bin/env bash
# SASRec on large catalogues (release build): synthetic logs (`pleat synth`) of USERS users (default
# 20,000, median 30 events, at most 200) over 10^5 and 10^6 items, one epoch of SASRec (d 64, 1 block,
# max_length 50) with each loss: full cross-entropy, and sampled softmax with 256 negatives: uniform
# (shared by the batch), uniform drawn per position, and mixed (half in-batch, shared). Prints, per
# catalogue and loss, the items that occur in the log (only those enter the model: 50,000 users, 2.3 M
# events, reach 617 k of 10^6), the training seconds of the epoch, sequences/s, the validation seconds
# (every item ranked for every user) and the peak RSS of the run.
#
#   scripts/bench-large-catalogue.sh [--users N] [--items "100000 1000000"] [--losses "ce uniform uniform_per_position mixed"]
#
# Full cross-entropy costs 2·d·items multiply-adds per position forward and twice that backward; at
# 10^6 items it is left out by default (--losses adds it back) and its time is the 10^5 figure × 10.
set -euo pipefail
cd "$(dirname "$0")/.."
users=20000 catalogues="100000 1000000" losses="ce uniform uniform_per_position mixed"
while [ $# -gt 0 ]; do
  case $1 in
    --users) users=$2; shift 2 ;;
    --items) catalogues=$2; shift 2 ;;
    --losses) losses=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
scripts/setup.sh
scripts/build-release.sh >/dev/null
pleat=$PWD/.build/release/pleat
source scripts/lib/scratch-database.sh
scratch_database catalogue
url=$($pleat db url)
$pleat doctor --json > "$work/doctor.json"

rows=()
for items in $catalogues; do
  db=items_$items
  psql -q "$url" -c "CREATE DATABASE $db"
  export PLEAT_DATABASE_URL=${url/\/\/\/pleat?/\/\/\/$db?}
  $pleat db migrate >/dev/null
  $pleat synth --output "$work/log.csv" --users "$users" --items "$items" --median-events 30 --max-events 200 --json >/dev/null
  $pleat ingest "$work/log.csv" --format csv --json >/dev/null
  for loss in $losses; do
    [ "$loss" = ce ] && [ "$items" -ge 1000000 ] && [ "$losses" = "ce uniform uniform_per_position mixed" ] && continue
    case $loss in
      ce) settings=(--set sasrec.loss=ce) ;;
      *) settings=(--set sasrec.loss=sampled_softmax --set sasrec.sampling="$loss" --set sasrec.negatives=256) ;;
    esac
    echo "[$(date +%T)] $items items, $loss" >&2
    /usr/bin/time -f "%M" -o "$work/rss" $pleat train --model sasrec --set epochs=1 --set max_length=50 \
      --set sasrec.encoder.dimension=64 --set sasrec.encoder.blocks=1 --set sasrec.encoder.heads=1 "${settings[@]}" \
      --artifacts "$work/models" --json 2> "$work/train.log" | tail -1 > "$work/run.json"
    rows+=("$items $loss $(cat "$work/rss") $(cat "$work/run.json")")
  done
done
python3 - "$work/doctor.json" "${rows[@]}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"CPU: {d['cpu']['model_name']} (family {d['cpu']['family']} model {d['cpu']['model']}); BLAS kernel {d['blas']['kernel']}\n")
print("| items generated | items in the model | events | loss | epoch training s | sequences/s | validation s | peak RSS GiB | valid NDCG@10 |")
print("|---|---|---|---|---|---|---|---|---|")
for row in sys.argv[2:]:
    items, loss, rss, line = row.split(" ", 3)
    r = json.loads(line)
    e = r["history"][0]
    train = r["users"] / e["sequences_per_second"]  # every synthetic user has enough events to train on
    name = "full cross-entropy" if loss == "ce" else f"sampled softmax, {loss}"
    print(f"| {int(items):,} | {r['items']:,} | {r['events']:,} | {name} | {train:.1f} | {e['sequences_per_second']:,.0f} | "
          f"{e['seconds'] - train:.1f} | {int(rss) / 2**20:.2f} | {r['valid']['ndcg@10']:.4f} |")
PY
