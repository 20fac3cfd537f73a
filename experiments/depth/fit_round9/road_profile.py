"""Round 9: a KITTI-turn model's depth of the road against the road's known shape (validation sources only).

    python experiments/depth/fit_round9/road_profile.py /work/runs/r9/fit/kitti-turn/fitted-clip-s2.pt [...]

KITTI's poses are metric and its colour camera is 1.65 m above a nearly flat road, so the road's depth at image
row ``y`` is ``f_y · 1.65 / (y − c_y)``. Over the 120 centre columns (road on every frame) it prints, per row
band, the median ratio to that depth of (1) the fitted network's own depth times its scale, and of the fused
depths (``fused_depth``, held-out and validation targets excluded from the sweep) filled (2) by the fitted and
(3) by the built-in network, with the sweep's mean confidence there (4).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))
CAMERA_HEIGHT_M = 1.65
SOURCES = (0, 12, 24, 36, 48)  # validation sources (targets 1, 13, 25, 37, 49)


def main() -> int:
    from depth_fit_clips import shared_sweeps

    from viewshift.depth.builtin import BuiltinDepth
    from viewshift.io import read_image
    from viewshift.learn.data import read_clip
    from viewshift.learn.fit import fused_depth

    for model in map(Path, sys.argv[1:]):
        rgb = [read_image(p).rgb for p in read_clip(model.parent / "clip").frames]
        K = np.load(str(model) + ".run/cameras.npz")["K"]
        fitted = BuiltinDepth(model)
        exclude = sorted(set(range(3, len(rgb), 4)) | {k + 1 for k in SOURCES})
        print(model.name)
        for src in SOURCES:
            raw = fitted.estimate(rgb[src]).depth * float(fitted.meta["scale"])
            with shared_sweeps():
                fus = fused_depth(model, src, images=rgb, exclude=exclude, prior="fitted")
                geo = fused_depth(model, src, images=rgb, exclude=exclude, prior="builtin")
            h, w = raw.shape
            cols = slice(w // 2 - 60, w // 2 + 60)
            cells = []
            for y0 in range(h - 80, h, 20):
                ys = np.arange(y0, y0 + 20)
                road = K[1, 1] * CAMERA_HEIGHT_M / (ys - K[1, 2])

                def ratio(d, ys=ys, road=road, cols=cols):
                    return np.median(d[ys][:, cols] / road[:, None])

                cells.append(f"{road.mean():4.1f} m: {ratio(raw):5.2f} {ratio(fus.depth):5.2f} {ratio(geo.depth):4.2f}"
                             f" c{geo.confidence[ys][:, cols].mean():.2f}")  # fmt: skip
            print(f"  source {src:2d} | " + " | ".join(cells))
    print("per band: road depth: fitted network, fused (fitted fill), geometric (built-in fill) / road; c: confidence")
    return 0


if __name__ == "__main__":
    sys.exit(main())
