#!/usr/bin/env bash
# Scoring benchmark: batch scoring throughput of d=64 HSTUs (max_len 200; the `hstu` preset's and the
# research one) over 10,000 synthetic users and 3,500 items, beside the PyTorch reference inference
# (shared/bench/torch_step.py --preset hstu --infer-users); in-process recommend latency (cache hits,
# and live scoring of ~200-event histories); and HTTP latency under wrk for 30 s on loopback at about 2,000 requests/s. Release build.
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

if [ ! -e "$work/ingested" ]; then
  $pleat synth --users 10000 --items 3500 --categories 20 --min-events 200 --median-events 220 --max-events 300 \
    --output "$work/synthetic.csv" >/dev/null
  $pleat ingest "$work/synthetic.csv" --format csv --items "$work/synthetic.items.csv" >/dev/null
  touch "$work/ingested"
fi
# Two models of the same shape, one epoch each (throughput and latency do not depend on how well a model
# is trained): the `hstu` preset's simplified HSTU, which torch_step.py runs (per-head position bias, no
# time bias, LayerNorm'd output), and the research HSTU, Pleat's default (time bias, L2-normalised
# output). Their ids are kept in $work, so a second run reuses them.
train_once() {
  [ -s "$work/$1.id" ] && return
  $pleat train --model hstu --set epochs=1 --set max_length=200 "${@:2}" --json | tail -1 \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["model_id"])' > "$work/$1.id"
}
train_once research
train_once preset --set hstu.encoder.layer_norm_epsilon=1e-5 --set hstu.encoder.layer_norm_affine=true \
  --set hstu.encoder.projection_bias=true --set hstu.encoder.attention.scale=0.17677669 \
  --set hstu.encoder.attention.position_bias=perHead --set hstu.encoder.attention.time_bias=false \
  --set hstu.encoder.attention.dropout=0.2 --set hstu.encoder.input_layer_norm=true \
  --set hstu.encoder.output_dropout=afterProjection --set hstu.encoder.output_norm=layerNorm

# Batch scoring (PostgreSQL read, forward, top-10, SQLite writes) of both models against PyTorch's
# model-only inference of the preset, in alternating runs (PAIRS rounds, default 5): the machine's drift
# hits all alike, and the ratios are taken round by round.
torch_python=${TORCH_PYTHON:-/tmp/torch-ref/bin/python}
tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4; [ -e "$tcmalloc" ] || tcmalloc=""
: > "$work/score-preset.jsonl"; : > "$work/score-research.jsonl"; : > "$work/torch.jsonl"
for i in $(seq "${PAIRS:-5}"); do
  echo "scoring round $i/${PAIRS:-5}" >&2
  for m in preset research; do
    $pleat score --model "$(cat "$work/$m.id")" --batch 256 --top-k 10 --json | tail -1 >> "$work/score-$m.jsonl"
  done
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
runs = {m: [json.loads(l) for l in open(f"{work}/score-{m}.jsonl")] for m in ("preset", "research")}
torches = [json.loads(l) for l in open(f"{work}/torch.jsonl")]
doctor = json.load(open(f"{work}/doctor.json"))
print(f"CPU: {doctor['cpu']['model_name']} ({doctor['cpu']['vendor']} family {doctor['cpu']['family']} model {doctor['cpu']['model']}); "
      f"BLAS kernel {doctor['blas']['kernel']}; {len(torches)} alternating rounds")
wrk = open(sys.argv[3]).read()
def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1, "s": 1e3}[unit]
p50, p99 = (ms(re.search(rf"\s{p}%\s+(\S+)", wrk).group(1)) for p in ("50", "99"))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", wrk)
print("| measurement (10,000 users, 3,500 items, d=64, max_len 200) | Pleat | reference | ratio / target |")
print("|---|---|---|---|")
def spread(values):
    return f"{statistics.median(values):.2f}× ({min(values):.2f}-{max(values):.2f})"
refs = [t["infer_users_per_s"] for t in torches]
names = {"preset": "the `hstu` preset's HSTU", "research": "the research HSTU (time bias)"}
for m in ("preset", "research"):
    for label, rates in (("end to end: histories from PostgreSQL, top-10, cache writes", [s['users_per_s'] for s in runs[m]]),
                         ("model only: forward pass and top-10", [s['users'] / s['model_seconds'] for s in runs[m]])):
        print(f"| batch scoring users/s, {names[m]}, {label} | {statistics.median(rates):.0f} | "
              + (f"{statistics.median(refs):.0f} (PyTorch, preset, forward + top-10) | median ratio {spread([a / b for a, b in zip(rates, refs)])} |"
                 if refs else "not run | |"))
print(f"| recommend in process, cache hit p50 / p99 ms | {inproc['cache_p50_ms']:.3f} / {inproc['cache_p99_ms']:.3f} | | |")
print(f"| recommend in process, live p50 / p99 ms ({inproc['live_mean_history']:.0f}-event histories) | "
      f"{inproc['live_p50_ms']:.2f} / {inproc['live_p99_ms']:.2f} | | target p99 < 10 |")
print(f"| HTTP under wrk, 30 s: requests/s, p50 / p99 ms | {rps:.0f}, {p50:.3f} / {p99:.3f} | | target p99 < 2 at 2,000/s |")
print(f"| HTTP errors | {'none' if not errors else errors.group(0)} | | |")
PY
