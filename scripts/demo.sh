#!/usr/bin/env bash
# The main job end to end on embedded demo data: setup, a release build, and `pleat run
# pipelines/demo.yaml`, which starts a private PostgreSQL under .pleat/, applies the migrations,
# generates a synthetic interaction log with known structure, ingests it, trains and registers SASRec
# and HSTU, scores every user with the better one into the SQLite cache and writes an evaluation report
# against the baselines. Then one user's recommendations are read back.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build-release.sh
pleat=.build/release/pleat
export PLEAT_HOME="${PLEAT_HOME:-$PWD/.pleat}"

$pleat run pipelines/demo.yaml
echo
$pleat recommend --user u1 -k 5
echo
echo "Report: $PLEAT_HOME/reports/demo/latest/report.html (summary.md, metrics.json beside it; one directory per run)."
echo "Serve recommendations over HTTP with: $pleat serve --port 8080   (then GET /v1/users/u1/recommendations?k=10)"
echo "Stop the database with: $pleat db stop"
