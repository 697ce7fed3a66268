#!/usr/bin/env bash
# Sets up and runs every test. The suite starts its own throwaway PostgreSQL (a private cluster on a
# Unix socket under /tmp) and removes it when it exits; it never touches a user's database.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
swift build --build-tests
swift test --disable-swift-testing
