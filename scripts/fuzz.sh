#!/usr/bin/env bash
# Fuzzes every ingest parser with libFuzzer (AddressSanitizer on), SECONDS each (default 60):
#
#   scripts/fuzz.sh [SECONDS] [TARGET ...]     targets: csv tsv jsonl movielens recbole pairs sequences items
#
# Each target checks that every non-blank record gives exactly one event or one rejection (sequences:
# its events, or one rejection) with its line number, that records cover every non-blank line, that no
# event breaks the ingest limits, and that nothing traps (Sources/pleat-fuzz/ParserCheck.swift). Seeds come from Tests/Fuzz/corpus/TARGET; what
# the fuzzer finds goes to .build-fuzz/corpus/TARGET, and a failing input to .build-fuzz/crash-*.
# Prints executions per target; exits non-zero on the first crash, hang or broken accounting.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=${*:-csv tsv jsonl movielens recbole pairs sequences items}

scripts/setup.sh
swift build -c release --scratch-path .build-fuzz --product pleat-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DPLEAT_LIBFUZZER >/dev/null
fuzzer=.build-fuzz/release/pleat-fuzz

echo "| target | seconds | executions | executions/s | new inputs | peak RSS MB |"
echo "|---|---|---|---|---|---|"
for target in $targets; do
  corpus=.build-fuzz/corpus/$target
  mkdir -p "$corpus"
  log=.build-fuzz/$target.log
  if ! PLEAT_FUZZ_TARGET=$target "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -print_final_stats=1 -artifact_prefix=.build-fuzz/ "$corpus" "Tests/Fuzz/corpus/$target" >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz target $target failed: see $log and the crash-* input in .build-fuzz/" >&2
    exit 1
  fi
  stat() { grep -m1 "stat::$1" "$log" | awk '{print $2}'; }
  echo "| $target | $seconds | $(stat number_of_executed_units) | $(stat average_exec_per_sec) | $(stat new_units_added) | $(stat peak_rss_mb) |"
done
