"""Round 6's held-out table: every fit-table row over seeds 0, 1 and 2 (seeds6.json), the fitted fill (``fused``)
and the fill by both networks (``fused_both``) against the geometric depth alone, scored by the rule in README.md.

    python experiments/depth/fit_round6/summarise.py [SEEDS_JSON]
    python experiments/depth/fit_round6/summarise.py choose6.json --choose    # held-out rule 2 (fill_choose)
    python experiments/depth/fit_round6/summarise.py ../fit_round8/cost8.json --cost   # round 8 (cost check)

With ``--choose`` (held-out rule 2): first the chosen fill of the geometric depth against the plain one
(decision 1), then the chosen fills of the fit against the chosen geometric depth (decision 2). With ``--cost``
(round 8) the same for the fill's matching-cost check (columns ``*_cost``).

d = fill − geometric (held-out PSNR, dB); (c) is shown on a row when d > 0 in all three seeds. A seed-0 fit with
fewer than 85 % of round 5's seed-1 steps on its row counts as disturbed; its repeat (key suffix ``-repeat``)
takes its place and the disturbed run is listed below the table. The last line applies the rule for the default
fill of ``fused_depth``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROWS = ["flower/clip", "flower/estimate", "7scenes/clip", "kitti06/clip", "fox/clip", "kitti-turn/clip"]
FILLS = ("fused", "fused_both")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("seeds", nargs="?", default=HERE / "seeds6.json", type=Path)
    ap.add_argument("--choose", action="store_true", help="held-out rule 2: the fill_choose columns")
    ap.add_argument("--cost", action="store_true", help="round 8: the cost-checked columns (*_cost)")
    args = ap.parse_args()
    runs = json.loads(args.seeds.read_text())["clips"]
    if args.cost:
        print("Decision 1: the geometric depth with the cost-checked fill against the plain one\n")
        table(runs, "geometric", ("geometric_cost",))
        print("\n(c) with and without the check: the fitted fill against the geometric depth\n")
        table(runs, "geometric_cost", ("fused_cost",))
        print()
        return table(runs, "geometric", ("fused",))
    if not args.choose:
        return table(runs, "geometric", FILLS, default_rule=True)
    print("Decision 1: the geometric depth with the chosen fill against the plain one\n")
    table(runs, "geometric", ("geometric_choose",))
    print("\nDecision 2: the fit's fills, chosen, against the chosen geometric depth\n")
    return table(runs, "geometric_choose", ("fused_choose", "fused_both_choose"), default_rule=True)


def table(runs: dict, base: str, fills: tuple[str, ...], default_rule: bool = False) -> int:
    """Print the three-seed table of ``fills`` against ``base`` (d = fill − base) and the rule's lines."""
    round5 = json.loads((HERE.parent / "fit_round5" / "seeds.json").read_text())["clips"]
    head = "".join(f" | {f} − {base}, seeds 0 / 1 / 2 | mean | (c)" for f in fills)
    lines = [
        f"| row{head} | fitted − built-in, mean (min) | fitted − plane, mean (min) | steps 0 / 1 / 2 |",
        "|---|" + "---|---|---|" * len(fills) + "---|---|---|",
    ]
    disturbed, shown, all_d = [], {f: 0 for f in fills}, {f: [] for f in fills}
    for row in ROWS:
        seeds = []
        for s in (0, 1, 2):
            r = runs.get(f"{row}-s{s}")
            if s == 0 and r is not None and r["fit"]["step"] < 0.85 * round5[f"{row}-s1"]["fit"]["step"]:
                disturbed.append((f"{row}-s0", r))
                r = None
            if s == 0 and r is None:
                r = runs.get(f"{row}-s0-repeat")
            seeds.append(r)
        done = [r for r in seeds if r is not None]
        if not done:
            lines.append(f"| {row} |" + " — | | |" * len(fills) + " | | |")
            continue
        cells = []
        for fill in fills:
            d = [r[fill] - r[base] for r in done if fill in r]
            all_d[fill] += d
            ok = len(d) == 3 and min(d) > 0
            shown[fill] += ok
            per_seed = " / ".join("—" if r is None or fill not in r else f"{r[fill] - r[base]:+.2f}" for r in seeds)
            mean = f"{sum(d) / len(d):+.2f}" if d else "—"
            cells += [per_seed, mean, "yes" if ok else ("no" if len(d) == 3 else "…")]
        a = [r["fitted"] - r["builtin"] for r in done]
        b = [r["fitted"] - r["plane"] for r in done]
        steps = " / ".join("—" if r is None else str(r["fit"]["step"]) for r in seeds)
        lines.append(
            f"| {row} | {' | '.join(cells)} | {sum(a) / len(a):+.2f} ({min(a):+.2f}) | "
            f"{sum(b) / len(b):+.2f} ({min(b):+.2f}) | {steps} |"
        )
    print("\n".join(lines))
    for key, r in disturbed:
        d = r[fills[0]] - r[base]
        print(f"\ndisturbed (repeated): {key}: {r['fit']['step']} steps, {fills[0]} − {base} {d:+.2f}")
    means = {f: sum(v) / len(v) if v else float("nan") for f, v in all_d.items()}
    for f in fills:
        n = len(all_d[f])
        print(f"\n{f}: d > 0 in every seed on {shown[f]} of {len(ROWS)} rows; mean d over {n} runs {means[f]:+.3f} dB")
    if len(fills) == 1:  # decision 1's (i) and (ii): rows whose three-seed mean d is >= 0
        rows_ok = (
            sum(1 for i in range(len(ROWS)) if sum(all_d[fills[0]][3 * i : 3 * i + 3]) >= 0)
            if len(all_d[fills[0]]) == 3 * len(ROWS)
            else None
        )
        print(f"rows with three-seed mean d >= 0: {rows_ok}")
    complete = all(len(v) == 3 * len(ROWS) for v in all_d.values())
    if not complete:
        print("\nrule: not all 18 runs scored yet")
    elif default_rule:
        first, second = fills
        both = shown[second] >= shown[first] and means[second] > means[first]
        print(f"\nrule: the default fill becomes {'both' if both else 'fitted (unchanged)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
