#!/usr/bin/env bash
# Every stage at scale on one machine (release build, a private PostgreSQL of its own):
#
#   scripts/bench-scale.sh EVENTS [--users N] [--train-shards S] [--keep]
#
# 1. synth: N users (default 1,000,000) over 100,000 items; log-normal history lengths (median chosen so
#    the log has about EVENTS events) plus EVENTS/500,000 long users with 10,000-20,000 events each.
# 2. ingest: the CSV and its item file into PostgreSQL (time, rows/s, peak RSS).
# 3. history load: every user's history, as training and scoring read it (`pleat bench histories`).
# 4. training: one epoch of SASRec with its defaults over shard 0 of S (default: S = N / 20,000, so about
#    20,000 users; the shard function picks them), then the full epoch projected as S times that.
# 5. scoring: every user's top-100 into the SQLite cache (`pleat score`), and the cache's size.
#
# Prints a table and writes docs/scale/scale-EVENTS.json (kept in git: docs/benchmarks/scale-out.md's figures come from it;
# scripts/scale-table.py turns all of them into that page's table and docs/scale/scale.svg).
# The data lives in a scratch directory (about 40 bytes of CSV and 60 of database per event), removed at
# the end unless --keep.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n 2,18p "$0"; exit 2; }
events=$1; shift
users=1000000 shards=""
while [ $# -gt 0 ]; do
  case $1 in
    --users) users=$2; shift 2 ;;
    --train-shards) shards=$2; shift 2 ;;
    --keep) export KEEP_SCRATCH=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
shards=${shards:-$(( users / 20000 > 1 ? users / 20000 : 1 ))}
long_users=$(( events / 500000 ))
# Log-normal lengths (sigma 1) have mean median * e^0.5; the long users bring about 15,000 events each.
median=$(python3 -c "print(max(1, round(($events - $long_users * 15000) / $users / 1.6487)))")

scripts/setup.sh >/dev/null
scripts/build-release.sh >/dev/null
pleat=$PWD/.build/release/pleat
out=$PWD/docs/scale/scale-$events.json
mkdir -p docs/scale
source scripts/lib/scratch-database.sh
scratch_database scale
$pleat db migrate >/dev/null
$pleat doctor --json > "$work/doctor.json"

# stage NAME COMMAND...: runs it under GNU time; keeps the last stdout line (JSON) and the peak RSS.
stage() {
  local name=$1; shift
  echo "[$(date +%T)] $name" >&2
  local start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/$name.rss" "$@" > "$work/$name.out"
  python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)" > "$work/$name.wall"
}

stage synth $pleat synth --output "$work/log.csv" --users "$users" --items 100000 --median-events "$median" \
  --min-events 1 --max-events 20000 --long-users "$long_users" --json
stage ingest $pleat ingest "$work/log.csv" --format csv --items "$work/log.items.csv" --json
psql -qAt "$($pleat db url)" -c "SELECT pg_database_size(current_database())" > "$work/database.bytes"
stage histories $pleat bench histories --json
stage train $pleat train --model sasrec --set epochs=1 --set shard=0/$shards --artifacts "$work/models" --json
model=$(tail -1 "$work/train.out" | python3 -c "import json, sys; print(json.load(sys.stdin)['model_id'])")
stage score $pleat score --model "$model" --cache "$work/cache.sqlite" --json
du -cb "$work"/cache.sqlite* | tail -1 | cut -f1 > "$work/cache.bytes"

python3 - "$work" "$events" "$shards" "$out" <<'PY'
import json, os, sys
work, target, shards, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def last(name): return json.loads(open(f"{work}/{name}.out").read().strip().splitlines()[-1])
def rss(name): return int(open(f"{work}/{name}.rss").read().split()[-1]) / 1024  # MB
def wall(name): return float(open(f"{work}/{name}.wall").read())
doctor = json.load(open(f"{work}/doctor.json"))
synth, ingest, hist, train, score = (last(n) for n in ("synth", "ingest", "histories", "train", "score"))
epoch = train["history"][0]
r = {
    "target_events": target, "events": synth["events"], "users": synth["users"], "items": synth["items"],
    "cpu": f'{doctor["cpu"]["model_name"]} (family {doctor["cpu"]["family"]} model {doctor["cpu"]["model"]})', "cores": os.cpu_count(), "blas_kernel": doctor["blas"]["kernel"],
    "synth": {"seconds": wall("synth"), "peak_rss_mb": rss("synth")},
    "ingest": {"seconds": ingest["seconds"], "rows_per_s": ingest["rows_loaded"] / ingest["seconds"], "rows": ingest["rows_loaded"],
               "peak_rss_mb": rss("ingest"), "database_bytes": int(open(f"{work}/database.bytes").read())},
    "histories": {"seconds": hist["seconds"], "events_per_s": hist["events_per_s"], "readers": hist["readers"],
                  "peak_rss_mb": rss("histories")},
    "train": {"shard": f"0/{shards}", "users": train["users"], "events": train["events"], "epoch_seconds": epoch["seconds"],
              "sequences_per_s": epoch["sequences_per_second"], "projected_full_epoch_s": epoch["seconds"] * shards,
              "load_seconds": train.get("load_seconds"), "run_seconds": train["seconds"], "peak_rss_mb": rss("train"),
              "items_in_model": train["items"], "valid_ndcg10": train["valid"]["ndcg@10"]},
    "score": {"users": score["users"], "seconds": score["seconds"], "users_per_s": score["users_per_s"],
              "model_seconds": score["model_seconds"], "peak_rss_mb": rss("score"), "cache_bytes": int(open(f"{work}/cache.bytes").read())},
}
json.dump(r, open(out, "w"), indent=1)
print(f"{r['events']:,} events, {r['users']:,} users, {r['items']:,} items; {r['cpu']} ({r['cores']} cores), BLAS {r['blas_kernel']}")
print("| stage | seconds | rate | peak RSS MB |")
print("|---|---|---|---|")
print(f"| synth (CSV) | {r['synth']['seconds']:.0f} | | {r['synth']['peak_rss_mb']:.0f} |")
print(f"| ingest | {r['ingest']['seconds']:.0f} | {r['ingest']['rows_per_s']:,.0f} rows/s | {r['ingest']['peak_rss_mb']:.0f} |")
print(f"| history load | {r['histories']['seconds']:.1f} | {r['histories']['events_per_s']:,.0f} events/s | {r['histories']['peak_rss_mb']:.0f} |")
t = r["train"]
print(f"| train, 1 epoch of shard {t['shard']} ({t['users']:,} users) | {t['epoch_seconds']:.0f} (full epoch {t['projected_full_epoch_s']:,.0f}) | {t['sequences_per_s']:.0f} seq/s | {t['peak_rss_mb']:.0f} |")
s = r["score"]
print(f"| score every user | {s['seconds']:.0f} | {s['users_per_s']:,.0f} users/s | {s['peak_rss_mb']:.0f} |")
print(f"database {r['ingest']['database_bytes'] / 2**30:.2f} GiB, cache {s['cache_bytes'] / 2**30:.2f} GiB; wrote {out}")
PY
