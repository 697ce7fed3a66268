#!/usr/bin/env python3
"""Summarises scripts/bench-behaviour.sh runs: per data set and target, `pleat train --json` of SASRec id-only,
id-only on purchases, behaviour-aware, interleaved tokens and interleaved tokens predicting the behaviour
(DATA-TARGET-{none,purchases,embedding,interleaved,predicted}-SEED.json) and `pleat evaluate
--json` of them with the baselines (DATA-TARGET-evaluate-SEED.json). Prints a Markdown table of means over
seeds: validation and test NDCG@10, HR@10, the best baseline, and the paired test of each model against the
best baseline and against id-only of its seed (the largest p over the seeds).

Usage: scripts/behaviour-table.py DIR
"""
import glob, json, os, statistics, sys


def load(path):
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else None


def spread(xs):
    return f"{min(xs):.4f}-{max(xs):.4f}" if xs else "—"


def main(directory):
    print("| data | target | input | seeds | valid NDCG@10 | test NDCG@10 (per-seed range) | test HR@10 "
          "| vs best baseline (largest p) | − id-only (largest p) |")
    print("|---|---|---|---|---|---|---|---|---|")
    runs = sorted({tuple(os.path.basename(p).split("-")[:2]) for p in glob.glob(os.path.join(directory, "*-evaluate-*.json"))})
    for data, target in runs:
        reports = [r for r in (load(p) for p in sorted(glob.glob(os.path.join(directory, f"{data}-{target}-evaluate-*.json")))) if r]
        id_only = {r["model_id"] for r in (load(p) for p in glob.glob(os.path.join(directory, f"{data}-{target}-none-*.json"))) if r}
        for label, input_ in (("id-only", "none"), ("id-only, purchases alone", "purchases"), ("behaviour-aware", "embedding"),
                              ("interleaved tokens", "interleaved"), ("interleaved, behaviour predicted", "predicted")):
            trains = [r for r in (load(p) for p in sorted(glob.glob(os.path.join(directory, f"{data}-{target}-{input_}-*.json")))) if r]
            ids = {r["model_id"] for r in trains}
            entries = [(rep, r) for rep in reports for r in rep["rankers"] if r["name"] in ids]
            if not entries:
                continue
            ndcg = [r["metrics"]["ndcg@10"] for _, r in entries]
            valid = [t["valid"]["ndcg@10"] for t in trains]
            versus = [r["versus_best_baseline"] for _, r in entries if r.get("versus_best_baseline")]
            best = sorted({rep["best_baseline"] for rep, _ in entries})
            cell = "—"
            if versus:
                cell = (f"{statistics.fmean(v['mean_difference'] for v in versus):+.4f} vs {'/'.join(best)}, "
                        f"p ≤ {max(v['p_value'] for v in versus):.2g}")
            other = "—"
            if input_ != "none":
                pairs = [c for _, r in entries for name, c in (r.get("versus_models") or {}).items() if name in id_only]
                if pairs:
                    other = f"{statistics.fmean(c['mean_difference'] for c in pairs):+.4f}, p ≤ {max(c['p_value'] for c in pairs):.2g}"
            print(f"| {data} | {target} | {label} | {len(entries)} | {statistics.fmean(valid):.4f} "
                  f"| {statistics.fmean(ndcg):.4f} ({spread(ndcg)}) | {statistics.fmean(r['metrics']['hr@10'] for _, r in entries):.4f} "
                  f"| {cell} | {other} |")


if __name__ == "__main__":
    main(sys.argv[1])
