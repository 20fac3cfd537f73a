"""Evaluation runs behind ``viewshift eval``: depth on held-out scenes, poses on clips, view synthesis.

Every function takes its data and conventions as arguments and returns plain dicts (JSON-ready); the metrics
are those of :mod:`viewshift.learn.metrics`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from viewshift.depth.base import DepthMap
from viewshift.errors import InputError
from viewshift.learn import metrics as M


class ConstantDepth:
    """Baseline depth source: the same depth everywhere."""

    def estimate(self, rgb: np.ndarray) -> DepthMap:
        return DepthMap(np.ones(rgb.shape[:2], np.float32), "relative")


class LowerIsNearer:
    """Baseline depth source: "lower in the image is nearer" (:func:`viewshift.learn.metrics.lower_is_nearer`)."""

    def estimate(self, rgb: np.ndarray) -> DepthMap:
        return DepthMap(M.lower_is_nearer(*rgb.shape[:2]), "relative")


def stereo_depth_gt(pair) -> np.ndarray:
    """Ground-truth left depth of a calibrated pair: ``f B / (d + doffs)``, NaN where unknown."""
    disp = pair.read_disparity()
    doffs = pair.K_right[0, 2] - pair.K_left[0, 2]
    return (pair.K_left[0, 0] * pair.baseline / (disp + doffs)).astype(np.float32)


def evaluate_stereo_depth(source, pairs, *, align: str = "median", render: bool = True) -> dict:
    """Depth metrics and right-view synthesis of a depth source on calibrated stereo pairs.

    For each pair: the left depth is predicted and scored against ``f B / (d + doffs)``; then the prediction,
    scale-aligned to the ground truth by the median ratio, drives :func:`viewshift.render.view.render_view` to
    render the right view from the left image, and PSNR is measured against the real right image on the pixels
    the renderer covers (holes excluded) — next to the PSNR of the unmoved left image on the same pixels.

    Args:
        source: a depth source (``estimate(rgb) -> DepthMap``).
        pairs: :class:`viewshift.learn.data.StereoPair` with ``K_left``, ``K_right`` and ``baseline``.
        align: alignment before the depth metrics (``median`` or ``scale_shift``).
        render: also render the right view.

    Returns:
        ``{"per_scene": {name: {...}}, "mean": {...}}``.
    """
    from viewshift.io import read_image

    per = {}
    for pair in pairs:
        if pair.K_left is None:
            raise InputError(f"{pair.name} has no calibration; depth evaluation needs K and baseline")
        left = read_image(pair.left).rgb
        gt = stereo_depth_gt(pair)
        pred = source.estimate(left).depth
        scores = M.depth_metrics(pred, gt, align=align).as_dict()
        if render:
            scores.update(render_right_view(left, read_image(pair.right).rgb, pred, gt, pair))
        per[pair.name] = scores
    keys = [k for k in next(iter(per.values())) if k != "pixels"]
    return {"per_scene": per, "mean": {k: float(np.mean([s[k] for s in per.values()])) for k in keys}}


def render_right_view(left: np.ndarray, right: np.ndarray, pred: np.ndarray, gt: np.ndarray, pair) -> dict:
    """PSNR/SSIM of the right view rendered from ``left`` with median-aligned ``pred`` (and identity)."""
    from viewshift.render.view import render_view

    valid = np.isfinite(gt)
    scaled, _ = M.align_depth(pred, gt, valid, "median")
    K0 = torch.from_numpy(pair.K_left).float()[None]
    K1 = torch.from_numpy(pair.K_right).float()[None]
    T = torch.eye(4)[None]
    T[0, 0, 3] = -pair.baseline  # right_T_left
    img = torch.from_numpy(left.copy()).permute(2, 0, 1)[None].float() / 255
    out = render_view(img, torch.from_numpy(scaled.astype(np.float32))[None, None], K0, T, K1)
    view = out.image[0].permute(1, 2, 0).numpy()
    covered = ~out.holes[0, 0].numpy()
    r = right.astype(np.float32) / 255
    l_img = left.astype(np.float32) / 255
    return {
        "psnr": M.psnr(view, r, covered),
        "ssim": M.ssim(view, r, covered),
        "psnr_identity": M.psnr(l_img, r, covered),
        "coverage": float(covered.mean()),
    }


def sevenscenes_frames(root: str | Path, step: int = 10, start: int = 0, stop: int | None = None):
    """``(rgb, depth_m, world_T_cam)`` of every ``step``-th 7-Scenes frame (depth in metres, NaN = unknown)."""
    import cv2

    from viewshift.io import read_image

    root = Path(root)
    colours = sorted((root / "frames").glob("frame-*.color.jpg"))[start:stop:step]
    for c in colours:
        stem = c.name.replace(".color.jpg", "")
        d = cv2.imread(str(c.with_name(f"{stem}.depth.png")), cv2.IMREAD_UNCHANGED).astype(np.float32)
        d[(d == 0) | (d >= 65535)] = np.nan
        pose = np.loadtxt(c.with_name(f"{stem}.pose.txt")).reshape(4, 4)
        yield read_image(c).rgb, d / 1000.0, pose


def rgbd_frames(frames: list[tuple[str | Path, str | Path]], depth_scale: float):
    """``(rgb, depth_m, None)`` of RGB-D stills given as ``(colour, depth)`` file pairs.

    Args:
        frames: colour image and 16-bit depth image per frame (registered to the colour image).
        depth_scale: metres per depth unit (TUM RGB-D: 1/5000; millimetre depth: 1/1000); 0 = unknown.
    """
    import cv2

    from viewshift.io import read_image

    for colour, depth in frames:
        d = cv2.imread(str(depth), cv2.IMREAD_UNCHANGED)
        if d is None:
            raise InputError(f"cannot read depth image {depth}")
        d = d.astype(np.float32)
        d[d == 0] = np.nan
        yield read_image(colour).rgb, d * depth_scale, None


def evaluate_frames_depth(source, frames, *, align: str = "median", max_depth: float = 10.0) -> dict:
    """Mean depth metrics of a source over ``(rgb, depth, pose)`` frames."""
    scores = [M.depth_metrics(source.estimate(rgb).depth, d, align=align, max_depth=max_depth) for rgb, d, _ in frames]
    return {"frames": len(scores), "mean": M.mean_scores(scores)}
