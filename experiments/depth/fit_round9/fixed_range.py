"""Round 9, after the held-out rule's queue: the old and the new loss's fits of the KITTI turn with one common
sweep range (validation frames only).

    python experiments/depth/fit_round9/fixed_range.py -o experiments/depth/fit_round9/fixed_range.json

With known poses ``fused_depth`` bounds the sweep by the fitted depth's 1st–99th percentile (times 0.4 and 2.5),
so the geometric column moves with the fit. Here every model's sweep runs between the same ``NEAR`` and ``FAR``
(metres; the middle of the five seeds' ranges), so the two fits' fills are compared on the same sweep: the
exploration fits of seed 2 with the old loss and with ``min_reprojection`` + ``automask`` (5 minutes, 2 threads).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))
NEAR, FAR = 4.0, 240.0
MODELS = {
    "old loss": "/work/runs/r9/fit/kitti-turn/fitted-clip-s2.pt",
    "min_reprojection + automask": "/work/runs/r9/fit/kitti-turn/fitted-clip-s2-md2.pt",
}


def main() -> int:
    from depth_fit_clips import score

    from viewshift.learn import fit as fit_module

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    real = fit_module.depth_range_points
    fit_module.depth_range_points = lambda W, frames, near, far: real(W, frames, NEAR, FAR)
    sweeps = {"geometric": ("builtin", None), "fused": ("fitted", None), "fused_both": ("both", None)}
    results = {}
    for name, model in MODELS.items():
        model = Path(model)
        r = score(model.parent / "clip", model, Path(str(model) + ".run"), 4, True, validation=True, sweeps=sweeps)
        results[name] = r
        print(name, {k: round(r[k], 2) for k in ("fitted", "builtin", *sweeps)}, flush=True)
    Path(args.output).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
