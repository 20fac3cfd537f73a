"""Round 5's table: every fit-table row over seeds 0 (docs/depth/fit.json), 1 and 2 (seeds.json), scored by the rule
in README.md.

    python experiments/depth/fit_round5/summarise.py [SEEDS_JSON] [--slower-machine]

A run whose fit steps fall more than 15 % below seed 0's counts as disturbed (the rule); its repeat (key suffix
``-repeat``) takes its place and the disturbed run is listed below the table. ``--slower-machine`` turns that
check off, for runs made on a machine slower than seed 0's with nothing else running (spread.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ROWS = ["flower/clip", "flower/estimate", "7scenes/clip", "kitti06/clip", "fox/clip", "kitti-turn/clip"]


def main() -> int:
    base = json.loads((REPO / "docs" / "depth" / "fit.json").read_text())["clips"]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("seeds", nargs="?", default=Path(__file__).with_name("seeds.json"), type=Path)
    ap.add_argument("--slower-machine", action="store_true", help="no disturbed-run check (off by default)")
    args = ap.parse_args()
    path, slow = args.seeds, 0.0 if args.slower_machine else 0.85
    runs = json.loads(path.read_text())["clips"]
    lines = [
        "| row | fused − geometric, seeds 0 / 1 / 2 (dB) | mean | (c) all > 0 | fitted − built-in, mean (min) "
        "| fitted − plane, mean (min) | steps 0 / 1 / 2 |",
        "|---|---|---|---|---|---|---|",
    ]
    disturbed, verdicts = [], {}
    for row in ROWS:
        seeds = [base[row]]
        for s in (1, 2):
            r = runs.get(f"{row}-s{s}")
            if r is not None and r["fit"]["step"] < slow * base[row]["fit"]["step"]:
                disturbed.append((f"{row}-s{s}", r))
                r = runs.get(f"{row}-s{s}-repeat")
            seeds.append(r)
        done = [r for r in seeds if r is not None]
        d = [r["fused"] - r["geometric"] for r in done]
        a = [r["fitted"] - r["builtin"] for r in done]
        b = [r["fitted"] - r["plane"] for r in done]
        shown = len(done) == 3 and min(d) > 0
        verdicts[row] = {"fused_minus_geometric": [round(x, 3) for x in d], "c_shown": shown}
        cells = " / ".join("—" if r is None else f"{r['fused'] - r['geometric']:+.2f}" for r in seeds)
        steps = " / ".join("—" if r is None else str(r["fit"]["step"]) for r in seeds)
        lines.append(
            f"| {row} | {cells} | {sum(d) / len(d):+.2f} | {'yes' if shown else 'no'} | "
            f"{sum(a) / len(a):+.2f} ({min(a):+.2f}) | {sum(b) / len(b):+.2f} ({min(b):+.2f}) | {steps} |"
        )
    print("\n".join(lines))
    for key, r in disturbed:
        d = r["fused"] - r["geometric"]
        print(f"\ndisturbed (repeated): {key}: {r['fit']['step']} steps, fused − geometric {d:+.2f}")
    print("\n(c) shown on every row:", all(v["c_shown"] for v in verdicts.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
