#!/usr/bin/env bash
# Quality and speed on MovieLens-100K (../shared/data/ml-100k): ingests it into a private PostgreSQL,
# trains each model with its defaults (leave-one-out, full ranking, seen items filtered, early stopping
# on validation NDCG@10) and prints a Markdown table to compare with shared/bench/README.md.
# Usage: scripts/bench-ml100k.sh [model ...]   (default: sasrec bert4rec hstu); extra settings via
# PLEAT_TRAIN_ARGS, e.g. PLEAT_TRAIN_ARGS="--set seed=1".
set -euo pipefail
cd "$(dirname "$0")/.."
models=${*:-sasrec bert4rec hstu}
data=../shared/data/ml-100k
scripts/build-release.sh >/dev/null
pleat=$PWD/.build/release/pleat
export PLEAT_HOME=${PLEAT_HOME:-/tmp/pleat-bench-ml100k}
$pleat db start >/dev/null
$pleat db migrate >/dev/null
$pleat ingest "$data/ml-100k.inter" --format recbole --items "$data/ml-100k.item" >/dev/null || [ $? -eq 3 ]

results=()
for model in $models; do
  results+=("$($pleat train --model "$model" ${PLEAT_TRAIN_ARGS:-} --json | tail -1)")
done
python3 - "${results[@]}" <<'PY'
import json, sys
print("| model | test HR@10 | test NDCG@10 | test MRR | valid NDCG@10 | best epoch | epochs | s to best epoch | wall s |")
print("|---|---|---|---|---|---|---|---|---|")
for line in sys.argv[1:]:
    r = json.loads(line)
    t = r["test"]
    print(f"| {r['model']} | {t['hr@10']:.4f} | {t['ndcg@10']:.4f} | {t['mrr']:.4f} | {r['valid']['ndcg@10']:.4f} | "
          f"{r['best_epoch']} | {r['epochs']} | {r['seconds_to_best']:.0f} | {r['seconds']:.0f} |")
PY
