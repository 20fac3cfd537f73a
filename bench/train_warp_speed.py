"""How much of a training step the shared inverse warp costs, and what a composed-matrix warp would save.

    python bench/train_warp_speed.py [--steps 12]

Times, forward + backward, the four-scale inverse warp of one SfMLearner step (batch 4 × 2 sources, 128×416
and its 1/2, 1/4, 1/8 pyramid) through :func:`viewshift.render.warp.inverse_warp`, against
:func:`composed_warp`, a proposal for ``viewshift.render``/``viewshift.geometry`` (owned by the renderer work,
so it is not changed from here). Both are timed round-robin; the warped values, masks and depth gradients are
compared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from viewshift.geometry import intrinsics, pose_vector_to_matrix, scale_intrinsics
from viewshift.learn.losses import area_pyramid
from viewshift.render.warp import inverse_warp


def composed_warp(
    src_image: torch.Tensor, tgt_depth: torch.Tensor, K: torch.Tensor, src_T_tgt: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The same warp as ``inverse_warp`` with one 3×3 matrix and one 3-vector per camera.

    ``p ~ K R K^-1 [u, v, 1]^T d + K t``; the rows giving ``grid_sample``'s normalised ``x_n = (2u + 1)/W - 1``
    are folded into the matrix (``x_n = ((2/W) p_0 + (1/W - 1) p_2) / p_2``), so no ``(B, 3, H·W)`` rays,
    points or pixel tensors, no batched 3×3 matmuls over pixels and no permute are needed, and the
    in-view test becomes ``|x_n| <= 1``, ``|y_n| <= 1``.
    """
    b, _, h, w = tgt_depth.shape
    hs, ws = src_image.shape[-2:]
    P = K @ src_T_tgt[:, :3, :3] @ torch.linalg.inv(K)
    t = K @ src_T_tgt[:, :3, 3:]
    norm = torch.tensor([[2 / ws, 0, 1 / ws - 1], [0, 2 / hs, 1 / hs - 1], [0, 0, 1]], dtype=P.dtype)
    P, t = norm @ P, (norm @ t)[..., 0]
    u = torch.arange(w, dtype=tgt_depth.dtype).view(1, 1, w)
    v = torch.arange(h, dtype=tgt_depth.dtype).view(1, h, 1)
    d = tgt_depth[:, 0]

    def row(i: int) -> torch.Tensor:
        a = P[:, i].view(b, 3, 1, 1)
        return (a[:, 0] * u + a[:, 1] * v + a[:, 2]) * d + t[:, i].view(b, 1, 1)

    x, y, z = row(0), row(1), row(2)
    zc = z.clamp_min(1e-6)
    grid = torch.stack([x / zc, y / zc], -1)
    out = F.grid_sample(src_image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    valid = (z > 1e-6) & (grid.abs() <= 1).all(-1)
    return out, valid[:, None]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    bn, h, w = 8, 128, 416
    K = intrinsics(200.0, h, w, batch=bn)
    depths = [1 + torch.rand(bn, 1, h >> s, w >> s) for s in range(4)]
    T = pose_vector_to_matrix(0.05 * torch.randn(bn, 6))
    images = area_pyramid(torch.rand(bn, 3, h, w), [tuple(d.shape[-2:]) for d in depths])

    def run(warp) -> tuple[list, list, list]:
        ds = [d.clone().requires_grad_() for d in depths]
        outs, valids, total = [], [], 0
        for im, d in zip(images, ds, strict=True):
            hs, ws = d.shape[-2:]
            out, valid = warp(im, d, scale_intrinsics(K, ws / w, hs / h), T)
            outs.append(out.detach())
            valids.append(valid)
            total = total + (out * valid).mean()
        total.backward()
        return outs, valids, [d.grad for d in ds]

    a, c = run(inverse_warp), run(composed_warp)
    res = {
        "command": " ".join(["python bench/train_warp_speed.py", *(argv if argv is not None else sys.argv[1:])]),
        "threads": args.threads,
        "load_average_1min_start": os.getloadavg()[0],
        "max_abs_diff_warped": max(float((x - y).abs().max()) for x, y in zip(a[0], c[0], strict=True)),
        "mask_disagreement": max(float((x != y).float().mean()) for x, y in zip(a[1], c[1], strict=True)),
        "depth_grad_mean_rel_diff": max(
            float((x - y).abs().mean() / y.abs().mean()) for x, y in zip(a[2], c[2], strict=True)
        ),
    }
    times: dict[str, list[float]] = {"inverse_warp": [], "composed_warp": []}
    for _ in range(args.steps):
        for name, warp in (("inverse_warp", inverse_warp), ("composed_warp", composed_warp)):
            t = time.perf_counter()
            run(warp)
            times[name].append(time.perf_counter() - t)
    res.update({f"{k}_s": round(float(np.median(v)), 4) for k, v in times.items()})
    res["load_average_1min_end"] = os.getloadavg()[0]
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
