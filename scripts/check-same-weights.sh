#!/usr/bin/env bash
# Behaviour unchanged: trains each model on MovieLens-100K for a few epochs (seed 1) with this checkout's
# release binary and with REV's (built in a temporary worktree), each in a scratch database of its own,
# and compares the SHA-256 of the weights. Meant for refactors: equal hashes mean equal arithmetic, step
# for step. Both run on this machine with the same BLAS kernel and thread count, which the hashes
# depend on (docs/benchmarks/ says which kernels give which sums).
#
#   scripts/check-same-weights.sh REV [--models "sasrec hstu"] [--epochs 4]
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 REV [--models \"sasrec hstu\"] [--epochs N]" >&2; exit 2; }
rev=$(git rev-parse --verify "$1^{commit}"); shift
models="sasrec hstu" epochs=4
while [ $# -gt 0 ]; do
  case $1 in
    --models) models=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
data=${PLEAT_SHARED_DATA:-../shared/data}/ml-100k
scratch=$(mktemp -d /tmp/pleat-same-weights-XXXXXX)
trap 'git worktree remove --force "$scratch/before" 2>/dev/null || true; rm -rf "$scratch"' EXIT

scripts/setup.sh
scripts/build-release.sh >/dev/null
cp .build/release/pleat "$scratch/pleat-after"
# REV's build reuses this checkout's dependencies (copied, so neither build disturbs the other).
git worktree add --detach "$scratch/before" "$rev" >/dev/null
cp -a .build "$scratch/before/.build"
rm -rf "$scratch"/before/.build/*/*/ModuleCache  # the compiler's module cache names its own path
(cd "$scratch/before" && scripts/build-release.sh > "$scratch/build.log" 2>&1) || { tail -30 "$scratch/build.log" >&2; exit 1; }
cp "$scratch/before/.build/release/pleat" "$scratch/pleat-before"

# Prints "MODEL SHA-256" for each model trained by the binary $1.
weights() (
  pleat=$1
  source scripts/lib/scratch-database.sh
  scratch_database same-weights
  $pleat db migrate >/dev/null
  $pleat ingest "$data/ml-100k.inter" --format recbole --items "$data/ml-100k.item" >/dev/null || [ $? -eq 3 ]  # 3: some rows rejected
  for m in $models; do
    $pleat train --model "$m" --set epochs="$epochs" --set seed=1 --artifacts "$work/models" --json 2>/dev/null | tail -1 |
      python3 -c 'import json, sys; print(sys.argv[1], json.load(sys.stdin)["artifact_sha256"])' "$m"
  done
)

echo "ML-100K, $epochs epochs, seed 1; $(lscpu | sed -n 's/^Model name: *//p'); before = ${rev:0:7}, after = $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' + uncommitted changes')"
before=$(weights "$scratch/pleat-before") after=$(weights "$scratch/pleat-after")
status=0
for m in $models; do
  b=$(awk -v m="$m" '$1 == m { print $2 }' <<< "$before") a=$(awk -v m="$m" '$1 == m { print $2 }' <<< "$after")
  if [ -n "$b" ] && [ "$b" = "$a" ]; then echo "$m: same weights ($a)"; else echo "$m: DIFFERENT weights (before $b, after $a)"; status=1; fi
done
exit $status
