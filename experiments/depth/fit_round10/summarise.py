"""Round 10's held-out table and the rule's decision (README.md, "Held-out rule").

    python experiments/depth/fit_round10/summarise.py experiments/depth/fit_round10/heldout-a.json \
        experiments/depth/fit_round10/heldout-b.json

d = fill − geometric (held-out PSNR, dB), seeds 0 / 1 / 2; (c) is shown on a row when d > 0 in all three seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROWS = ["flower/clip", "flower/estimate", "7scenes/clip", "kitti06/clip", "fox/clip", "kitti-turn/clip"]
FILLS = {
    "both (fused_depth's default)": ("both", "geometric"),
    "both, carried": ("both_carried", "geometric"),
    "built-in, carried (no fit's network)": ("geometric_carried", "geometric"),
    "both, carried, against built-in carried": ("both_carried", "geometric_carried"),
}


def read(runs: dict, fill: str, base: str) -> tuple[list[str], int, list[float]]:
    """Table lines of one fill, the rows where (c) is shown and all the d."""
    lines, shown, all_d = [], 0, []
    for row in ROWS:
        rs = [runs.get(f"{row}-s{s}") for s in (0, 1, 2)]
        d = [r[fill] - r[base] for r in rs if r is not None]
        all_d += d
        ok = len(d) == 3 and min(d) > 0
        shown += ok
        cell = " / ".join("—" if r is None else f"{r[fill] - r[base]:+.2f}" for r in rs)
        mean = f"{sum(d) / len(d):+.2f}" if d else "—"
        share = " / ".join(f"{r['carried_share_of_unmatched']:.0%}" for r in rs if r is not None)
        lines.append(f"| {row} | {cell} | {mean} | {'yes' if ok else 'no'} | {share} |")
    return lines, shown, all_d


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", type=Path, nargs="+", help="the queue's results (heldout-a.json, heldout-b.json)")
    args = ap.parse_args()
    runs: dict = {}
    for path in args.runs:
        runs |= json.loads(path.read_text())
    head = "| row | d, seeds 0 / 1 / 2 | mean | (c) | unmatched pixels carried |\n|---|---|---|---|---|"
    result = {}
    for title, (fill, base) in FILLS.items():
        lines, shown, d = read(runs, fill, base)
        mean = sum(d) / len(d) if d else float("nan")
        result[title] = (shown, mean, len(d))
        print(f"\n{title} − {base}\n\n{head}\n" + "\n".join(lines))
        print(f"\n(c) on {shown} of {len(ROWS)} rows; mean d over {len(d)} runs {mean:+.3f} dB")
    (p_shown, p_mean, n), (c_shown, c_mean, _) = list(result.values())[:2]
    if n < 3 * len(ROWS):
        print(f"\nrule: {n} of {3 * len(ROWS)} runs scored")
        return 0
    adopt = c_shown > p_shown or (c_shown == p_shown and c_mean > p_mean)
    print(f"\ndecision: fused_depth {'carries' if adopt else 'does not carry'} the other frames' confident depth")
    return 0


if __name__ == "__main__":
    sys.exit(main())
