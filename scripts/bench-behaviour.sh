#!/usr/bin/env bash
# Behaviour-aware input against id-only (release build): for each data set, a throwaway PLEAT_HOME with the
# log ingested with its event column; for each seed and each target (`buy`: target_events = [buy] under
# `seen = exclude`, where seen means bought; `all`: every event a target under `seen = include`), SASRec
# id-only (`behaviour.input = none`), for purchases also id-only reading purchases alone
# (`behaviour.input_events = [buy]`), behaviour-aware (`embedding`) and interleaved behaviour and item tokens
# (`interleaved`, queries asking for the target behaviour, or the most frequent one for `all`; `predicted`:
# the same with `behaviour.predict_behaviour`, queries naming none ask for the predicted one), trained with
# configs/amazon/sasrec.conf; then `pleat evaluate` ranks them with every baseline on the same users (paired tests).
# Data: `funnel` (`pleat synth --funnel`, 1,000 users, 1,000 items, seed 1) and `taobao`
# (../shared/data/taobao-head: pv, cart, fav, buy). Prints a Markdown table (scripts/behaviour-table.py).
#
#   scripts/bench-behaviour.sh [--data "funnel taobao"] [--targets "buy all"] [--seeds N] [--first-seed S]
#                              [--inputs "none purchases embedding interleaved predicted"] [--out DIR] [--set key=value ...]
#
# --set applies to every run (e.g. --set learning_rate=0.003); runs go to --out (default
# .build/behaviour/DATE-TIME). The BLAS kernel is the machine's unless OPENBLAS_CORETYPE says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=3 first=1 data="funnel taobao" targets="buy all" out="" extra=() only=""
while [ $# -gt 0 ]; do
  case $1 in
    --seeds) seeds=$2; shift 2 ;;
    --first-seed) first=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --inputs) only=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --set) extra+=(--set "$2"); shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
shared=${PLEAT_SHARED_DATA:-../shared/data}
source scripts/lib/bench-start.sh
bench_start behaviour
$pleat doctor --json > "$out/doctor.json"

source scripts/lib/shared-data.sh
ingest() {
  case $1 in
    funnel) $pleat synth --funnel --users 1000 --items 1000 --median-events 40 --seed 1 -o "$work/funnel.csv" >/dev/null
            $pleat ingest "$work/funnel.csv" --format csv --event-col event_type --json ;;
    taobao) ingest_shared taobao ;;
    *) echo "unknown data set $1 (funnel, taobao)" >&2; exit 2 ;;
  esac
}

for d in $data; do
  psql -q "$url" -c "CREATE DATABASE $d"
  export PLEAT_DATABASE_URL=${url/\/\/\/pleat?/\/\/\/$d?}
  $pleat db migrate >/dev/null
  ingest "$d" > "$out/$d-ingest.json"
  for target in $targets; do
    case $target in
      buy) rule=(--set 'target_events=[buy]' --set seen=exclude); seen=exclude; inputs="none purchases embedding interleaved" ;;
      all) rule=(--set seen=include); seen=include; inputs="none purchases embedding interleaved predicted" ;;
      *) echo "unknown target $target (buy, all)" >&2; exit 2 ;;
    esac
    # --inputs keeps those of the target's inputs it names (purchases alone only make sense for `buy`).
    if [ -n "$only" ]; then inputs=$(for i in $inputs; do if [[ " $only " == *" $i "* ]]; then echo "$i"; fi; done | xargs); fi
    for s in $(seq "$first" $((first + seeds - 1))); do
      ids=()
      for input in $inputs; do
        echo "[$(date +%T)] $d target $target, input $input, seed $s" >&2
        run=$d-$target-$input-$s
        case $input in
          purchases) reads=(--set behaviour.input=none --set 'behaviour.input_events=[buy]') ;;
          predicted) reads=(--set behaviour.input=interleaved --set behaviour.predict_behaviour=true) ;;
          *) reads=(--set behaviour.input=$input) ;;
        esac
        $pleat train --config configs/amazon/sasrec.conf --set seed="$s" "${rule[@]}" "${reads[@]}" \
          ${extra[@]+"${extra[@]}"} --artifacts "$work/models" --json 2> "$out/$run.log" | tail -1 > "$out/$run.json"
        ids+=("$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["model_id"])' "$out/$run.json")")
      done
      $pleat evaluate --models "$(IFS=,; echo "${ids[*]}")" --seen $seen --json 2> "$out/$d-$target-evaluate-$s.log" \
        | tail -1 > "$out/$d-$target-evaluate-$s.json"
    done
  done
done
python3 scripts/behaviour-table.py "$out"
