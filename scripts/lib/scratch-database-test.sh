#!/usr/bin/env bash
# Checks scripts/lib/scratch-database.sh: a script that sources it, starts its scratch PostgreSQL and then
# points PLEAT_DATABASE_URL elsewhere (as bench-quality.sh does, one database per data set) must leave no
# server running and none of the cluster's files behind when it exits. Needs .build/release/pleat.
set -euo pipefail
cd "$(dirname "$0")/../.."
pleat=$PWD/.build/release/pleat
record=$(mktemp) killed_stderr=$(mktemp)
trap 'rm -f "$record" "$killed_stderr"' EXIT
fail() { echo "scratch-database: $*" >&2; [ ! -s "$killed_stderr" ] || cat "$killed_stderr" >&2; exit 1; }
(
  source scripts/lib/scratch-database.sh
  scratch_database leak-check
  data=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["data_directory"])' "$work/postgres/cluster.json")
  echo "$work $data" > "$record"
  pgrep -f -- "-D $data" >/dev/null || fail "no server running on $data after the start"
  export PLEAT_DATABASE_URL="postgresql:///elsewhere?host=/nonexistent"
)
read -r work data < "$record"
[ -n "$data" ] || fail "the cluster's layout was not recorded"
if pgrep -f -- "-D $data" >/dev/null; then
  pkill -f -- "-D $data" || true
  fail "the server on $data outlived the script"
fi
[ ! -e "$data" ] || fail "$data was left behind"
[ ! -e "$work" ] || fail "$work was left behind"
echo "scratch-database: the server stopped and its files went, though the caller had changed PLEAT_DATABASE_URL"

# Stopped by `kill PID` while it waits on a command that writes into the scratch directory later (as a
# training run writes checkpoints), the script ends that command before removing the directory. Its
# stderr (bash reports the ended command as "Terminated") is shown only if the check fails.
: > "$record"
(
  source scripts/lib/scratch-database.sh
  scratch_database kill-check
  echo "$work" > "$record"
  python3 -c 'import os, sys, time; time.sleep(4); os.makedirs(sys.argv[1] + "/models/late")' "$work"
) 2>"$killed_stderr" &
script=$!
for _ in $(seq 100); do [ -s "$record" ] && break; sleep 0.2; done
read -r work < "$record" || fail "the killed script's directory was not recorded"
sleep 0.5
kill -TERM "$script"
{ wait "$script"; } 2>/dev/null || true
sleep 5
[ ! -e "$work" ] || fail "$work was written to after the script was killed"
! pgrep -f -- "$work" >/dev/null || fail "a command of the killed script outlived it"
echo "scratch-database: killed mid-command, the script ended its command and left nothing behind"
