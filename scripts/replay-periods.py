#!/usr/bin/env python3
"""Cuts a timestamped interaction log into a burn-in file and one file per period after it, for
scripts/bench-replay.sh. Each output file keeps the input's header and format; periods are UTC days or
weeks (weeks start on the day of the first event). The burn-in ends at the first period boundary with at
least BURN_SHARE of the events before it; at most MAX_PERIODS periods follow (0: every one to the end).

Writes OUT/burn-in.EXT, OUT/period-NN.EXT and OUT/periods.json: per period its start and end (Unix
seconds), events, and the next-period targets the benchmark evaluates (every event in the period, of
TARGET_VALUE in column TARGET_COL when given, of the users with an event before it) and their users,
with how many of them are items no event before the period had (new that period: no model trained
before can rank them). With --items-out, also an `item_id,category` file from the log's category column.

Usage: replay-periods.py FILE day|week OUT [--burn-in-share 0.5] [--periods N]
                         [--target-col COL --target-value V] [--items-out FILE --category-col COL]
"""
import argparse, json, os

DAY = 86_400


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file"); p.add_argument("period", choices=["day", "week"]); p.add_argument("out")
    p.add_argument("--burn-in-share", type=float, default=0.5); p.add_argument("--periods", type=int, default=0)
    p.add_argument("--target-col"); p.add_argument("--target-value")
    p.add_argument("--items-out"); p.add_argument("--category-col")
    a = p.parse_args()

    with open(a.file, encoding="utf-8") as f:
        header = f.readline()
        rows = [line for line in f if line.strip()]
    sep = "\t" if "\t" in header else ","
    names = [n.strip().split(":")[0] for n in header.rstrip("\n").split(sep)]
    user, item, time = names.index("user_id"), names.index("item_id"), names.index("timestamp")
    target = names.index(a.target_col) if a.target_col else None
    events = []
    for line in rows:
        fields = line.rstrip("\n").split(sep)
        events.append((int(float(fields[time])), fields[user], fields[item], fields[target] if target is not None else None, line))
    events.sort(key=lambda e: e[0])

    width = DAY if a.period == "day" else 7 * DAY
    origin = events[0][0] // DAY * DAY
    def period_of(t):
        return (t - origin) // width
    # Burn-in: whole periods until at least the share of events precede the boundary.
    counts = {}
    for e in events:
        counts[period_of(e[0])] = counts.get(period_of(e[0]), 0) + 1
    before, burn_end = 0, None
    for k in sorted(counts):
        before += counts[k]
        if before >= a.burn_in_share * len(events):
            burn_end = k + 1
            break
    last = period_of(events[-1][0])
    periods = list(range(burn_end, last + 1))
    if a.periods > 0:
        periods = periods[:a.periods]

    os.makedirs(a.out, exist_ok=True)
    ext = os.path.splitext(a.file)[1]
    files = {"burn-in": [e for e in events if period_of(e[0]) < burn_end]}
    for n, k in enumerate(periods, 1):
        files[f"period-{n:02d}"] = [e for e in events if period_of(e[0]) == k]
    for name, chosen in files.items():
        with open(os.path.join(a.out, name + ext), "w", encoding="utf-8") as f:
            f.write(header)
            f.writelines(e[4] for e in chosen)

    first_seen, seen_users = {}, set()
    summary, k_index = [], {k: n for n, k in enumerate(periods, 1)}
    ordered = iter(events)
    pending = next(ordered, None)
    for k in range(0, (periods[-1] if periods else burn_end - 1) + 1):
        start = origin + k * width
        in_period = []
        while pending is not None and period_of(pending[0]) == k:
            in_period.append(pending)
            pending = next(ordered, None)
        if k in k_index:
            targets = [e for e in in_period if e[1] in seen_users and (target is None or e[3] == a.target_value)]
            new = sum(1 for e in targets if e[2] not in first_seen)
            summary.append({"name": f"period-{k_index[k]:02d}", "start": start, "end": start + width, "events": len(in_period),
                            "targets": len(targets), "target_users": len({e[1] for e in targets}), "new_item_targets": new})
        for e in in_period:
            first_seen.setdefault(e[2], e[0])
            seen_users.add(e[1])
    with open(os.path.join(a.out, "periods.json"), "w") as f:
        json.dump({"period": a.period, "burn_in_events": len(files["burn-in"]), "burn_in_end": origin + burn_end * width,
                   "periods": summary}, f, indent=1)

    if a.items_out:
        category = names.index(a.category_col)
        categories = {}
        for line in rows:
            fields = line.rstrip("\n").split(sep)
            categories.setdefault(fields[item], fields[category])
        with open(a.items_out, "w", encoding="utf-8") as f:
            f.write("item_id,category\n")
            f.writelines(f"{i},{c}\n" for i, c in categories.items())


if __name__ == "__main__":
    main()
