#!/usr/bin/env python3
"""Summarises scripts/bench-quality.sh runs: one `pleat train --json` file per (data, model, seed) named
DATA-MODEL-SEED.json in DIR. Prints a Markdown table (means over seeds) and writes DIR/curves-DATA.svg
(test NDCG@10 of each epoch's weights against training seconds, first seed; the published bar dashed).
Each run's test figures are under its seen-items rule (`seen`, exclude by default: a target the user has
already seen is a miss); the other rule's figures and the repeat and new targets apart have columns of
their own. Runs trained with `refit = true` show as "MODEL + refit": their test figures are the refit model's, "refit s"
is the refit pass's seconds, and their curves continue with the refit pass, dotted. With the test curve they
also give "MODEL (first pass)": the test figures of the epoch validation chose, before the refit, which
is what a run without refit reports (same seed, same epochs).

Usage: scripts/quality-table.py DIR
"""
import glob, json, os, statistics, sys

# Published full-ranking figures on exactly these splits (../shared/data/README.md: eSASRec benchmark,
# Kolesnikov et al. RecSys 2025). The bar per data set is the best published NDCG@10 and HR@10.
PUBLISHED = {
    "sports": {"bar": (0.0323, 0.0569), "sasrec": (0.0314, 0.0569), "hstu": (0.0243, 0.0437)},
    "toys": {"bar": (0.0580, 0.0970), "sasrec": (0.0580, 0.0970), "hstu": (0.0450, 0.0778)},
    "yelp": {},
}
COLOURS = {"sasrec": "#4e79a7", "hstu": "#f28e2b", "bert4rec": "#59a14f"}


def seconds_to(history, level):
    """Training + validation seconds until the test NDCG@10 of an epoch first reaches `level` (the refit
    pass's epochs come after the whole first pass, which chose their number)."""
    total = 0.0
    for e in history:
        total += e["seconds"]
        if e.get("test") and e["test"]["ndcg@10"] >= level:
            return total
    return None


