#!/usr/bin/env bash
# Replays a timestamped log period by period, as a nightly job lives it (release build): the log is cut
# into a burn-in and the periods after it (scripts/replay-periods.py), the burn-in ingested, then for each
# period, with only the data before it in the database, each model is trained three ways:
#   full  a full retrain on everything before the period (`pleat train`, the model's defaults),
#   warm  a warm start from the previous period's warm model (`pleat train --warm-start`, warm_start.*),
#   none  no retrain: the burn-in model, as served if nothing is ever retrained;
# then the period is ingested (its own ingest batch) and `pleat evaluate --after START` ranks every event
# of the period (of the users with an event before it), each from every event before it as live scoring
# would, with the three, on the same targets, under the models' seen-items rule. In the first period the three are the same model (warm starts begin with
# the second). Prints a Markdown table and writes OUT/replay.svg (scripts/replay-table.py).
#
#   scripts/bench-replay.sh DATA --period day|week [--models "sasrec hstu"] [--periods N] [--burn-in-share 0.5]
#                           [--out DIR] [--set key=value ...] [--full-from DIR]
#
# --full-from DIR takes the full retrains of the periods after the first from an earlier run into DIR
# with the same data, periods and settings (full retrains are deterministic, so they would repeat it):
# their training records and next-period metrics are copied, and only the first period's model, the
# warm starts and the evaluation of warm and none run again. For comparing warm-start settings.
#
# DATA: ml-100k (../shared/data/ml-100k, genres as item categories), taobao (../shared/data/taobao-head,
# every behaviour an event, categories from the log), or a CSV file of your own with a header naming
# user_id, item_id and timestamp (Unix seconds) columns. --set applies to every training run (the warm
# starts inherit it from their parent). Runs go to --out (default .build/replay/NAME-DATE-TIME).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 DATA --period day|week [options] (see the header)" >&2; exit 2; }
data=$1; shift
period="" models="sasrec hstu" periods=0 share=0.5 out="" extra=() full_from=""
while [ $# -gt 0 ]; do
  case $1 in
    --period) period=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --periods) periods=$2; shift 2 ;;
    --burn-in-share) share=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --set) extra+=(--set "$2"); shift 2 ;;
    --full-from) full_from=$(readlink -f "$2"); shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
case $period in day|week) ;; *) echo "--period day or week" >&2; exit 2 ;; esac
shared=${PLEAT_SHARED_DATA:-../shared/data}
out=${out:-.build/replay/$(basename "$data" .csv)-$(date +%Y%m%d-%H%M%S)}
source scripts/lib/bench-start.sh
bench_start replay
$pleat db migrate >/dev/null

case $data in
  ml-100k)
    log=$shared/ml-100k/ml-100k.inter
    python3 scripts/replay-periods.py "$log" "$period" "$out/periods" --burn-in-share "$share" --periods "$periods"
    ingest() { $pleat ingest "$1" --format recbole ${2:+--items "$2"} --json; }
    items=$shared/ml-100k/ml-100k.item ext=inter ;;
  taobao)
    log=$shared/taobao-head/events.csv
    python3 scripts/replay-periods.py "$log" "$period" "$out/periods" --burn-in-share "$share" --periods "$periods" \
      --items-out "$out/periods/items.csv" --category-col category_id
    ingest() { $pleat ingest "$1" --format csv --user-col user_id --item-col item_id --time-col timestamp \
                 --event-col behavior_type ${2:+--items "$2"} --json; }
    items=$out/periods/items.csv ext=csv
    extra=(--set seen=include "${extra[@]}") ;;
  *)
    [ -f "$data" ] || { echo "DATA: ml-100k, taobao or a CSV file ($data is none)" >&2; exit 2; }
    log=$(readlink -f "$data")
    python3 scripts/replay-periods.py "$log" "$period" "$out/periods" --burn-in-share "$share" --periods "$periods"
    ingest() { $pleat ingest "$1" --format csv --user-col user_id --item-col item_id --time-col timestamp --json; }
    items="" ext=csv ;;
esac
# The catalogue (item metadata) is known from the start; events arrive period by period.
ingest "$out/periods/burn-in.$ext" ${items:+"$items"} > "$out/ingest-burn-in.json"

lscpu | grep -E '^Model name|^CPU\(s\)' > "$out/cpu.txt"
$pleat doctor --json > "$out/doctor.json" 2>/dev/null || true
git rev-parse --short HEAD > "$out/commit.txt"
starts=$(python3 -c 'import json,sys; print(" ".join(str(p["start"]) for p in json.load(open(sys.argv[1]))["periods"]))' "$out/periods/periods.json")
# The model id on the last line of a `pleat train --json` output file.
model_id() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["model_id"])' "$1"; }
declare -A warm none
n=0
for start in $starts; do
  n=$((n + 1)); name=$(printf 'period-%02d' "$n")
  for model in $models; do
    echo "== $name ($(date -u -d "@$start" +%F)): $model" >&2
    if [ -n "$full_from" ] && [ "$n" -gt 1 ]; then
      # The earlier run's full retrain: its record, and its metrics from that run's evaluation.
      cp "$full_from/$name-$model-full.json" "$out/$name-$model-full.json"
      cp "$full_from/$name-$model-eval.json" "$out/$name-$model-eval-full.json"
    else
      $pleat train --model "$model" "${extra[@]}" --json > "$out/$name-$model-full.json"
    fi
    full=$(model_id "$out/$name-$model-full.json")
    if [ "$n" -eq 1 ]; then
      warm[$model]=$full none[$model]=$full
      cp "$out/$name-$model-full.json" "$out/$name-$model-warm.json"
    else
      $pleat train --warm-start "${warm[$model]}" --json > "$out/$name-$model-warm.json"
      warm[$model]=$(model_id "$out/$name-$model-warm.json")
    fi
    echo "{\"full\": \"$full\", \"warm\": \"${warm[$model]}\", \"none\": \"${none[$model]}\"}" > "$out/$name-$model-ids.json"
  done
  ingest "$out/periods/$name.$ext" > "$out/ingest-$name.json"
  for model in $models; do
    # Every model of this database (a full retrain taken from --full-from is not in it).
    ids=$(python3 -c 'import json,sys; print(",".join(dict.fromkeys(v for k, v in json.load(open(sys.argv[1])).items() if not (k == "full" and sys.argv[2] and sys.argv[3] != "1"))))' \
      "$out/$name-$model-ids.json" "$full_from" "$n")
    $pleat evaluate --models "$ids" --after "$start" --baselines pop --report "$out/report-$name-$model" --json \
      > "$out/$name-$model-eval.json"
  done
done
python3 scripts/replay-table.py "$out"
