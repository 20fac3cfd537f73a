"""Round 10: the geometric depth's AbsRel on bench/multiview_eval.py's clips with depth, with the fill blended
with the propagated depth (``SweepConfig.fill_blend``); nothing written.

    python experiments/depth/fit_round10/absrel_blend.py --blend 0.5
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))
WITH_DEPTH = ["7scenes-a", "7scenes-b", "rgbd-5", "tum-fr1", "7scenes-c", "rgbd-5-ref1", "rgbd-5-ref3"]


def main() -> int:
    import multiview_eval

    from viewshift.multiview import SweepConfig

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--blend", type=float, required=True, help="SweepConfig.fill_blend")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    args = ap.parse_args()
    multiview_eval.SweepConfig = partial(SweepConfig, fill_blend=args.blend)
    return multiview_eval.main(["--only", *WITH_DEPTH, "--threads", str(args.threads)])


if __name__ == "__main__":
    sys.exit(main())
