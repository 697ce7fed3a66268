#!/usr/bin/env bash
# Same-session reference for the training-speed claim: RecBole 1.2.1 SASRec (its defaults: d=64, 2 layers,
# 2 heads, max_len 50, batch 2048, CE) on MovieLens-100K for EPOCHS (default 5) epochs. Needs a Python
# with torch and recbole, outside the repository, e.g.
#   python3 -m venv /tmp/torch-ref && /tmp/torch-ref/bin/pip install torch recbole==1.2.1 'numpy<2' 'pandas<2.2' 'scipy<1.14' 'setuptools<70'
# Prints RecBole's log (per-epoch training time and validation NDCG@10) and a JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${TORCH_PYTHON:-/tmp/torch-ref/bin/python}
tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
[ -e "$tcmalloc" ] || tcmalloc=""
data=$(cd ../shared/data && pwd)
cd /tmp && LD_PRELOAD=$tcmalloc "$python" "$OLDPWD/scripts/reference/recbole_run.py" "${MODEL:-SASRec}" "$data" "${EPOCHS:-5}"
