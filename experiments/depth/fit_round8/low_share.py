"""Round 8: how much of a KITTI-turn frame the fill decides (the share of low-confidence pixels), and how far the
fitted and the built-in fills differ there.

    python experiments/depth/fit_round8/low_share.py

Seed 2's model of the three-seed table (``/work/runs/lead/fit5/kitti-turn``), source frames 2, 10, 22, 34, 46
(fitted frames; the held-out frames 3, 7, ... excluded from the sweep as in the bench), ``fused_depth`` with the
fitted and with the built-in prior, the fill's cost check on (the default).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))


def main() -> int:
    from depth_fit_clips import shared_sweeps

    from viewshift.learn.fit import fused_depth

    torch.set_num_threads(1)
    model = Path("/work/runs/lead/fit5/kitti-turn/fitted-clip-s2.pt")
    held = tuple(range(3, 51, 4))
    with shared_sweeps():
        for k in (2, 10, 22, 34, 46):
            fitted = fused_depth(model, k, exclude=held, prior="fitted")
            builtin = fused_depth(model, k, exclude=held, prior="builtin")
            low = fitted.confidence < 0.1
            ratio = np.abs(np.log(fitted.depth / builtin.depth))[low]
            print(f"frame {k}: low-confidence share {low.mean():.2f}; |log fitted/built-in| on it: median "
                  f"{np.median(ratio):.2f}, 90th percentile {np.percentile(ratio, 90):.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
