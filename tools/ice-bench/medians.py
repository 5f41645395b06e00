#!/usr/bin/env python3
"""Medians over repeated ice-bench runs: reads the "result" lines of each output file given and
prints, per target and request kind, the median of every figure and the ratios the goals use."""
import re
import statistics
import sys
from collections import defaultdict

figures = defaultdict(lambda: defaultdict(list))
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            if line.startswith("result "):
                _, target, what, *pairs = line.split()
                for pair in pairs:
                    key, value = pair.split("=")
                    figures[(target, what)][key].append(float(value))

def median(target, what, key):
    values = figures.get((target, what), {}).get(key)
    return statistics.median(values) if values else float("nan")

# Where the lost went (ice-bench prints these when it could read the kernel's drop counters).
WHERE = (("drop_server", "srv drop"), ("drop_generator", "gen drop"), ("drop_backlog", "backlog"), ("late", "late"),
         ("lost_rest", "rest"), ("generator_cpu", "gen CPU%"), ("idle", "idle %"))
print(f"{'target':<20} {'kind':<14} {'rate/s':>9} {'lost':>8} {'p50 us':>7} {'p99 us':>8} {'CPU-us':>7}"
      + "".join(f" {title:>8}" for _, title in WHERE) + f"  (medians of {len(sys.argv) - 1} runs)")
STANDARD = {"rate", "lost", "sent", "p50", "p99", "cpu_us"} | {key for key, _ in WHERE}
for (target, what) in figures:
    extra = [key for key in figures[(target, what)] if key not in STANDARD]
    if extra:  # ice-bench --cluster: Redis figures and ratios, one value per key
        print(f"{target:<20} {what:<14} " + "  ".join(f"{key} {median(target, what, key):.4g}" for key in extra))
        continue
    print(f"{target:<20} {what:<14} {median(target, what, 'rate'):9.0f} {median(target, what, 'lost'):8.0f}"
          f" {median(target, what, 'p50'):7.0f} {median(target, what, 'p99'):8.0f} {median(target, what, 'cpu_us'):7.2f}"
          + "".join(f" {median(target, what, key):8.0f}" for key, _ in WHERE))

# Ratios per run, then their median (a ratio is only meaningful within one run).
def ratios(target, what, reference, reference_what):
    mine = figures.get((target, what), {}).get("rate", [])
    theirs = figures.get((reference, reference_what), {}).get("rate", [])
    return [a / b for a, b in zip(mine, theirs) if b > 0]

for target in sorted({t for t, _ in figures if t.startswith("ice-server/")}):
    for what, reference in (("heartbeat", "echo"), ("query", "echo"), ("stun", "echo"), ("stun", "coturn")):
        values = ratios(target, what, reference, what)
        if values:
            print(f"{target} {what} / {reference} {what}: median {statistics.median(values):.3f}"
                  f" (runs: {', '.join(f'{v:.3f}' for v in values)})")

# CPU per answer of N threads against one thread of the same transport, per run, then the median.
for target in sorted({t for t, _ in figures if re.match(r"ice-server/[^/]+/t\d+$", t)}):
    one = target.rsplit("/", 1)[0]
    for what in ("heartbeat", "query", "stun"):
        mine = figures.get((target, what), {}).get("cpu_us", [])
        theirs = figures.get((one, what), {}).get("cpu_us", [])
        values = [a / b for a, b in zip(mine, theirs) if b > 0]
        if values:
            print(f"{target} {what} CPU per answer / {one}: median {statistics.median(values):.3f}"
                  f" (runs: {', '.join(f'{v:.3f}' for v in values)})")
