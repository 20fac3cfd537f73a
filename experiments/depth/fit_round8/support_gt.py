"""Round 8: AbsRel against ground-truth depth of the geometric depth's mono fill at several ``fill_support`` and
``fill_cost_margin``.

    python experiments/depth/fit_round8/support_gt.py -o experiments/depth/fit_round8/support_gt.json

The rows of ``bench/multiview_eval.py`` that have ground-truth depth, cameras estimated as there, one sweep per row
(``shared_sweeps``), the fill done at each ``SweepConfig.fill_support`` (0.05 = the default; 0 = the whole local
correction everywhere) and each ``fill_cost_margin`` (``cost_*``: per low-confidence pixel the propagated depth
where the sweep's cost at it is lower by more than the margin; ``cost_0.02_good_*``: and below that cost,
``fill_cost_good``). Whole-image AbsRel (median-aligned, depth <= 10), as the bench's ``absrel_geo``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))

SUPPORTS = (0.05, 0.02, 0.005, 0.0)
MARGINS = (0.02, 0.05)
GOOD = (0.3, 0.2, 0.1, 0.05)  # fill_cost_good levels at margin 0.02


def main() -> int:
    from depth_fit_clips import shared_sweeps
    from multiview_eval import CLIPS, score_depth

    from viewshift.multiview import SweepConfig, estimate_cameras, multiview_depth

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    config = SweepConfig(threads=args.threads, fill_cost_margin=None)  # the cost check only where named
    rows = {}
    for name, load in CLIPS.items():
        clip = load()
        if clip["depth"] is None:
            continue
        frames, ref = clip["frames"], clip["ref"]
        cams = estimate_cameras(frames, focal=clip["focal"])
        row = {}
        with shared_sweeps():
            for s in SUPPORTS:
                d = multiview_depth(frames, ref, cameras=cams, config=replace(config, fill_support=s)).depth
                row[f"support_{s:g}"] = score_depth(d, clip["depth"])
            for m in MARGINS:
                d = multiview_depth(
                    frames, ref, cameras=cams, config=replace(config, fill_cost_margin=m, fill_cost_good=1.0)
                ).depth
                row[f"cost_{m:g}"] = score_depth(d, clip["depth"])
            for g in GOOD:
                cfg = replace(config, fill_cost_margin=0.02, fill_cost_good=g)
                row[f"cost_0.02_good_{g:g}"] = score_depth(
                    multiview_depth(frames, ref, cameras=cams, config=cfg).depth, clip["depth"]
                )
            d = multiview_depth(frames, ref, cameras=cams, fill="propagate", config=config).depth
            row["propagate"] = score_depth(d, clip["depth"])
        rows[name] = row
        print(name, {k: round(v, 3) for k, v in row.items()}, flush=True)
        Path(args.output).write_text(json.dumps(rows, indent=2))
    keys = list(next(iter(rows.values())))
    print("| row | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{row[k]:.3f}" for k in keys) + " |")
    print("| mean | " + " | ".join(f"{np.mean([r[k] for r in rows.values()]):.3f}" for k in keys) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
