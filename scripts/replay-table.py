#!/usr/bin/env python3
"""Summarises a scripts/bench-replay.sh run: per model and period, next-period NDCG@10 and HR@10 of the
full retrain, the warm start and no retrain, their training seconds (`train_seconds`: the epochs with
their validation), the period's targets and the share of them that are items new that period. Then, over
the periods where warm starts exist (the second on), the means over every target (periods weighted by
their targets) and warm / full. Writes DIR/replay.svg: NDCG@10 and training seconds per period.

Usage: scripts/replay-table.py DIR
"""
import json, os, sys

STRATEGIES = ("full", "warm", "none")
COLOURS = {"full": "#4e79a7", "warm": "#f28e2b", "none": "#bab0ac"}


def last_json(path):
    with open(path) as f:
        return json.loads(f.read().splitlines()[-1])


def main(directory):
    periods = json.load(open(os.path.join(directory, "periods", "periods.json")))
    models = sorted({name.split("-")[2] for name in os.listdir(directory) if name.endswith("-ids.json")})
    cpu_file = os.path.join(directory, "cpu.txt")
    cpu_lines = open(cpu_file).read().splitlines() if os.path.exists(cpu_file) else []
    cpu = ", ".join(line.split(":", 1)[1].strip() for line in cpu_lines) or "?"
    commit = open(os.path.join(directory, "commit.txt")).read().strip() if os.path.exists(os.path.join(directory, "commit.txt")) else "?"
    print(f"Replay by {periods['period']}, burn-in {periods['burn_in_events']:,} events; commit {commit}; CPU {cpu}\n")
    rows = {}
    for model in models:
        rows[model] = []
        for p in periods["periods"]:
            name = p["name"]
            if not os.path.exists(os.path.join(directory, f"{name}-{model}-eval.json")):
                continue
            ids = json.load(open(os.path.join(directory, f"{name}-{model}-ids.json")))
            report = last_json(os.path.join(directory, f"{name}-{model}-eval.json"))
            by_name = {r["name"]: r["metrics"] for r in report["rankers"]}
            # A full retrain taken from an earlier run (--full-from): its metrics are that run's.
            earlier = os.path.join(directory, f"{name}-{model}-eval-full.json")
            if os.path.exists(earlier):
                by_name.update({r["name"]: r["metrics"] for r in last_json(earlier)["rankers"] if r["name"] == ids["full"]})
            runs = {s: last_json(os.path.join(directory, f"{name}-{model}-{s}.json")) for s in ("full", "warm")}
            seconds = {s: runs[s]["train_seconds"] for s in runs}
            wall = {s: runs[s]["seconds"] for s in runs}
            rows[model].append({"period": name, "users": report["users"], "targets": report["targets"], "new": p["new_item_targets"] / max(p["targets"], 1),
                                **{f"ndcg_{s}": by_name[ids[s]]["ndcg@10"] for s in STRATEGIES},
                                **{f"hr_{s}": by_name[ids[s]]["hr@10"] for s in STRATEGIES},
                                "s_full": seconds["full"], "s_warm": seconds["warm"] if name != "period-01" else None,
                                "wall_full": wall["full"], "wall_warm": wall["warm"] if name != "period-01" else None})
    for model in models:
        print(f"**{model}**\n")
        print("| period | users | targets | new-item targets | NDCG@10 full | warm | none | HR@10 full | warm | none | train s full | warm | wall s full | warm |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows[model]:
            warm_s = f"{r['s_warm']:.0f}" if r["s_warm"] is not None else "(= full)"
            warm_wall = f"{r['wall_warm']:.0f}" if r["wall_warm"] is not None else "(= full)"
            print(f"| {r['period']} | {r['users']} | {r['targets']:,} | {100 * r['new']:.0f}% | {r['ndcg_full']:.4f} | {r['ndcg_warm']:.4f} | {r['ndcg_none']:.4f} | "
                  f"{r['hr_full']:.4f} | {r['hr_warm']:.4f} | {r['hr_none']:.4f} | {r['s_full']:.0f} | {warm_s} | {r['wall_full']:.0f} | {warm_wall} |")
        later = [r for r in rows[model] if r["s_warm"] is not None]
        if later:
            targets = sum(r["targets"] for r in later)
            def pooled(key):
                return sum(r[key] * r["targets"] for r in later) / targets
            full, warm, none = pooled("ndcg_full"), pooled("ndcg_warm"), pooled("ndcg_none")
            s_full, s_warm = sum(r["s_full"] for r in later), sum(r["s_warm"] for r in later)
            w_full, w_warm = sum(r["wall_full"] for r in later), sum(r["wall_warm"] for r in later)
            print(f"| periods 2-{len(rows[model])} | | {targets:,} | | {full:.4f} | {warm:.4f} | {none:.4f} | {pooled('hr_full'):.4f} | "
                  f"{pooled('hr_warm'):.4f} | {pooled('hr_none'):.4f} | {s_full:.0f} | {s_warm:.0f} | {w_full:.0f} | {w_warm:.0f} |")
            print(f"\nwarm / full: NDCG@10 {warm / full if full else float('nan'):.3f}, HR@10 "
                  f"{pooled('hr_warm') / pooled('hr_full') if pooled('hr_full') else float('nan'):.3f}, training seconds {s_warm / s_full:.3f} "
                  f"(wall {w_warm / w_full:.3f}); "
                  f"no retrain / full: NDCG@10 {none / full if full else float('nan'):.3f}\n")
    write_svg(directory, rows)


def write_svg(directory, rows):
    """Per model, NDCG@10 per period (three lines) above training seconds per period (full, warm)."""
    W, H, L, R, T, B, gap = 720, 250, 60, 130, 26, 30, 20
    models = list(rows)
    height = len(models) * 2 * (H + gap) + 10
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{height}" fill="white"/>']
    y0 = 0
    for model in models:
        data = rows[model]
        if not data:
            continue
        for panel, (title, keys, unit) in enumerate([(f"{model}: next-period NDCG@10", [f"ndcg_{s}" for s in STRATEGIES], ""),
                                                      (f"{model}: training seconds", ["s_full", "s_warm"], " s")]):
            top = y0 + panel * (H + gap)
            values = [r[k] for r in data for k in keys if r[k] is not None]
            high = max(values) * 1.1 if values and max(values) > 0 else 1
            def px(i):
                return L + (W - L - R) * (i / max(len(data) - 1, 1))
            def py(v):
                return top + T + (H - T - B) * (1 - v / high)
            svg.append(f'<text x="{L}" y="{top + 16}" font-weight="bold">{title}</text>')
            for f in (0, 0.5, 1):
                svg.append(f'<line x1="{L}" y1="{py(high * f):.1f}" x2="{W - R}" y2="{py(high * f):.1f}" stroke="#ddd"/>')
                svg.append(f'<text x="{L - 6}" y="{py(high * f) + 4:.1f}" text-anchor="end">{high * f:.3g}{unit}</text>')
            for i, r in enumerate(data):
                svg.append(f'<text x="{px(i):.1f}" y="{top + H - B + 16}" text-anchor="middle">{r["period"][-2:]}</text>')
            for k, key in enumerate(keys):
                strategy = key.split("_")[1]
                points = [(px(i), py(r[key])) for i, r in enumerate(data) if r[key] is not None]
                svg.append(f'<polyline fill="none" stroke="{COLOURS[strategy]}" stroke-width="2" points="'
                           + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
                for x, y in points:
                    svg.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOURS[strategy]}"/>')
                label = {"full": "full retrain", "warm": "warm start", "none": "no retrain"}[strategy]
                svg.append(f'<text x="{W - R + 10}" y="{top + T + 14 + 16 * k}" fill="{COLOURS[strategy]}">{label}</text>')
        y0 += 2 * (H + gap)
    svg.append("</svg>")
    with open(os.path.join(directory, "replay.svg"), "w") as f:
        f.write("\n".join(svg))


if __name__ == "__main__":
    main(sys.argv[1])
