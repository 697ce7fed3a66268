#!/usr/bin/env bash
# Serving benchmark with wrk (Debian's package) on loopback: cache hits of random users of a scored
# synthetic log (5,000 users, 2,000 items, SASRec), at saturation (8 connections, no pause) and at about
# 2,000 requests/s (12 connections, each pausing 5 ms: wrk's pauses run a little long, so this gives
# about 2,100-2,200 against a server answering in under 0.5 ms; the rate reached is reported), ROUNDS
# rounds (default 5). With two or more pleat
# binaries it alternates them round by round (A B A B …) on the same database and cache, and gives each
# one's median ratio to the first with min and max.
#
#   scripts/bench-serve.sh [PLEAT_BINARY …]     (default: this checkout's release build)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }
if [ $# -eq 0 ]; then scripts/build-release.sh >/dev/null; set -- "$PWD/.build/release/pleat"; fi
pleat=$1 rounds=${ROUNDS:-5} seconds=${SECONDS_PER_RUN:-10}
source scripts/lib/serving-fixture.sh
serving_fixture "$pleat" serve
cat > "$work/hits.lua" <<'LUA'
-- Random users of u1…u5000, all with a cached list. PAUSE_MS between a connection's requests (0: none).
math.randomseed(7)
local pause = tonumber(os.getenv("PAUSE_MS") or "0")
request = function() return wrk.format("GET", "/v1/users/u" .. math.random(1, 5000) .. "/recommendations?k=10") end
if pause > 0 then delay = function() return pause end end
LUA
port=18182
run() {  # binary, label → one JSON line per load
  "$1" serve --port $port 2>"$work/serve.log" & server=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
  PAUSE_MS=0 wrk -t2 -c8 -d5s -s "$work/hits.lua" "http://127.0.0.1:$port" >/dev/null  # every user once: warm
  for load in saturation:8:0 rate2000:12:5; do
    IFS=: read -r name connections pause <<< "$load"
    PAUSE_MS=$pause wrk -t2 -c"$connections" -d${seconds}s --latency -s "$work/hits.lua" "http://127.0.0.1:$port" > "$work/wrk.txt"
    python3 - "$2" "$name" "$work/wrk.txt" <<'PY'
import json, re, sys
text = open(sys.argv[3]).read()
def ms(value):
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 1e-3, "ms": 1, "s": 1e3}[unit]
errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|connect|read|write|timeout)[: ]+(\d+)", text))
print(json.dumps({"binary": sys.argv[1], "load": sys.argv[2], "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
                  "p50_ms": ms(re.search(r"\s50%\s+(\S+)", text).group(1)), "p99_ms": ms(re.search(r"\s99%\s+(\S+)", text).group(1)),
                  "errors": errors}))
PY
  done
  kill $server; wait $server 2>/dev/null || true
}
: > "$work/runs.jsonl"
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  i=0; for binary in "$@"; do run "$binary" "$i" >> "$work/runs.jsonl"; i=$((i + 1)); done
done
$pleat doctor --json > "$work/doctor.json"
python3 - "$work/runs.jsonl" "$work/doctor.json" "$@" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
doctor = json.load(open(sys.argv[2]))
binaries = sys.argv[3:]
print(f"CPU: {doctor['cpu']['model_name']} ({doctor['cpu']['vendor']} family {doctor['cpu']['family']} model {doctor['cpu']['model']}); "
      f"{len(runs) // (2 * len(binaries))} alternating rounds")
print("| binary | load | requests/s, median (min-max) | p50 ms | p99 ms, median (max) | errors | requests/s ratio to the first, median (min-max) |")
print("|---|---|---|---|---|---|---|")
for load in ("saturation", "rate2000"):
    base = [r["rps"] for r in runs if r["binary"] == "0" and r["load"] == load]
    for i, name in enumerate(binaries):
        mine = [r for r in runs if r["binary"] == str(i) and r["load"] == load]
        rps = [r["rps"] for r in mine]
        ratios = [a / b for a, b in zip(rps, base)]
        print(f"| {name} | {load} | {statistics.median(rps):,.0f} ({min(rps):,.0f}-{max(rps):,.0f}) | "
              f"{statistics.median(r['p50_ms'] for r in mine):.3f} | {statistics.median(r['p99_ms'] for r in mine):.3f} "
              f"({max(r['p99_ms'] for r in mine):.3f}) | {sum(r['errors'] for r in mine)} | "
              + (f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}-{max(ratios):.2f})" if i else "") + " |")
PY
