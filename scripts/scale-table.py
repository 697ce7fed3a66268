#!/usr/bin/env python3
"""Reads docs/scale/scale-*.json (written by scripts/bench-scale.sh), prints docs/benchmarks/scale-out.md's Markdown table
(seconds and peak RSS of each stage per run, and how each grew between the two largest runs) and the
projection to 10^9 events, and writes docs/scale/scale.svg (seconds per stage against events, log-log).

The runs keep the users fixed (1 M) and let histories grow, so the growth exponent g (log-log slope
between the two largest runs) says how a stage depends on history length. The projection to 10^9 events
instead takes the largest run's mix of history lengths to 10x its users (10^9 events = 10^7 users at
the 100 M run's ~100 events each): every stage here is linear in users at a fixed mix (ingest and
history load in events, an epoch and scoring in users x capped length), so times scale by
10^9 / events_largest. So does memory (an upper bound for ingest, whose id maps grow with users but
whose events stream), except training's: it reads one shard, whatever the other shards hold.
"""
import glob, json, math, os, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
runs = sorted((json.load(open(p)) for p in glob.glob(os.path.join(root, "docs/scale/scale-*.json"))), key=lambda r: r["events"])
if not runs:
    sys.exit("no docs/scale/scale-*.json: run scripts/bench-scale.sh EVENTS first")

STAGES = [  # (label, seconds, peak RSS MB)
    ("ingest", lambda r: r["ingest"]["seconds"], lambda r: r["ingest"]["peak_rss_mb"]),
    ("history load", lambda r: r["histories"]["seconds"], lambda r: r["histories"]["peak_rss_mb"]),
    ("train, one full epoch (projected from a shard)", lambda r: r["train"]["projected_full_epoch_s"], lambda r: r["train"]["peak_rss_mb"]),
    ("score every user", lambda r: r["score"]["seconds"], lambda r: r["score"]["peak_rss_mb"]),
]

def growth(f):
    if len(runs) < 2:
        return None
    a, b = runs[-2], runs[-1]
    return math.log(f(b) / f(a)) / math.log(b["events"] / a["events"])

def millions(n):
    return f"{n / 1e6:.1f} M"

print(f"CPU: {runs[-1]['cpu']}, {runs[-1]['cores']} cores, BLAS kernel {runs[-1]['blas_kernel']}")
print()
header = ["stage"] + [f"{millions(r['events'])} events: s / peak RSS MB" for r in runs] + [
    "growth exponent g of s (fixed users)", "projected at 10^9 events, 10^7 users: s / GB"]
print("| " + " | ".join(header) + " |")
print("|" + "---|" * len(header))
for label, seconds, rss in STAGES:
    cells = [label] + [f"{seconds(r):,.0f} / {rss(r):,.0f}" for r in runs]
    g = growth(seconds)
    if g is None:
        cells += ["", ""]
    else:
        big = runs[-1]
        scale = 1e9 / big["events"]
        memory = rss(big) * (1 if label.startswith("train") else scale) / 1024
        cells += [f"{g:.2f}", f"{seconds(big) * scale:,.0f} / {memory:,.1f}"]
    print("| " + " | ".join(cells) + " |")
print()
for r in runs:
    t, s, i = r["train"], r["score"], r["ingest"]
    print(f"- {millions(r['events'])} events ({r['users']:,} users): ingest {i['rows_per_s']:,.0f} rows/s, database "
          f"{i['database_bytes'] / 2**30:.2f} GiB; history load {r['histories']['events_per_s']:,.0f} events/s; training "
          f"{t['sequences_per_s']:.0f} sequences/s over shard {t['shard']} ({t['users']:,} users, epoch {t['epoch_seconds']:.0f} s); "
          f"scoring {s['users_per_s']:,.0f} users/s, cache {s['cache_bytes'] / 2**30:.2f} GiB")

# Plot: seconds per stage against events, both axes logarithmic.
W, H, L, R, T, B = 640, 360, 70, 200, 20, 40
xs = [r["events"] for r in runs]
ys = [f(r) for _, f, _ in STAGES for r in runs]
x0, x1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
px = lambda x: L + (math.log10(x) - x0) / (x1 - x0) * (W - L - R)
py = lambda y: T + (1 - (math.log10(y) - y0) / (y1 - y0)) * (H - T - B)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<text x="{L}" y="14">seconds per stage (log) against events (log); {runs[-1]["cpu"]}, {runs[-1]["cores"]} cores</text>']
for e in range(y0, y1 + 1):
    svg.append(f'<line x1="{L}" y1="{py(10 ** e):.1f}" x2="{W - R}" y2="{py(10 ** e):.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{L - 6}" y="{py(10 ** e) + 4:.1f}" text-anchor="end">{10 ** e:g} s</text>')
for x in xs:
    svg.append(f'<text x="{px(x):.1f}" y="{H - B + 16}" text-anchor="middle">{millions(x)}</text>')
colours = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"]
for (label, f, _), colour in zip(STAGES, colours):
    pts = [(px(r["events"]), py(f(r))) for r in runs]
    svg.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (colour, " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)))
    for a, b in pts:
        svg.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>')
    svg.append(f'<text x="{W - R + 6}" y="{pts[-1][1] + 4:.1f}" fill="{colour}">{label.split(",")[0]}</text>')
svg.append("</svg>")
with open(os.path.join(root, "docs/scale/scale.svg"), "w") as out:
    out.write("\n".join(svg) + "\n")
print(f"\nwrote docs/scale/scale.svg")
