#!/usr/bin/env python3
"""Summarises scripts/bench-repeat.sh runs: per data set, `pleat train --json` of SASRec and of SASRec with
the repeat head (DATA-sasrec-SEED.json, DATA-repeat-SEED.json) and `pleat evaluate --json` of both with the
baselines under `seen = include` (DATA-evaluate-SEED.json). Prints a Markdown table of means over seeds:
test NDCG@10 and HR@10 under include, repeat and new targets apart, the best baseline, and the paired
test of each model against it and against the other model of its seed (the largest p over the seeds);
then each model under `exclude`.

Usage: scripts/repeat-table.py DIR
"""
import glob, json, os, statistics, sys


def load(path):
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else None


def mean(xs):
    xs = [x for x in xs if x is not None]
    return statistics.fmean(xs) if xs else None


def spread(xs):
    return f"{min(xs):.4f}-{max(xs):.4f}" if xs else "—"


def main(directory):
    data_sets = sorted({os.path.basename(p).split("-")[0] for p in glob.glob(os.path.join(directory, "*-evaluate-*.json"))})
    print("| data | ranker | seeds | test NDCG@10 (per-seed range) | HR@10 | repeat targets NDCG@10 | new targets NDCG@10 "
          "| vs best baseline: NDCG@10 difference, largest p | vs the other model |")
    print("|---|---|---|---|---|---|---|---|---|")
    for data in data_sets:
        reports = [r for r in (load(p) for p in sorted(glob.glob(os.path.join(directory, f"{data}-evaluate-*.json")))) if r]
        trains = {v: [r for r in (load(p) for p in sorted(glob.glob(os.path.join(directory, f"{data}-{v}-*.json")))) if r]
                  for v in ("sasrec", "repeat")}
        names = {}
        for v, runs in trains.items():
            for r in runs:
                names[r["model_id"]] = "sasrec + repeat head" if v == "repeat" else "sasrec"
        rows = {}
        for report in reports:
            for r in report["rankers"]:
                label = names.get(r["name"], r["name"])
                rows.setdefault(label, []).append((report, r))
        for label, entries in sorted(rows.items(), key=lambda kv: (kv[0].startswith("sasrec"), kv[0])):
            ndcg = [r["metrics"]["ndcg@10"] for _, r in entries]
            by_target = lambda kind: mean([next((b["ndcg10"] for b in r["by_target"] if b["bucket"] == kind), None) for _, r in entries])
            versus = [r.get("versus_best_baseline") for _, r in entries if r.get("versus_best_baseline")]
            best = {rep["best_baseline"] for rep, _ in entries}
            cell = "—"
            if versus:
                cell = f"{mean([v['mean_difference'] for v in versus]):+.4f} vs {'/'.join(sorted(best))}, p ≤ {max(v['p_value'] for v in versus):.2g}"
            others = [c for _, r in entries for c in (r.get("versus_models") or {}).values()]
            other = "—"
            if others:
                other = f"{mean([c['mean_difference'] for c in others]):+.4f}, p ≤ {max(c['p_value'] for c in others):.2g}"
            print(f"| {data} | {label} | {len(entries)} | {statistics.fmean(ndcg):.4f} ({spread(ndcg)}) "
                  f"| {statistics.fmean(r['metrics']['hr@10'] for _, r in entries):.4f} "
                  f"| {by_target('repeat') or 0:.4f} | {by_target('new') or 0:.4f} | {cell} | {other} |")
        for v, runs in trains.items():
            exclude = [r["test_by_rule"]["exclude"]["ndcg@10"] for r in runs if r.get("test_by_rule")]
            if exclude:
                label = "sasrec + repeat head" if v == "repeat" else "sasrec"
                print(f"| {data} | {label}, under exclude | {len(exclude)} | {statistics.fmean(exclude):.4f} ({spread(exclude)}) "
                      f"| {mean([r['test_by_rule']['exclude']['hr@10'] for r in runs]):.4f} | 0 (a miss) | — | — | — |")


if __name__ == "__main__":
    main(sys.argv[1])
