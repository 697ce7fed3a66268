#!/usr/bin/env bash
# Long histories on MovieLens-100K (the shared data with the longest: median 65, max 737 events per
# user), release build: every encoder at a recent window of 50 and of 200 events, unfolded, and at 50
# folded by genre (`fold.key = category`) and by learned clusters (`fold.key = cluster`, from the item
# embeddings of the same encoder's window-200 model of that seed), over seeds. Test NDCG@10 under the
# defaults otherwise (leave-one-out, full ranking, validation chooses the epoch). A configuration the
# encoder refuses (BERT4Rec folds nothing yet) is listed with the reason. Prints a Markdown table (mean
# and spread over seeds) and writes OUT/long.svg (NDCG@10 per configuration and encoder).
#
#   scripts/bench-long.sh [--models "sasrec hstu bert4rec"] [--seeds "42 1 2"] [--out DIR] [--set key=value ...]
#
# 3 encoders × 4 configurations × 3 seeds is 36 training runs: hours on 2 cores; --models and --seeds
# cut it down, and a run directory given again with --out skips the runs it already holds.
set -euo pipefail
cd "$(dirname "$0")/.."
models="sasrec hstu bert4rec" seeds="42 1 2" out="" extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --models) models=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --set) extra+=(--set "$2"); shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
shared=${PLEAT_SHARED_DATA:-../shared/data}
source scripts/lib/bench-start.sh
bench_start long
$pleat db migrate >/dev/null
$pleat ingest "$shared/ml-100k/ml-100k.inter" --format recbole --items "$shared/ml-100k/ml-100k.item" --json > "$out/ingest.json"
lscpu | grep -E '^Model name|^CPU\(s\)' > "$out/cpu.txt"
git rev-parse --short HEAD > "$out/commit.txt"

# The model id on the last line of a `pleat train --json` output file.
model_id() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["model_id"])' "$1"; }
# train NAME MODEL SEED SETTINGS...: one run into $out/NAME.json (its error into NAME.error when refused).
train() {
  local name=$1 model=$2 seed=$3; shift 3
  [ -s "$out/$name.json" ] && return 0
  local sets=(); for kv in "$@"; do sets+=(--set "$kv"); done
  echo "== $name" >&2
  if ! $pleat train --model "$model" --set seed="$seed" "${sets[@]}" "${extra[@]}" --json > "$out/$name.json" 2> "$out/$name.log"; then
    tail -n 1 "$out/$name.log" > "$out/$name.error"
    rm -f "$out/$name.json"
  fi
}
for seed in $seeds; do
  for model in $models; do
    train "$model-w200-s$seed" "$model" "$seed" max_length=200
    train "$model-w50-s$seed" "$model" "$seed" max_length=50
    train "$model-w50-genre-s$seed" "$model" "$seed" max_length=50 fold.key=category
    if [ -s "$out/$model-w200-s$seed.json" ]; then
      train "$model-w50-clusters-s$seed" "$model" "$seed" max_length=50 fold.key=cluster \
        fold.cluster_model="$(model_id "$out/$model-w200-s$seed.json")"
    fi
  done
done
python3 scripts/long-table.py "$out"