def mean(xs):
    xs = [x for x in xs if x is not None]
    return statistics.fmean(xs) if xs else None


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def main(directory):
    runs = {}
    for path in sorted(glob.glob(os.path.join(directory, "*-*-*.json"))):
        data, model, _ = os.path.basename(path)[:-5].split("-")
        with open(path) as f:
            lines = [line for line in f.read().splitlines() if line.strip()]
        if lines:
            record = json.loads(lines[-1])
            if any(e.get("refit") for e in record["history"]):
                # The first pass of a refit run is the plain run (same seed, same epochs): with the test
                # curve, its chosen epoch's test figures are the plain run's row.
                chosen = next((e for e in record["history"] if not e.get("refit") and e["epoch"] == record["best_epoch"]), None)
                if chosen and chosen.get("test"):
                    plain = dict(record, test=chosen["test"], test_unfiltered=None, test_by_rule=None, test_targets=None,
                                 history=[e for e in record["history"] if not e.get("refit")])
                    runs.setdefault((data, model + " (first pass)"), []).append(plain)
                model += " + refit"
            runs.setdefault((data, model), []).append(record)
    print("| data | model | seen | seeds | valid NDCG@10 | test NDCG@10 (sd) | test HR@10 | other rule: NDCG@10 / HR@10 "
          "| repeat targets: share, NDCG@10 repeat / new "
          "| best epoch | s to best | refit s | s to 95% of bar | bar NDCG@10 / HR@10 | vs bar |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    sasrec_ndcg = {}
    for (data, model), rs in sorted(runs.items(), key=lambda kv: (kv[0][0], ["sasrec", "hstu", "bert4rec"].index(kv[0][1].split()[0]), kv[0][1])):
        bar = PUBLISHED.get(data, {}).get("bar")
        ndcg = [r["test"]["ndcg@10"] for r in rs]
        hr = mean([r["test"]["hr@10"] for r in rs])
        un = [other_rule(r) for r in rs]
        targets = [r.get("test_targets") for r in rs if r.get("test_targets")]
        seen = r_seen(rs[0])
        repeat_cell = "—"
        if targets:
            repeat_cell = (f"{mean([t['repeat_share'] for t in targets]):.1%}, "
                           f"{fmt(mean([t['repeat']['metrics'].get('ndcg@10') for t in targets]), '.4f')} / "
                           f"{fmt(mean([t['new']['metrics'].get('ndcg@10') for t in targets]), '.4f')}")
        reach = [seconds_to(r["history"], 0.95 * bar[0]) for r in rs] if bar else []
        sd = statistics.stdev(ndcg) if len(ndcg) > 1 else 0
        if model == "sasrec":  # BERT4Rec is compared with the plain SASRec row (the config, without refit)
            sasrec_ndcg[data] = statistics.fmean(ndcg)
        refit_seconds = mean([sum(e["seconds"] for e in r["history"] if e.get("refit")) for r in rs]) if "refit" in model else None
        verdict = "—"
        if bar:
            verdict = f"{statistics.fmean(ndcg) / bar[0] - 1:+.1%} / {hr / bar[1] - 1:+.1%}"
        elif model == "bert4rec" and data in sasrec_ndcg:
            verdict = f"{statistics.fmean(ndcg) / sasrec_ndcg[data] - 1:+.1%} vs SASRec"
        if model == "bert4rec" and data in sasrec_ndcg and bar:
            verdict += f"; {statistics.fmean(ndcg) / sasrec_ndcg[data] - 1:+.1%} vs SASRec"
        reached = [x for x in reach if x is not None]
        print(f"| {data} | {model} | {seen} | {len(rs)} | {statistics.fmean(r['valid']['ndcg@10'] for r in rs):.4f} "
              f"| {statistics.fmean(ndcg):.4f} ({sd:.4f}) | {hr:.4f} "
              f"| {fmt(mean([u.get('ndcg@10') for u in un]), '.4f')} / {fmt(mean([u.get('hr@10') for u in un]), '.4f')} "
              f"| {repeat_cell} "
              f"| {statistics.fmean(r['best_epoch'] for r in rs):.0f} | {statistics.fmean(r['seconds_to_best'] for r in rs):.0f} "
              f"| {fmt(refit_seconds, '.0f')} "
              f"| {fmt(mean(reached), '.0f') + (f' ({len(reached)}/{len(reach)})' if reach else '')} "
              f"| {f'{bar[0]:.4f} / {bar[1]:.4f}' if bar else '—'} | {verdict} |")
    for data in sorted({d for d, _ in runs}):
        write_curves(directory, data, {m: rs[0] for (d, m), rs in runs.items() if d == data and "first pass" not in m},
                     PUBLISHED.get(data, {}).get("bar"))


def r_seen(record):
    """The run's seen-items rule; runs from before the rule excluded seen items from served lists."""
    return record.get("seen", "exclude")


def other_rule(record):
    """Test metrics under the rule the run was not measured under (before the rule: the unfiltered figures,
    which ranked seen items too)."""
    by_rule = record.get("test_by_rule") or {}
    other = "include" if r_seen(record) == "exclude" else "exclude"
    return by_rule.get(other) or (record.get("test_unfiltered") if other == "include" else None) or {}


def write_curves(directory, data, first_seed, bar):
    curves = {}
    for model, r in first_seed.items():
        total = 0.0
        for e in r["history"]:
            total += e["seconds"]
            if e.get("test"):
                curves.setdefault((model, bool(e.get("refit"))), []).append((total, e["test"]["ndcg@10"]))
    points = [p for c in curves.values() for p in c]
    if not points:
        return
    W, H, L, R, T, B = 640, 360, 60, 110, 20, 40
    xmax = max(x for x, _ in points) * 1.02
    ymax = max([y for _, y in points] + ([bar[0]] if bar else [])) * 1.1
    px = lambda x: L + (W - L - R) * x / xmax
    py = lambda y: T + (H - T - B) * (1 - y / ymax)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<text x="{L}" y="14">{data}: test NDCG@10 of each epoch against training seconds (first seed)</text>']
    for i in range(6):
        y = ymax * i / 5
        svg.append(f'<line x1="{L}" y1="{py(y):.1f}" x2="{W - R}" y2="{py(y):.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{L - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.3f}</text>')
    for i in range(6):
        x = xmax * i / 5
        svg.append(f'<text x="{px(x):.1f}" y="{H - B + 16}" text-anchor="middle">{x:.0f} s</text>')
    if bar:
        svg.append(f'<line x1="{L}" y1="{py(bar[0]):.1f}" x2="{W - R}" y2="{py(bar[0]):.1f}" stroke="#e15759" stroke-dasharray="6 4"/>')
        svg.append(f'<text x="{W - R + 4}" y="{py(bar[0]) + 4:.1f}" fill="#e15759">published {bar[0]:.4f}</text>')
    for (model, refit), pts in curves.items():
        colour = COLOURS.get(model.split()[0], "#777")
        svg.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>'
                   % (colour, ' stroke-dasharray="2 3"' if refit else "", " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)))
        if refit or (model, True) not in curves:
            svg.append(f'<text x="{W - R + 4}" y="{py(pts[-1][1]) + 4:.1f}" fill="{colour}">{model}</text>')
    svg.append("</svg>")
    with open(os.path.join(directory, f"curves-{data}.svg"), "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
