#!/usr/bin/env bash
# Sets up and runs every test. The suite starts its own throwaway PostgreSQL (a private cluster on a
# Unix socket under /tmp) and removes it when it exits; it never touches a user's database.
#
# The numeric tests run twice: with the BLAS kernel Pleat picks for this CPU (or the one forced with
# PLEAT_BLAS_KERNEL), and again with another kernel forced and the row kernels 8 lanes wide
# (PLEAT_VECTOR_WIDTH=8), so that a test that holds on one kernel's summation order, or on one vector
# width, only fails here rather than on a user's machine.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
python3 scripts/check-imports.py
python3 scripts/check-sql.py
# The builds' and tests' temporary files (and those of the processes the tests start) go to a directory
# of their own, removed at exit; after the tests it must hold nothing of Pleat's: a test or a killed
# process that leaves files behind fails here.
temporary=$(mktemp -d /tmp/pleat-tests-XXXXXX)
trap 'rm -rf "$temporary"' EXIT
export TMPDIR=$temporary

swift build --build-tests
# The release binary as it is shipped (Swift runtime linked in): a test runs it outside the checkout.
scripts/build-release.sh

kernel_line() {
  .build/debug/pleat doctor --json | python3 -c 'import json, sys
r = json.load(sys.stdin)
cpu, blas = r["cpu"], r["blas"]
print("CPU: %s (family %s model %s, %s); BLAS kernel: %s (OpenBLAS picked %s); sgemm %.0f GFLOP/s per core" % (
      cpu["model_name"], cpu["family"], cpu["model"], cpu["vector_level"], blas["kernel"], blas["picked_kernel"], r["sgemm"]["gflops"]))'
}
# What the builds left there (SwiftPM's and the compiler's own files) is not the tests' doing.
built=$(ls -A "$temporary")

echo "== tests, $(kernel_line)"
swift test --disable-swift-testing

other=generic
case "$(echo "${PLEAT_BLAS_KERNEL:-auto}" | tr '[:upper:]' '[:lower:]')" in generic|prescott) other=Haswell ;; esac
# The second pass also keeps the row kernels 8 lanes wide, so on an AVX-512 CPU both widths are tested.
export PLEAT_BLAS_KERNEL=$other PLEAT_VECTOR_WIDTH=8
echo "== numeric tests again, $(kernel_line), row kernels 8 lanes wide"
swift test --disable-swift-testing --skip-build --filter 'PleatTensorTests|PleatEncodersTests|PleatModelTests|PleatTrainingTests'
unset PLEAT_BLAS_KERNEL PLEAT_VECTOR_WIDTH

unset TMPDIR
# SwiftPM itself leaves its lock files and build directories there (*.lock, TemporaryDirectory.*).
left=$(ls -A "$temporary" | grep -v -x -F -e "$built" | grep -v -e '\.lock$' -e '^TemporaryDirectory\.' || true)
if [ -n "$left" ]; then
  echo "the tests left temporary files behind in $temporary:" >&2
  echo "$left" >&2
  exit 1
fi

# The benchmarks' scratch database goes with them, whatever they pointed PLEAT_DATABASE_URL at.
scripts/lib/scratch-database-test.sh

# Every ingest parser under libFuzzer for 10 s (scripts/fuzz.sh SECONDS runs them longer).
echo "== fuzzing the ingest parsers, 10 s each"
scripts/fuzz.sh 10
