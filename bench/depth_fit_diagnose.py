"""Why the old ``viewshift fit`` did not learn (issue 17): the measurements behind docs/depth/fit.md, section 1.

    python bench/depth_fit_diagnose.py            # 7-Scenes redkitchen, ~1 minute on a busy 2-core machine

On the 7-Scenes redkitchen clip the old bench used (frames 0–249, every 3rd, 256×192, ground-truth poses and
metric depth), with the old ``fit`` preset and the built-in weights, it measures:

1. the photometric loss (SSIM 0.85 + L1, the fit preset's) of a snippet batch at the start of a fit (built-in
   depth, the fresh pose network's near-zero motion) against built-in depth with the true poses (best global
   scale), the true depth with the true poses, and a plane at the true median depth with the true poses;
2. the gradient each loss term sends into the depth network (norm over its parameters), the anchor at weight 10;
3. the image motion between snippet neighbours (median optical flow in pixels, from the true depth and poses)
   for frame strides 1, 2, 4, 8 of the clip;
4. the intrinsics after the clip's resize and the training crop (against K scaled by hand);
5. the explainability mask and the progress bar's total under the old preset.

Writes docs/depth/fit_diagnose.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from viewshift.depth.builtin import BUILTIN_WEIGHTS
from viewshift.geometry import project_depth
from viewshift.learn import losses as L
from viewshift.learn.evaluate import sevenscenes_frames
from viewshift.learn.trainer import PRESETS, SfmModel, _init_from, make_config

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("VIEWSHIFT_SHARED_DATA", REPO / ".." / "shared" / "data")).resolve()
SCENE = DATA / "video" / "7scenes-redkitchen"
SIZE = (192, 256)
SCALE = 0.4


def load(step: int = 3, stop: int = 250):
    """Frames ``(N, 3, H, W)``, true depth ``(N, 1, H, W)`` (NaN unknown), world_T_cam ``(N, 4, 4)``, K (3, 3)."""
    ims, deps, poses = [], [], []
    for rgb, d, p in sevenscenes_frames(SCENE, step, 0, stop):
        ims.append(cv2.resize(rgb, SIZE[::-1], interpolation=cv2.INTER_AREA))
        deps.append(cv2.resize(d, SIZE[::-1], interpolation=cv2.INTER_NEAREST))
        poses.append(p)
    f = 585.0 * SCALE
    K = np.array([[f, 0, (320 + 0.5) * SCALE - 0.5], [0, f, (240 + 0.5) * SCALE - 0.5], [0, 0, 1]])
    x = torch.from_numpy(np.stack(ims)).permute(0, 3, 1, 2).float() / 255
    return x, torch.from_numpy(np.stack(deps))[:, None], torch.from_numpy(np.stack(poses)), torch.from_numpy(K)


def photometric(target, sources, depth, src_T_tgt, K, mask=None) -> float:
    """Mean single-scale SSIM/L1 error of the fit preset over in-view (and ``mask``) pixels."""
    b, n = sources.shape[:2]
    from viewshift.render.warp import inverse_warp

    warped, valid = inverse_warp(
        sources.flatten(0, 1), depth.repeat_interleave(n, 0), K.repeat_interleave(n, 0), src_T_tgt.flatten(0, 1)
    )
    err = L._photometric_error_many(target, warped.view(b, n, 3, *target.shape[-2:]), 0.85)
    w = valid.view(b, n, 1, *target.shape[-2:]).float()
    if mask is not None:
        w = w * mask[:, None].float()
    return float((err * w).sum() / w.sum())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("-o", "--output", default=str(REPO / "docs" / "depth" / "fit_diagnose.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x, gt, P, K0 = load()
    n = len(x)
    result: dict = {"command": "python bench/depth_fit_diagnose.py", "frames": n, "size": list(SIZE)}

    # The old fit's model: built-in depth net, fresh pose net, anchor 10, explainability off.
    cfg = make_config("fit", init=str(BUILTIN_WEIGHTS), anchor_weight=10.0, steps=100_000, height=192, width=256)
    model = SfmModel(cfg)
    _init_from(model, cfg.init)
    model.freeze_anchor()
    result["old_preset"] = {
        "lr": cfg.lr,
        "batch_size": cfg.batch_size,
        "explainability": cfg.explainability,
        "explain_weight": cfg.explain_weight,
        "anchor_weight": cfg.anchor_weight,
        "progress_bar_total": cfg.steps,
        "checkpoint_minutes": cfg.checkpoint_minutes,
        "default_threads": PRESETS["fit"].get("threads", 1),
    }

    ts = list(range(2, n - 2, 4))
    Kb = K0[None].float().repeat(len(ts), 1, 1)
    rows = {}
    for stride in (1, 2, 4, 8):
        ok = [t for t in ts if t - stride >= 0 and t + stride < n]
        tgt = x[ok]
        src = torch.stack([x[[t - stride, t + stride]] for t in ok])
        T = torch.stack([torch.stack([torch.linalg.inv(P[s]) @ P[t] for s in (t - stride, t + stride)]) for t in ok])
        T = T.float()
        Kk = Kb[: len(ok)]
        d_true = gt[ok]
        valid = torch.isfinite(d_true)
        med = float(d_true[valid].median())
        d_fill = torch.where(valid, d_true, torch.full_like(d_true, med))
        with torch.no_grad():
            d_net = model.depth_net(tgt)[0]
            vec, _ = model.pose_net(tgt, src)
        from viewshift.geometry import pose_vector_to_matrix

        T_init = pose_vector_to_matrix(vec.reshape(-1, 6)).reshape(len(ok), 2, 4, 4)
        s_med = float((d_true[valid] / d_net[valid]).median())
        # best global scale of the built-in depth for the true poses (grid search, generous to the built-in)
        scales = s_med * np.exp(np.linspace(-1.5, 1.5, 31))
        photo_scaled = [photometric(tgt, src, d_net * s, T, Kk, valid) for s in scales]
        # image motion of the true depth + pose (median over valid pixels, both neighbours)
        pix, _ = project_depth(d_fill.repeat_interleave(2, 0), Kk.repeat_interleave(2, 0), T.flatten(0, 1))
        grid = torch.stack(torch.meshgrid(torch.arange(SIZE[0]), torch.arange(SIZE[1]), indexing="ij")[::-1], 0)
        flow = (pix - grid[None].float()).norm(dim=1)  # (2B, H, W)
        rows[stride] = {
            "baseline_cm_median": float(np.median([(P[t, :3, 3] - P[t + stride, :3, 3]).norm() * 100 for t in ok])),
            "flow_px_median": float(flow[valid.repeat_interleave(2, 0)[:, 0]].median()),
            "photometric_start_builtin_depth_initial_pose_net": photometric(tgt, src, d_net, T_init, Kk, valid),
            "photometric_identity_warp": photometric(tgt, src, d_fill, torch.eye(4).expand_as(T), Kk, valid),
            "photometric_builtin_depth_true_pose_median_scale": photometric(tgt, src, d_net * s_med, T, Kk, valid),
            "photometric_builtin_depth_true_pose_best_scale": float(min(photo_scaled)),
            "photometric_plane_at_median_true_pose": photometric(tgt, src, torch.full_like(d_fill, med), T, Kk, valid),
            "photometric_true_depth_true_pose": photometric(tgt, src, d_fill, T, Kk, valid),
        }
        if stride == 1:
            # Gradients into the depth net from each term of the old objective on this batch (first 4 snippets).
            batch = {
                "target": tgt[:4],
                "sources": src[:4],
                "K": Kk[:4],
                "has_pose": torch.tensor([False] * 4),
                "has_depth": torch.tensor([False] * 4),
            }
            grads = {}
            for name in ("photometric_and_smooth", "anchor_x10"):
                model.zero_grad()
                cfg.anchor_weight, cfg.photometric_weight = (0.0, 1.0) if name != "anchor_x10" else (10.0, 0.0)
                # the anchor's loss is exactly zero at the start (the copy equals the net): perturb by one Adam
                # step's worth of noise to measure its pull once depth moves
                out = model(batch)
                out["loss"].backward()
                grads[name] = float(
                    torch.sqrt(sum((p.grad**2).sum() for p in model.depth_net.parameters() if p.grad is not None))
                )
            cfg.anchor_weight, cfg.photometric_weight = 10.0, 1.0
            result["depth_net_gradient_norm_at_start"] = grads
    result["by_stride"] = rows
    # After one Adam step (lr 1e-4) of the photometric loss alone, how much the anchor pulls back.
    opt = torch.optim.Adam(model.depth_net.parameters(), lr=1e-4)
    cfg.anchor_weight = 0.0
    for _ in range(20):
        opt.zero_grad()
        model(batch)["loss"].backward()
        opt.step()
    cfg.anchor_weight = 10.0
    parts = {}
    for name, (aw, pw) in {"photometric_and_smooth": (0.0, 1.0), "anchor_x10": (10.0, 0.0)}.items():
        cfg.anchor_weight, cfg.photometric_weight = aw, pw
        model.zero_grad()
        out = model(batch)
        out["loss"].backward()
        parts[name] = float(torch.sqrt(sum((p.grad**2).sum() for p in model.depth_net.parameters())))
    result["depth_net_gradient_norm_after_20_photometric_steps"] = parts
    # Intrinsics through the training resize + crop of a portrait 360×640 clip (the fox) to the preset's 192×256:
    # scale_crop's K against the hand computation (factor 256/360, rows cropped symmetrically).
    from viewshift.learn.data import scale_crop

    Kp = torch.tensor([[495.0, 0, 179.5], [0, 495.0, 319.5], [0, 0, 1]], dtype=torch.float64)
    _, Kc, _ = scale_crop([torch.zeros(3, 640, 360)], Kp, SIZE, None)
    f = 256 / 360
    hs = int(np.ceil(640 * f))
    by_hand = [495 * f, (179.5 + 0.5) * f - 0.5, (319.5 + 0.5) * (hs / 640) - 0.5 - (hs - 192) // 2]
    result["K_check_fox_to_192x256"] = {
        "scale_crop": [float(Kc[0, 0]), float(Kc[0, 2]), float(Kc[1, 2])],
        "by_hand": by_hand,
    }
    text = json.dumps(result, indent=2)
    print(text)
    Path(args.output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
