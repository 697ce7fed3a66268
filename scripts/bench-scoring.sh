#!/usr/bin/env bash
# Scoring benchmark (issue 6): batch scoring throughput of a d=64 HSTU (max_len 200) over 10,000
# synthetic users and 3,500 items, beside the PyTorch reference inference (shared/bench/torch_step.py
# --infer-users); in-process recommend latency (cache hits, and live scoring of ~200-event histories);
# and HTTP latency under wrk for 30 s on loopback at about 2,000 requests/s. Release build.
# PyTorch comes from $TORCH_PYTHON (default /tmp/torch-ref/bin/python); without it that row is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }
scripts/build-release.sh >/dev/null
pleat=$PWD/.build/release/pleat
export PLEAT_HOME=${PLEAT_HOME:-/tmp/pleat-bench-scoring}
work=$PLEAT_HOME/bench; mkdir -p "$work"
$pleat db start >/dev/null
$pleat db migrate >/dev/null

if [ "$($pleat models list --model hstu --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ]; then
  $pleat synth --users 10000 --items 3500 --categories 20 --min-events 200 --median-events 220 --max-events 300 \
    --output "$work/synthetic.csv" >/dev/null
  $pleat ingest "$work/synthetic.csv" --format csv --items "$work/synthetic.items.csv" >/dev/null
  # One epoch: throughput and latency do not depend on how well the model is trained.
  $pleat train --model hstu --set epochs=1 --set max_length=200 --json >/dev/null
fi

# Batch scoring against PyTorch's inference, in alternating pairs (PAIRS, default 5): the machine's
# drift hits both alike, and the ratio is taken pair by pair.
torch_python=${TORCH_PYTHON:-/tmp/torch-ref/bin/python}
tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4; [ -e "$tcmalloc" ] || tcmalloc=""
: > "$work/score.jsonl"; : > "$work/torch.jsonl"
for i in $(seq "${PAIRS:-5}"); do
  echo "scoring pair $i/${PAIRS:-5}" >&2
  $pleat score --model latest --batch 64 --json | tail -1 >> "$work/score.jsonl"
  if [ -x "$torch_python" ]; then
    LD_PRELOAD=$tcmalloc "$torch_python" ../shared/bench/torch_step.py --preset hstu --infer-users 10000 --json | tail -1 >> "$work/torch.jsonl"
  fi
done
$pleat doctor --json > "$work/doctor.json"
inproc=$($pleat bench recommend --json | tail -1)

port=18080
$pleat serve --port $port 2>"$work/serve.log" & server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
cat > "$work/wrk.lua" <<'LUA'
-- Random users u1…u10000; each connection waits 5 ms between requests (12 connections ≈ 2,000 requests/s).
math.randomseed(7)
request = function() return wrk.format("GET", "/v1/users/u" .. math.random(1, 10000) .. "/recommendations?k=10") end
delay = function() return 5 end
LUA
wrk -t2 -c12 -d30s --latency -s "$work/wrk.lua" "http://127.0.0.1:$port" > "$work/wrk.txt"
curl -s "http://127.0.0.1:$port/metrics" > "$work/metrics.txt"

python3 - "$work" "$inproc" "$work/wrk.txt" "$work/metrics.txt" <<'PY'
import json, re, statistics, sys
work = sys.argv[1]
inproc = json.loads(sys.argv[2])
scores = [json.loads(l) for l in open(f"{work}/score.jsonl")]
torches = [json.loads(l) for l in open(f"{work}/torch.jsonl")]
doctor = json.load(open(f"{work}/doctor.json"))
print(f"CPU: {doctor['cpu']['model_name']} ({doctor['cpu']['vendor']} family {doctor['cpu']['family']} model {doctor['cpu']['model']}); "
      f"BLAS kernel {doctor['blas']['kernel']}; {len(scores)} alternating pairs")
wrk = open(sys.argv[3]).read()
def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1, "s": 1e3}[unit]
p50, p99 = (ms(re.search(rf"\s{p}%\s+(\S+)", wrk).group(1)) for p in ("50", "99"))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", wrk)
print("| measurement | Pleat | reference | ratio / target |")
print("|---|---|---|---|")
def spread(values):
    return f"{statistics.median(values):.2f}× ({min(values):.2f}-{max(values):.2f})"
refs = [t["infer_users_per_s"] for t in torches]
for label, rates in (("end to end: histories from PostgreSQL, top-100, cache writes", [s['users_per_s'] for s in scores]),
                     ("model only: forward pass and top-K", [s['users'] / s['model_seconds'] for s in scores])):
    print(f"| batch scoring users/s, {label} (10,000 users, 3,500 items, HSTU d=64, max_len 200) | {statistics.median(rates):.0f} | "
          + (f"{statistics.median(refs):.0f} (PyTorch forward + top-10) | median ratio {spread([a / b for a, b in zip(rates, refs)])} |"
             if refs else "not run | |"))
print(f"| recommend in process, cache hit p50 / p99 ms | {inproc['cache_p50_ms']:.3f} / {inproc['cache_p99_ms']:.3f} | | |")
print(f"| recommend in process, live p50 / p99 ms ({inproc['live_mean_history']:.0f}-event histories) | "
      f"{inproc['live_p50_ms']:.2f} / {inproc['live_p99_ms']:.2f} | | target p99 < 10 |")
print(f"| HTTP under wrk, 30 s: requests/s, p50 / p99 ms | {rps:.0f}, {p50:.3f} / {p99:.3f} | | target p99 < 2 at 2,000/s |")
print(f"| HTTP errors | {'none' if not errors else errors.group(0)} | | |")
PY
