#!/usr/bin/env bash
# Repeat-heavy logs (release build): Yelp as preprocessed for S3-Rec (6.7% of test targets are items the
# user already visited) and the Taobao head (../shared/data/taobao-head, 31% of last events repeat), each
# ingested into a throwaway PLEAT_HOME; then, for each seed, SASRec and SASRec with the repeat head
# (`sasrec.repeat = true`) trained with configs/amazon/sasrec.conf under `seen = include` (a user's own items
# may be listed), and `pleat evaluate --seen include` ranks both with every baseline (pop, markov, recent,
# frequent) on the test users, each model paired against the best baseline and against the other model.
# Prints a Markdown table of means over seeds (scripts/repeat-table.py).
#
#   scripts/bench-repeat.sh [--seeds N] [--data "yelp taobao"] [--variants "sasrec repeat"] [--first-seed S]
#                           [--out DIR] [--set key=value ...]
#
# --variants trains only those (sasrec: no head; repeat: with it); --first-seed S runs seeds S…S+N−1 (to
# spread seeds over processes); --set applies to every run. Runs go to --out (default .build/repeat/DATE-TIME).
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=3 first=1 data="yelp taobao" variants="sasrec repeat" out="" extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --seeds) seeds=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    --first-seed) first=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --set) extra+=(--set "$2"); shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
shared=${PLEAT_SHARED_DATA:-../shared/data}
source scripts/lib/bench-start.sh
bench_start repeat
$pleat doctor --json > "$out/doctor.json"

source scripts/lib/shared-data.sh
ingest() { ingest_shared "$1" || { echo "unknown data set $1 (yelp, taobao)" >&2; exit 2; }; }

for d in $data; do
  psql -q "$url" -c "CREATE DATABASE $d"
  export PLEAT_DATABASE_URL=${url/\/\/\/pleat?/\/\/\/$d?}
  $pleat db migrate >/dev/null
  ingest "$d" > "$out/$d-ingest.json"
  for s in $(seq "$first" $((first + seeds - 1))); do
    ids=()
    for variant in $variants; do
      echo "[$(date +%T)] $d $variant seed $s" >&2
      head=()
      [ "$variant" = repeat ] && head=(--set sasrec.repeat=true)
      $pleat train --config configs/amazon/sasrec.conf --set seed="$s" --set seen=include "${head[@]}" \
        ${extra[@]+"${extra[@]}"} --artifacts "$work/models" --json 2> "$out/$d-$variant-$s.log" | tail -1 > "$out/$d-$variant-$s.json"
      ids+=("$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["model_id"])' "$out/$d-$variant-$s.json")")
    done
    echo "[$(date +%T)] $d evaluate seed $s" >&2
    $pleat evaluate --models "$(IFS=,; echo "${ids[*]}")" --seen include --report "$out/$d-report-$s" --json \
      2> "$out/$d-evaluate-$s.log" | tail -1 > "$out/$d-evaluate-$s.json"
  done
done
python3 scripts/repeat-table.py "$out"
