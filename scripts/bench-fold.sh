#!/usr/bin/env bash
# Folded vs brute-force HSTU training steps on long histories (release build): per-step time and peak
# resident memory at 2,000, 8,000 and 32,000 events per user, each configuration in its own process.
# Brute force is skipped where its attention scores alone would not fit in 60% of RAM. Prints a Markdown
# table and writes docs/fold-benchmark.svg (step time against history length, log-log).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-release.sh >/dev/null
pleat=.build/release/pleat
ram_kb=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)
lines=()
for events in ${EVENTS:-2000 8000 32000}; do
  lines+=("$($pleat bench fold --events "$events" --mode folded --json | tail -1)")
  # Brute force keeps 2 blocks × (scores + scratch: 2·B·H·L² floats, + L² time buckets) per step.
  need_kb=$(python3 -c "L=$events; print(int(2 * (2*2*2*L*L*4 + 2*L*L) / 1024))")
  if [ "$need_kb" -lt $((ram_kb * 6 / 10)) ]; then
    lines+=("$($pleat bench fold --events "$events" --mode full --json | tail -1)")
  else
    lines+=("{\"mode\": \"full\", \"events\": $events, \"skipped_need_gb\": $(python3 -c "print(round($need_kb / 1048576, 1))")}")
  fi
done
python3 - "${lines[@]}" <<'PY'
import json, math, sys
rows = [json.loads(l) for l in sys.argv[1:]]
print("| events per user | folded ms/step | folded peak RSS MB | brute force ms/step | brute force peak RSS MB | brute / folded |")
print("|---|---|---|---|---|---|")
by = {}
for r in rows: by.setdefault(r["events"], {})[r["mode"]] = r
for events in sorted(by):
    f, b = by[events]["folded"], by[events]["full"]
    if "skipped_need_gb" in b:
        full = f"does not fit (needs {b['skipped_need_gb']} GB)", "–", "–"
    else:
        full = f"{b['median_ms']:.0f}", f"{b['peak_rss_mb']:.0f}", f"{b['median_ms'] / f['median_ms']:.1f}×"
    print(f"| {events:,} | {f['median_ms']:.0f} | {f['peak_rss_mb']:.0f} | {full[0]} | {full[1]} | {full[2]} |")
# A small log-log SVG plot: step time against history length.
W, H, L, T, R, B = 560, 320, 70, 20, 20, 50
xs = sorted(by); lo_x, hi_x = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
ys = [r["median_ms"] for r in rows if "median_ms" in r]; lo_y, hi_y = math.log10(min(ys)) - 0.2, math.log10(max(ys)) + 0.2
px = lambda x: L + (math.log10(x) - lo_x) / (hi_x - lo_x) * (W - L - R)
py = lambda y: T + (hi_y - math.log10(y)) / (hi_y - lo_y) * (H - T - B)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/><line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>',
       f'<text x="{(L+W-R)/2}" y="{H-12}" text-anchor="middle">events per user history (log)</text>',
       f'<text x="16" y="{(T+H-B)/2}" transform="rotate(-90 16 {(T+H-B)/2})" text-anchor="middle">ms per training step (log)</text>']
for x in xs: svg.append(f'<text x="{px(x)}" y="{H-B+16}" text-anchor="middle">{x:,}</text>')
for e in range(math.ceil(lo_y), math.floor(hi_y) + 1):
    svg.append(f'<text x="{L-6}" y="{py(10**e)+4}" text-anchor="end">{10**e:g}</text>')
    svg.append(f'<line x1="{L}" y1="{py(10**e)}" x2="{W-R}" y2="{py(10**e)}" stroke="#ddd"/>')
for mode, colour in [("folded", "#1f77b4"), ("full", "#d62728")]:
    pts = [(px(x), py(by[x][mode]["median_ms"])) for x in xs if "median_ms" in by[x][mode]]
    svg.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (colour, " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)))
    svg += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="{colour}"/>' for a, b in pts]
    label = "folded (G=64, C=128, W=200)" if mode == "folded" else "brute-force attention over the history"
    svg.append(f'<text x="{pts[-1][0]-6:.1f}" y="{pts[-1][1]-10:.1f}" text-anchor="end" fill="{colour}">{label}</text>')
svg.append("</svg>")
open("docs/fold-benchmark.svg", "w").write("\n".join(svg))
PY
