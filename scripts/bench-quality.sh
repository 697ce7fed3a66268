#!/usr/bin/env bash
# Quality on public data (release build): Amazon Sports, Amazon Toys and Yelp as preprocessed for S3-Rec
# (../shared/data/amazon-s3rec, one line per user), each ingested (`--format sequences`) into a throwaway
# PLEAT_HOME, then SASRec, HSTU and BERT4Rec trained with the documented settings (configs/amazon/MODEL.conf,
# chosen on Sports and Toys validation; Yelp is never tuned on) for each seed. Protocol: leave-one-out,
# every item ranked, seen items filtered (unfiltered reported too), the epoch chosen by validation NDCG@10;
# each epoch's test NDCG@10 is recorded for the curve and the time to 95% of the published bar only.
# Prints a Markdown table of means over seeds and writes the runs and one SVG of curves per data set.
#
#   scripts/bench-quality.sh [--budget MINUTES] [--seeds N] [--data "sports toys yelp"]
#                            [--models "sasrec hstu bert4rec"] [--out DIR] [--set key=value ...]
#
# --budget spreads MINUTES of training over all runs (each stops after the epoch that passes its share;
# default: no limit, each run stops by its patience). --set applies to every run. Runs and curves go to
# --out (default .build/quality/DATE-TIME). The data directory can be moved with PLEAT_AMAZON_DATA.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=0 seeds=3 data="sports toys yelp" models="sasrec hstu bert4rec" out="" extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --budget) budget=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --set) extra+=(--set "$2"); shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
source_dir=${PLEAT_AMAZON_DATA:-../shared/data/amazon-s3rec}
for d in $data; do
  [ -f "$source_dir/$d.txt" ] || { echo "no $source_dir/$d.txt (set PLEAT_AMAZON_DATA)" >&2; exit 1; }
done
source scripts/lib/bench-start.sh
bench_start quality

runs=$(( $(wc -w <<< "$data") * $(wc -w <<< "$models") * seeds ))
limit=0
[ "$budget" = 0 ] || limit=$(( budget * 60 / runs ))
.build/release/pleat doctor --json > "$out/doctor.json"
echo "$runs runs$( [ "$limit" = 0 ] || echo ", at most $limit s of training each"); results in $out" >&2
for d in $data; do
  psql -q "$url" -c "CREATE DATABASE $d"
  export PLEAT_DATABASE_URL=${url/\/\/\/pleat?/\/\/\/$d?}
  $pleat db migrate >/dev/null
  $pleat ingest "$source_dir/$d.txt" --format sequences --json > "$out/$d-ingest.json"
  for m in $models; do
    for s in $(seq "$seeds"); do
      echo "[$(date +%T)] $d $m seed $s" >&2
      $pleat train --config "configs/amazon/$m.conf" --set seed="$s" --set test_curve=true --set time_limit_seconds="$limit" \
        ${extra[@]+"${extra[@]}"} --artifacts "$work/models" --json 2> "$out/$d-$m-$s.log" | tail -1 > "$out/$d-$m-$s.json"
    done
  done
done
python3 - "$out/doctor.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"CPU: {r['cpu']['model_name']} (family {r['cpu']['family']} model {r['cpu']['model']}, {r['cpu']['vector_level']}); "
      f"BLAS kernel {r['blas']['kernel']}\n")
PY
python3 scripts/quality-table.py "$out"
