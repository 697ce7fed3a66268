# Sourced by the serving benchmarks: `serving_fixture PLEAT NAME` makes a private $PLEAT_HOME
# (/tmp/pleat-NAME-XXXXXX; removed at exit, after stopping the server in $server if one runs and the
# database) holding a scored synthetic log: 5,000 users u1…u5000, 2,000 items, a 1-epoch SASRec whose
# lists serve (`--force`: a benchmark needs lists, not a good model). Sets $work, a scratch directory in it.
serving_fixture() {
  local pleat=$1
  export PLEAT_HOME
  PLEAT_HOME=$(mktemp -d "/tmp/pleat-$2-XXXXXX")
  unset DATABASE_URL PLEAT_DATABASE_URL
  work=$PLEAT_HOME/work; mkdir -p "$work"
  trap 'kill "${server:-0}" 2>/dev/null || true; '"$pleat"' db stop >/dev/null 2>&1 || true; rm -rf "$PLEAT_HOME"' EXIT
  $pleat db start >/dev/null && $pleat db migrate >/dev/null
  $pleat synth --users 5000 --items 2000 --categories 20 --median-events 40 --output "$work/log.csv" >/dev/null
  $pleat ingest "$work/log.csv" --format csv --items "$work/log.items.csv" >/dev/null
  $pleat train --model sasrec --set epochs=1 --set max_length=50 --json >/dev/null
  $pleat score --model latest --force --json >/dev/null
}
