#!/usr/bin/env python3
"""Summarises a scripts/bench-long.sh run: per encoder and configuration (window 200, window 50, window
50 folded by genre, window 50 folded by clusters), test NDCG@10 and HR@10 as the mean over seeds with
the smallest and largest, the seeds, and the refusals' reasons. Writes DIR/long.svg: NDCG@10 per
configuration, one group of bars per encoder, each seed a dot.

Usage: scripts/long-table.py DIR
"""
import json, os, re, statistics, sys

CONFIGS = [("w200", "window 200"), ("w50", "window 50"), ("w50-genre", "50 + genre folds"), ("w50-clusters", "50 + cluster folds")]
MODELS = ["sasrec", "hstu", "bert4rec"]
COLOURS = ["#bab0ac", "#76b7b2", "#4e79a7", "#f28e2b"]


def main(directory):
    runs, refusals = {}, {}
    for name in sorted(os.listdir(directory)):
        m = re.fullmatch(r"(\w+?)-(w\d+(?:-genre|-clusters)?)-s(\d+)\.(json|error)", name)
        if not m:
            continue
        model, config, seed, kind = m.groups()
        path = os.path.join(directory, name)
        if kind == "json":
            r = json.loads(open(path).read().splitlines()[-1])
            runs.setdefault((model, config), []).append((int(seed), r["test"]["ndcg@10"], r["test"]["hr@10"]))
        else:
            refusals[(model, config)] = open(path).read().strip()
    cpu_file, commit_file = os.path.join(directory, "cpu.txt"), os.path.join(directory, "commit.txt")
    cpu = ", ".join(l.split(":", 1)[1].strip() for l in open(cpu_file).read().splitlines()) if os.path.exists(cpu_file) else "?"
    commit = open(commit_file).read().strip() if os.path.exists(commit_file) else "?"
    print(f"MovieLens-100K, test NDCG@10 (mean over seeds, [min, max]); commit {commit}; CPU {cpu}\n")
    print("| encoder | configuration | seeds | NDCG@10 | [min, max] | HR@10 |")
    print("|---|---|---|---|---|---|")
    models = [m for m in MODELS if any(k[0] == m for k in list(runs) + list(refusals))]
    for model in models:
        for config, title in CONFIGS:
            rows = sorted(runs.get((model, config), []))
            if rows:
                ndcg = [r[1] for r in rows]
                print(f"| {model} | {title} | {', '.join(str(r[0]) for r in rows)} | {statistics.mean(ndcg):.4f} | "
                      f"[{min(ndcg):.4f}, {max(ndcg):.4f}] | {statistics.mean(r[2] for r in rows):.4f} |")
            elif (model, config) in refusals:
                print(f"| {model} | {title} | | refused: {refusals[(model, config)]} | | |")
    write_svg(directory, runs, models)


def write_svg(directory, runs, models):
    W, H, L, R, T, B = 720, 320, 60, 170, 20, 40
    values = [v[1] for rows in runs.values() for v in rows] or [0.1]
    top = max(values) * 1.1
    group = (W - L - R) / max(len(models), 1)
    bar = group / (len(CONFIGS) + 1)
    py = lambda v: T + (1 - v / top) * (H - T - B)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="black"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="black"/>']
    for i in range(5):
        v = top * i / 4
        svg.append(f'<text x="{L - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{v:.3f}</text>')
    svg.append(f'<text x="14" y="{(H - B) / 2}" transform="rotate(-90 14 {(H - B) / 2})" text-anchor="middle">test NDCG@10</text>')
    for g, model in enumerate(models):
        x0 = L + g * group + bar / 2
        svg.append(f'<text x="{x0 + bar * len(CONFIGS) / 2:.1f}" y="{H - B + 18}" text-anchor="middle">{model}</text>')
        for c, (config, _) in enumerate(CONFIGS):
            rows = runs.get((model, config), [])
            if not rows:
                continue
            mean = statistics.mean(r[1] for r in rows)
            x = x0 + c * bar
            svg.append(f'<rect x="{x:.1f}" y="{py(mean):.1f}" width="{bar * 0.9:.1f}" height="{H - B - py(mean):.1f}" fill="{COLOURS[c]}"/>')
            for r in rows:
                svg.append(f'<circle cx="{x + bar * 0.45:.1f}" cy="{py(r[1]):.1f}" r="2.5" fill="black"/>')
    for c, (_, title) in enumerate(CONFIGS):
        y = T + 10 + 18 * c
        svg.append(f'<rect x="{W - R + 10}" y="{y - 9}" width="12" height="12" fill="{COLOURS[c]}"/>')
        svg.append(f'<text x="{W - R + 28}" y="{y + 1}">{title}</text>')
    svg.append("</svg>")
    with open(os.path.join(directory, "long.svg"), "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
