#!/usr/bin/env bash
# Training-step benchmark: Pleat (`pleat bench train-step`) against the PyTorch reference
# (shared/bench/torch_step.py) on the same presets, in alternating pairs (Pleat, PyTorch, Pleat, …), so
# that the 2-4x drift of a shared machine hits both alike. Prints, per preset, the median of the per-pair
# ratios Pleat/PyTorch with their min and max, each side's median ms, and the CPU and BLAS kernel.
#
#   scripts/bench-train-step.sh [--pairs N] [PRESET ...]      (default: 5 pairs, all three presets)
#
# PyTorch comes from $TORCH_PYTHON (default /tmp/torch-ref/bin/python; shared/bench/README.md says how
# to install it outside the repository), run with tcmalloc as the reference README prescribes.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=5
if [ "${1:-}" = "--pairs" ]; then pairs=$2; shift 2; fi
presets=${*:-sasrec-full hstu sasrec-sampled}
torch_python=${TORCH_PYTHON:-/tmp/torch-ref/bin/python}
bench=../shared/bench/torch_step.py

scripts/build-release.sh >/dev/null
[ -x "$torch_python" ] || { echo "no PyTorch at $torch_python (set TORCH_PYTHON)" >&2; exit 1; }
tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
[ -e "$tcmalloc" ] || tcmalloc=""
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
.build/release/pleat doctor --json > "$out/doctor.json"

for preset in $presets; do
  for i in $(seq "$pairs"); do
    echo "$preset pair $i/$pairs" >&2
    .build/release/pleat bench train-step --preset "$preset" --json | tail -1 >> "$out/$preset.pleat"
    LD_PRELOAD=$tcmalloc "$torch_python" "$bench" --preset "$preset" --json | tail -1 >> "$out/$preset.torch"
  done
done

python3 - "$out" $presets <<'PY'
import json, statistics, sys
out, presets = sys.argv[1], sys.argv[2:]
doctor = json.load(open(f"{out}/doctor.json"))
cpu, blas = doctor["cpu"], doctor["blas"]
print(f"CPU: {cpu['model_name']} ({cpu['vendor']} family {cpu['family']} model {cpu['model']}, {cpu['vector_level']}); "
      f"BLAS kernel {blas['kernel']} (OpenBLAS picked {blas['picked_kernel']})")
print()
print("| preset | pairs | Pleat / PyTorch, median (min-max) | Pleat ms median | PyTorch ms median | Pleat sgemm peak GFLOP/s |")
print("|---|---|---|---|---|---|")
for preset in presets:
    p = [json.loads(l) for l in open(f"{out}/{preset}.pleat")]
    t = [json.loads(l) for l in open(f"{out}/{preset}.torch")]
    ratios = [a["median_ms"] / b["median_ms"] for a, b in zip(p, t)]
    busy = max(b.get("foreign_cpu_frac", 0) for b in t)
    note = f" (other load up to {busy:.2f} of the machine)" if busy > 0.1 else ""
    print(f"| {preset} | {len(ratios)} | {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}){note} | "
          f"{statistics.median(a['median_ms'] for a in p):.0f} | {statistics.median(b['median_ms'] for b in t):.0f} | "
          f"{statistics.median(a['sgemm_peak_gflops'] for a in p):.0f} |")
PY
