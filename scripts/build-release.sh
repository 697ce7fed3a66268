#!/usr/bin/env bash
# The release build every script uses: the `pleat` binary with the Swift runtime linked in, so it runs
# on a machine without the Swift toolchain (`ldd .build/release/pleat` lists only system libraries).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product pleat "$@"
