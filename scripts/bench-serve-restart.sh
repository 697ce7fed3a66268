#!/usr/bin/env bash
# Server load test through a database restart (release build): `pleat serve` under about 1,000
# requests/s for 20 s (95% users with a cached list, 5% unknown users that need PostgreSQL), while
# `pleat db stop` runs at 7 s and `pleat db start` at 12 s. Prints requests, statuses by phase, latency,
# whether cached users ever got a 5xx, and how long after the database returned fresh answers resumed.
#
#   scripts/bench-serve-restart.sh [RATE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-1000} seconds=${2:-20}
scripts/setup.sh
scripts/build-release.sh >/dev/null
pleat=$PWD/.build/release/pleat
source scripts/lib/serving-fixture.sh
serving_fixture "$pleat" restart
port=18181
$pleat serve --port $port 2>"$work/serve.log" & server=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done

python3 - "$port" "$rate" "$seconds" "$pleat" <<'PY'
import http.client, json, random, statistics, subprocess, sys, threading, time
port, rate, seconds, pleat = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
threads = 8
results, lock = [], threading.Lock()
start = time.time()
events = {}

def worker(index):
    rng = random.Random(index)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    interval = threads / rate
    next_at = start + index * interval / threads
    while True:
        now = time.time()
        if now - start >= seconds: break
        if next_at > now: time.sleep(next_at - now)
        next_at += interval
        cached = rng.random() < 0.95
        user = f"u{rng.randrange(1, 5001)}" if cached else f"nobody{rng.randrange(10**9)}"
        sent = time.time()
        try:
            connection.request("GET", f"/v1/users/{user}/recommendations?k=10")
            response = connection.getresponse()
            body = response.read()
            status = response.status
            freshness = json.loads(body).get("freshness") if status == 200 else None
        except Exception as error:
            status, freshness = "error", None
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        with lock:
            results.append((sent - start, time.time() - sent, cached, status, freshness))

def restart():
    time.sleep(7)
    events["stop_begin"] = time.time() - start
    subprocess.run([pleat, "db", "stop"], check=True, capture_output=True)
    events["stopped"] = time.time() - start
    time.sleep(12 - events["stopped"])
    subprocess.run([pleat, "db", "start"], check=True, capture_output=True)
    events["started"] = time.time() - start

workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
admin = threading.Thread(target=restart)
for t in workers + [admin]: t.start()
for t in workers + [admin]: t.join()

alive = subprocess.run(["curl", "-sf", f"http://127.0.0.1:{port}/healthz"], capture_output=True).returncode == 0
results.sort()
total = len(results)
print(f"{total} requests in {seconds:.0f} s ({total / seconds:.0f}/s), db stop at {events['stop_begin']:.2f} s "
      f"(down at {events['stopped']:.2f} s), db start returned at {events['started']:.2f} s; server alive at the end: {alive}")
def phase(t):
    return "before" if t < events["stop_begin"] else ("down" if t < events["started"] else "after")
print("| phase | users | requests | 200 checked | 200 unchecked | 503 | other 5xx | errors |")
print("|---|---|---|---|---|---|---|---|")
for p in ("before", "down", "after"):
    for cached in (True, False):
        rows = [r for r in results if phase(r[0]) == p and r[2] == cached]
        count = lambda f: sum(1 for r in rows if f(r))
        print(f"| {p} | {'cached' if cached else 'unknown'} | {len(rows)} | {count(lambda r: r[3] == 200 and r[4] == 'checked')} | "
              f"{count(lambda r: r[3] == 200 and r[4] == 'unchecked')} | {count(lambda r: r[3] == 503)} | "
              f"{count(lambda r: isinstance(r[3], int) and r[3] >= 500 and r[3] != 503)} | {count(lambda r: r[3] == 'error')} |")
cached_5xx = sum(1 for r in results if r[2] and (r[3] == "error" or (isinstance(r[3], int) and r[3] >= 500)))
after = [r for r in results if r[0] >= events["started"]]
not_fresh = [r for r in after if not (r[3] == 200 and r[4] == "checked")]
full = (max(r[0] for r in not_fresh) - events["started"]) if not_fresh else 0.0
latencies = sorted(r[1] * 1e3 for r in results if r[3] == 200)
print(f"cached users answered with an error or 5xx: {cached_5xx}")
print(f"full service (every answer fresh) {full:.2f} s after `pleat db start` returned")
print(f"latency of 200s: p50 {latencies[len(latencies) // 2]:.2f} ms, p99 {latencies[int(len(latencies) * 0.99)]:.2f} ms")
sys.exit(0 if alive and cached_5xx == 0 and full <= 2 else 1)
PY
