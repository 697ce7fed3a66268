#!/usr/bin/env bash
# Training-step benchmark: Pleat and the PyTorch reference (shared/bench/torch_step.py) on the same
# preset, one right after the other, and their ratio. Needs PyTorch in $TORCH_PYTHON (default
# /tmp/torch-ref/bin/python; see shared/bench/README.md for installing it outside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
torch_python=${TORCH_PYTHON:-/tmp/torch-ref/bin/python}
bench=../shared/bench/torch_step.py
presets=${*:-sasrec-full}

swift build -c release >/dev/null
[ -x "$torch_python" ] || { echo "no PyTorch at $torch_python (set TORCH_PYTHON)" >&2; exit 1; }
tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
[ -e "$tcmalloc" ] || tcmalloc=""

echo "| preset | Pleat ms | PyTorch ms | Pleat / PyTorch | Pleat GFLOP/s | PyTorch GFLOP/s | sgemm peak GFLOP/s |"
echo "|---|---|---|---|---|---|---|"
for preset in $presets; do
  pleat=$(.build/release/pleat bench train-step --preset "$preset" --json | tail -1)
  torch=$(LD_PRELOAD=$tcmalloc "$torch_python" "$bench" --preset "$preset" --json | tail -1)
  python3 - "$pleat" "$torch" <<'PY'
import json, sys
p, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
if t.get("foreign_cpu_frac", 0) > 0.1:
    print(f"warning: {t['foreign_cpu_frac']:.2f} of the machine was busy during the PyTorch run", file=sys.stderr)
print(f"| {p['preset']} | {p['median_ms']:.1f} | {t['median_ms']:.1f} | {p['median_ms'] / t['median_ms']:.2f} | "
      f"{p['gflops']:.1f} | {t['gflops']:.1f} | {p['sgemm_peak_gflops']:.1f} |")
PY
done
