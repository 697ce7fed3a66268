#!/usr/bin/env bash
# The main job end to end on embedded demo data: setup, build, a private PostgreSQL under .pleat/,
# schema migrations, a synthetic interaction log with known structure, ingestion, a summary, and a
# trained, registered SASRec model whose top-100 lists are scored into the SQLite cache and served.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
swift build -c release
pleat=.build/release/pleat
export PLEAT_HOME="${PLEAT_HOME:-$PWD/.pleat}"
mkdir -p "$PLEAT_HOME/demo"

$pleat db start
$pleat db migrate
$pleat synth --output "$PLEAT_HOME/demo/interactions.csv" --users 2000 --items 2000 --categories 20 --seed 42
$pleat ingest "$PLEAT_HOME/demo/interactions.csv" --format csv --items "$PLEAT_HOME/demo/interactions.items.csv" \
  || [ $? -eq 3 ]   # 3: loaded with some rejected rows
$pleat stats
echo
# Train a sequence model on it (10 epochs of SASRec keep the demo around a minute) and list the registry.
$pleat train --model sasrec --set epochs=10
$pleat models list
echo
# Score every user into the recommendation cache and ask for one user's next items.
$pleat score
$pleat recommend --user u1 -k 5
echo
echo "Demo data is in PostgreSQL ($PLEAT_HOME/postgres), recommendations in $PLEAT_HOME/cache.sqlite."
echo "Serve them over HTTP with: $pleat serve --port 8080   (then GET /v1/users/u1/recommendations?k=10)"
echo "Stop the database with: $pleat db stop"
