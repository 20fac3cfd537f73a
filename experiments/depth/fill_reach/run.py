"""Does a fill test that reaches as far as the real holes, or leaves out whole surfaces, choose better?
(validation only; round 6's held-out rule 2 found `fill_choose` propagating into large unmatched walls:
experiments/depth/fit_round6)

    python experiments/depth/fill_reach/run.py depth --out /work/runs/lead/mv_reach      # AbsRel, 7 rows with depth
    python experiments/depth/fill_reach/run.py render --work /work/runs/lead/fit5 --clips kitti-turn --tags=-s1 \
        -o OUT.json                                                                       # validation frames

`viewshift.multiview.planesweep.choose_fill` is replaced by a wrapper that gives it its left-out pixels:
``--test reach``: blocks of side ``2 D + 1``, ``D`` = the ``--quantile`` of the low-confidence pixels' distance
to the nearest confident pixel (at least round 6's ``2 radius + 1``), so a left-out block's centre is as far from
kept depth as most hole pixels are; ``--test surfaces``: whole confident regions cut at depth steps
(:func:`surface_mask`).
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


def reach_mask(conf, threshold: float, radius: int, quantile: float):
    """Blocks of side ``2 D + 1`` (at least ``2 radius + 1``), ``D`` = the holes' reach quantile."""
    from viewshift.multiview.planesweep import block_mask

    low = (conf < threshold)[0, 0].numpy().astype(np.uint8)
    reach = 0.0
    if low.any() and not low.all():
        dist = cv2.distanceTransform(low, cv2.DIST_L2, 5)
        reach = float(np.quantile(dist[low > 0], quantile))
    side = max(2 * radius + 1, int(2 * reach + 1))
    return block_mask(*conf.shape[-2:], side), f"reach {reach:.0f} block {side}"


def surface_mask(inv, conf, threshold: float, radius: int, edge: float):
    """Whole surfaces: the confident pixels cut at depth edges (neighbours whose inverse depths differ by more
    than ``edge`` relative) into connected regions; every other region by size, the largest kept, is left out.
    Falls back to the blocks when the confident pixels form fewer than 3 regions of >= 50 pixels."""
    import torch

    from viewshift.multiview.planesweep import block_mask

    ok = (conf >= threshold)[0, 0].numpy()
    g = np.log(inv[0, 0].clamp_min(1e-9).numpy())
    smooth = np.ones_like(ok)
    smooth[:, 1:] &= np.abs(np.diff(g, axis=1)) < edge
    smooth[1:, :] &= np.abs(np.diff(g, axis=0)) < edge
    n, labels, stats, _ = cv2.connectedComponentsWithStats((ok & smooth).astype(np.uint8), connectivity=4)
    regions = [i for i in np.argsort(-stats[1:, cv2.CC_STAT_AREA]) + 1 if stats[i, cv2.CC_STAT_AREA] >= 50]
    if len(regions) < 3:
        return block_mask(*conf.shape[-2:], 2 * radius + 1), f"{len(regions)} regions: blocks"
    out = np.isin(labels, regions[1::2])
    return torch.from_numpy(out)[None, None], f"{len(regions)} regions, {out.mean():.0%} left out"


def patch(test: str, quantile: float, edge: float) -> None:
    from viewshift.multiview import planesweep

    real = planesweep.choose_fill

    def choose(inv, conf, prior_inv, threshold, radius, support, left_out=None):
        if test == "reach":
            left_out, what = reach_mask(conf, threshold, radius, quantile)
        else:
            left_out, what = surface_mask(inv, conf, threshold, radius, edge)
        out, winner = real(inv, conf, prior_inv, threshold, radius, support, left_out=left_out)
        print(f"  choose: {tuple(inv.shape[-2:])} {what} -> {winner}", file=sys.stderr)
        return out, winner

    planesweep.choose_fill = choose


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["depth", "render"])
    ap.add_argument("--test", choices=["reach", "surfaces"], default="reach", help="left-out regions (default: reach)")
    ap.add_argument("--quantile", type=float, default=0.9, help="reach: quantile of the holes' reach (default: 0.9)")
    ap.add_argument("--edge", type=float, default=0.05, help="surfaces: log-depth step that cuts them (default: 0.05)")
    args, rest = ap.parse_known_args()
    patch(args.test, args.quantile, args.edge)
    if args.mode == "depth":
        import multiview_eval

        rows = ["7scenes-a", "7scenes-b", "rgbd-5", "tum-fr1", "7scenes-c", "rgbd-5-ref1", "rgbd-5-ref3"]
        return multiview_eval.main(["--only", *rows, "--write", "--threads", "2", *rest])
    import fill_validation

    sys.argv = ["fill_validation.py", *rest]
    return fill_validation.main()


if __name__ == "__main__":
    sys.exit(main())
