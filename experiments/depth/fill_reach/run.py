"""Does a fill test that reaches as far as the real holes choose better? (validation only; round 6's held-out
rule 2 found `fill_choose` propagating into large unmatched walls: experiments/depth/fit_round6)

    python experiments/depth/fill_reach/run.py depth --out /work/runs/lead/mv_reach      # AbsRel, 7 rows with depth
    python experiments/depth/fill_reach/run.py render --work /work/runs/lead/fit5 --clips kitti-turn --tags=-s1 \
        -o OUT.json                                                                       # validation frames

`viewshift.multiview.planesweep.choose_fill` is replaced by a wrapper whose left-out blocks have side
``2 D + 1``, ``D`` = the ``--quantile`` of the low-confidence pixels' distance to the nearest confident pixel (at
least round 6's ``2 radius + 1``), so a left-out block's centre is as far from kept depth as most hole pixels are.
Everything that uses ``fill_choose=True`` (multiview_eval's "chosen fill" column, fill_validation's ``*_choose``
variants) then uses it. Each choice is printed (frame size, D, block, winner).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "experiments" / "depth" / "fit_round5"))


def patch(quantile: float) -> None:
    from viewshift.multiview import planesweep

    real = planesweep.choose_fill

    def choose(inv, conf, prior_inv, threshold, radius, support, block=None):
        low = (conf < threshold)[0, 0].numpy().astype(np.uint8)
        reach = 0.0
        if low.any() and not low.all():
            dist = cv2.distanceTransform(low, cv2.DIST_L2, 5)
            reach = float(np.quantile(dist[low > 0], quantile))
        side = max(2 * radius + 1, int(2 * reach + 1))
        out, winner = real(inv, conf, prior_inv, threshold, radius, support, block=side)
        print(f"  choose: {tuple(inv.shape[-2:])} reach {reach:.0f} block {side} -> {winner}", file=sys.stderr)
        return out, winner

    planesweep.choose_fill = choose


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["depth", "render"])
    ap.add_argument("--quantile", type=float, default=0.9, help="quantile of the holes' reach (default: 0.9)")
    args, rest = ap.parse_known_args()
    patch(args.quantile)
    if args.mode == "depth":
        import multiview_eval

        rows = ["7scenes-a", "7scenes-b", "rgbd-5", "tum-fr1", "7scenes-c", "rgbd-5-ref1", "rgbd-5-ref3"]
        return multiview_eval.main(["--only", *rows, "--write", "--threads", "2", *rest])
    import fill_validation

    sys.argv = ["fill_validation.py", *rest]
    return fill_validation.main()


if __name__ == "__main__":
    sys.exit(main())
