"""Round 9's held-out table and the rule's two decisions (README.md, "Held-out rule").

    python experiments/depth/fit_round9/summarise.py experiments/depth/fit_round9/md2.json

d = fill − geometric (held-out PSNR, dB), seeds 0 / 1 / 2; (c) is shown on a row when d > 0 in all three seeds.
Round 8's held-out result 2 (``../fit_round8/both8.json``, the old loss) is read the same way beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROWS = ["flower/clip", "flower/estimate", "7scenes/clip", "kitti06/clip", "fox/clip", "kitti-turn/clip"]
OLD_KEYS = {"flower/estimate-s0": "flower/estimate-s0-repeat"}  # round 8's seed 0 of that row was the repeat


def read(runs: dict, fill: str, old: bool = False) -> tuple[list[str], int, list[float]]:
    """Table lines of one fill, the rows where (c) is shown and all the d."""
    lines, shown, all_d = [], 0, []
    for row in ROWS:
        rs = [runs.get(OLD_KEYS.get(f"{row}-s{s}", f"{row}-s{s}") if old else f"{row}-s{s}") for s in (0, 1, 2)]
        d = [r[fill] - r["geometric"] for r in rs if r is not None]
        all_d += d
        ok = len(d) == 3 and min(d) > 0
        shown += ok
        cell = " / ".join("—" if r is None else f"{r[fill] - r['geometric']:+.2f}" for r in rs)
        mean = f"{sum(d) / len(d):+.2f}" if d else "—"
        done = [r for r in rs if r is not None]
        a = " / ".join(f"{r['fitted'] - r['builtin']:+.2f}" for r in done)
        steps = " / ".join(str(r["fit"]["step"]) for r in done)
        lines.append(f"| {row} | {cell} | {mean} | {'yes' if ok else 'no'} | {a} | {steps} |")
    return lines, shown, all_d


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", type=Path, help="the queue's results (md2a.json and md2b.json merged)")
    args = ap.parse_args()
    new = json.loads(args.runs.read_text())["clips"]
    old = json.loads((HERE.parent / "fit_round8" / "both8.json").read_text())["clips"]
    head = "| row | d, seeds 0 / 1 / 2 | mean | (c) | fitted − built-in, per seed | steps |\n|---|---|---|---|---|---|"
    result = {}
    for title, runs, fill, is_old in (
        ("round 8 (old loss), both networks fill", old, "fused_both", True),
        ("round 9 (min_reprojection + automask), both networks fill", new, "fused_both", False),
        ("round 9, the fitted network fills", new, "fused", False),
    ):
        lines, shown, d = read(runs, fill, is_old)
        mean = sum(d) / len(d) if d else float("nan")
        result[title] = (shown, mean, len(d))
        print(f"\n{title}\n\n{head}\n" + "\n".join(lines))
        print(f"\n(c) on {shown} of {len(ROWS)} rows; mean d over {len(d)} runs {mean:+.3f} dB")
    (o_shown, o_mean, _), (b_shown, b_mean, n), (f_shown, f_mean, _) = result.values()
    if n < 3 * len(ROWS):
        print("\nrule: not all 18 runs scored yet")
        return 0
    beats_builtin = all(r["fitted"] > r["builtin"] for r in new.values())
    adopt = (b_shown > o_shown or (b_shown == o_shown and b_mean > o_mean)) and beats_builtin
    print(f"\nfitted network alone beats the built-in depth in every run: {beats_builtin}")
    print(f"decision 1: min_reprojection and automask {'become the defaults' if adopt else 'stay off'}")
    if adopt:
        fitted = f_shown > b_shown or (f_shown == b_shown and f_mean > b_mean)
        print(f"decision 2: fused_depth's default prior {'returns to fitted' if fitted else 'stays both'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
