"""Round 9: where on a KITTI-turn frame the fitted network's fill renders worse than the built-in one's
(validation frames only: the fitted frames k = 1, 5, 9, ... rendered from k - 1; held-out frames never given).

    python experiments/depth/fit_round9/where_loses.py --model /work/runs/r9/fit/kitti-turn/fitted-clip-s2.pt \
        -o experiments/depth/fit_round9/where_loses.png

Per validation pair: the source, its sweep confidence, log(fused / geometric depth) (fused: the fitted network
fills; geometric: the built-in one does; the cost check on for both), and the target's per-pixel error difference
|fused render - target| - |geometric render - target| (red: the fitted fill renders worse). Prints the error
difference summed over bands of the target (top / middle / bottom thirds, left / centre / right thirds).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))


def main() -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from depth_fit_clips import shared_sweeps

    from viewshift.io import read_image
    from viewshift.learn.data import read_clip
    from viewshift.learn.fit import fused_depth
    from viewshift.render.view import render_view

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--frames", default="1,13,25,37,49", help="validation targets k (rendered from k - 1)")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    model = Path(args.model)
    run = Path(str(model) + ".run")
    clip = read_clip(model.parent / "clip")
    rgb = [read_image(p).rgb for p in clip.frames]
    cams = np.load(run / "cameras.npz")
    W, K = cams["world_T_cam_initial"], torch.from_numpy(np.asarray(cams["K"], np.float32))[None]
    held = list(range(3, len(rgb), 4))
    targets = [int(k) for k in args.frames.split(",")]
    fig, axes = plt.subplots(len(targets), 4, figsize=(20, 1.6 * len(targets) + 0.5))
    total = np.zeros((3, 3))
    for row, k in zip(axes, targets, strict=True):
        src = k - 1
        exclude = sorted(set(held) | set(targets))
        with shared_sweeps():
            geo = fused_depth(model, src, images=rgb, exclude=exclude, prior="builtin")
            fus = fused_depth(model, src, images=rgb, exclude=exclude, prior="fitted")
        T = torch.from_numpy(np.linalg.inv(W[k]) @ W[src]).float()[None]
        img = torch.from_numpy(rgb[src].copy()).permute(2, 0, 1)[None].float() / 255
        target = rgb[k].astype(np.float32) / 255
        errs, cover = [], np.ones(target.shape[:2], bool)
        for d in (geo.depth, fus.depth):
            r = render_view(img, torch.from_numpy(d)[None, None], K, T)
            cover &= ~r.holes[0, 0].numpy()
            errs.append(np.abs(r.image[0].permute(1, 2, 0).numpy() - target).mean(-1))
        diff = np.where(cover, errs[1] - errs[0], 0.0)
        h, w = diff.shape
        for i in range(3):
            for j in range(3):
                total[i, j] += diff[i * h // 3 : (i + 1) * h // 3, j * w // 3 : (j + 1) * w // 3].sum()
        row[0].imshow(rgb[src])
        row[1].imshow(geo.confidence, vmin=0, vmax=1, cmap="gray")
        row[2].imshow(np.log(fus.depth / geo.depth), vmin=-0.5, vmax=0.5, cmap="coolwarm")
        row[3].imshow(diff, vmin=-0.1, vmax=0.1, cmap="coolwarm")
        for a, t in zip(row, (f"source {src}", "sweep confidence", "log fused / geometric depth", f"target {k}: "
                              "error fused − geometric"), strict=True):  # fmt: skip
            a.set_title(t, fontsize=8)
            a.axis("off")
        print(f"target {k}: mean error difference {diff[cover].mean():+.4f} over {cover.mean():.2f} of the pixels")
    fig.tight_layout()
    fig.savefig(args.output, dpi=80)
    print("error difference summed per band (rows top→bottom, columns left→right):")
    print(np.round(total / total.__abs__().sum(), 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
