"""Evaluation metrics. Every assumption (scaling, crop, depth cap, mask) is an argument, never hidden.

Depth (Eigen et al. 2014), over the evaluated pixels ``p`` with ground truth ``d`` and prediction ``d^``:

* ``abs_rel = mean(|d^ - d| / d)``, ``sq_rel = mean((d^ - d)^2 / d)``,
* ``rmse = sqrt(mean((d^ - d)^2))``, ``rmse_log = sqrt(mean((log d^ - log d)^2))``,
* ``a1, a2, a3`` = share of pixels with ``max(d^/d, d/d^) < 1.25, 1.25^2, 1.25^3``.

Before scoring, the prediction is aligned to the ground truth by one of:

* ``"median"`` — ``d^ <- d^ * median(d) / median(d^)`` (SfMLearner's median scaling, for monocular depth);
* ``"scale_shift"`` — least-squares scale and shift of the *disparity* ``1/d^`` to ``1/d`` (the alignment used
  for relative depth models such as MiDaS), then inverted back to depth;
* ``"none"`` — the prediction is already metric.

Predictions are clipped to ``[min_depth, max_depth]`` after alignment and pixels with ground truth outside that
range are not evaluated.

Pose (SfMLearner's snippet ATE): for a snippet of ``n`` frames, both trajectories are expressed relative to the
first frame (camera centres ``c_i`` of ``first_T_i``); the predicted centres are scaled by the single factor
``s = sum(c_gt · c_pred) / sum(c_pred · c_pred)`` that best fits the ground truth (least squares, no rotation or
shift beyond the shared first frame); ``ATE = sqrt(mean_i |s c_pred_i - c_gt_i|^2)``. The rotation error of a
frame is the angle of ``R_pred^T R_gt`` in degrees, averaged over the snippet.

View synthesis: PSNR ``= 10 log10(1 / MSE)`` for images in [0, 1] and mean SSIM (3×3 windows, ``C1 = 0.01^2``,
``C2 = 0.03^2``) over a mask.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from viewshift.errors import InputError

DEPTH_METRICS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3")


@dataclass
class DepthScores:
    abs_rel: float
    sq_rel: float
    rmse: float
    rmse_log: float
    a1: float
    a2: float
    a3: float
    pixels: int

    def as_dict(self) -> dict:
        return asdict(self)


def align_depth(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray, mode: str = "median") -> tuple[np.ndarray, dict]:
    """Align predicted depth to ground truth over ``mask`` (see the module docstring); returns it and the fit.

    Args:
        pred: ``H×W`` positive predicted depth.
        gt: ``H×W`` ground-truth depth.
        mask: ``H×W`` bool, where to fit.
        mode: ``"median"``, ``"scale_shift"`` or ``"none"``.
    """
    if mode == "none":
        return pred, {}
    p, g = pred[mask].astype(np.float64), gt[mask].astype(np.float64)
    if mode == "median":
        s = float(np.median(g) / np.median(p))
        return pred * s, {"scale": s}
    if mode == "scale_shift":
        x, y = 1.0 / p, 1.0 / g
        A = np.stack([x, np.ones_like(x)], 1)
        (s, t), *_ = np.linalg.lstsq(A, y, rcond=None)
        disp = s / pred + t
        return 1.0 / np.maximum(disp, 1e-9), {"scale": float(s), "shift": float(t)}
    raise InputError(f"unknown alignment {mode!r}; use 'median', 'scale_shift' or 'none'")


def depth_metrics(
    pred: np.ndarray,
    gt: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    align: str = "median",
    min_depth: float = 1e-3,
    max_depth: float = np.inf,
    crop: tuple[int, int, int, int] | None = None,
) -> DepthScores:
    """Depth metrics of one image (module docstring).

    Args:
        pred: ``H×W`` predicted depth (any positive scale when aligned).
        gt: ``H×W`` ground-truth depth; non-finite or non-positive = unknown.
        mask: ``H×W`` bool of extra pixels to evaluate (AND-ed with valid ground truth).
        align: ``"median"``, ``"scale_shift"`` or ``"none"``.
        min_depth, max_depth: evaluated ground-truth range (the "depth cap") and prediction clip.
        crop: ``(top, bottom, left, right)`` row/column bounds evaluated (None: the whole image).

    Returns:
        :class:`DepthScores`.

    >>> gt = np.array([[1.0, 2.0], [4.0, 8.0]])
    >>> depth_metrics(gt * 3, gt).abs_rel < 1e-12
    True
    """
    if pred.shape != gt.shape:
        raise InputError(f"prediction {pred.shape} and ground truth {gt.shape} differ in size")
    valid = np.isfinite(gt) & (gt > min_depth) & (gt < max_depth) & np.isfinite(pred) & (pred > 0)
    if mask is not None:
        valid &= mask
    if crop is not None:
        t, b, left, r = crop
        box = np.zeros_like(valid)
        box[t:b, left:r] = True
        valid &= box
    if valid.sum() < 2:
        raise InputError("fewer than 2 pixels with valid ground truth to evaluate")
    aligned, _ = align_depth(pred, gt, valid, align)
    p = np.clip(aligned[valid].astype(np.float64), min_depth, max_depth)
    g = gt[valid].astype(np.float64)
    ratio = np.maximum(p / g, g / p)
    return DepthScores(
        abs_rel=float(np.mean(np.abs(p - g) / g)),
        sq_rel=float(np.mean((p - g) ** 2 / g)),
        rmse=float(np.sqrt(np.mean((p - g) ** 2))),
        rmse_log=float(np.sqrt(np.mean((np.log(p) - np.log(g)) ** 2))),
        a1=float(np.mean(ratio < 1.25)),
        a2=float(np.mean(ratio < 1.25**2)),
        a3=float(np.mean(ratio < 1.25**3)),
        pixels=int(valid.sum()),
    )


def mean_scores(scores: list[DepthScores]) -> dict:
    """Per-image mean of each metric (the usual reporting: every image weighs the same)."""
    return {k: float(np.mean([getattr(s, k) for s in scores])) for k in DEPTH_METRICS}


def snippet_ate(pred_poses: np.ndarray, gt_poses: np.ndarray) -> tuple[float, float]:
    """ATE (after per-snippet least-squares scale) and mean rotation error in degrees of one snippet.

    Args:
        pred_poses: ``n×4×4`` predicted ``world_T_cam`` (any world frame; re-based on the first frame).
        gt_poses: ``n×4×4`` ground-truth ``world_T_cam``.

    Returns:
        ``(ate, rotation_error_deg)``.

    >>> T = np.stack([np.eye(4)] * 3); T[1, 0, 3] = 1; T[2, 0, 3] = 2
    >>> P = T.copy(); P[:, 0, 3] *= 0.5
    >>> [round(x, 9) for x in snippet_ate(P, T)]
    [0.0, 0.0]
    """
    if pred_poses.shape != gt_poses.shape or pred_poses.ndim != 3 or pred_poses.shape[1:] != (4, 4):
        raise InputError(f"poses must both be n×4×4, got {pred_poses.shape} and {gt_poses.shape}")
    rel_p = np.linalg.inv(pred_poses[0]) @ pred_poses
    rel_g = np.linalg.inv(gt_poses[0]) @ gt_poses
    cp, cg = rel_p[:, :3, 3], rel_g[:, :3, 3]
    denom = float((cp * cp).sum())
    s = float((cg * cp).sum() / denom) if denom > 0 else 1.0
    ate = float(np.sqrt(np.mean(np.sum((s * cp - cg) ** 2, axis=1))))
    rot = []
    for a, b in zip(rel_p[:, :3, :3], rel_g[:, :3, :3], strict=True):
        cos = (np.trace(a.T @ b) - 1) / 2
        rot.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    return ate, float(np.mean(rot))


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB of images in [0, 1] (``H×W×C`` or ``H×W``) over ``mask`` (``H×W`` bool)."""
    d = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    if d.ndim == 3:
        d = d.mean(axis=2)
    mse = float(d[mask].mean() if mask is not None else d.mean())
    return float(10 * np.log10(1.0 / max(mse, 1e-12)))


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean SSIM of images in [0, 1] (``H×W×C``) over ``mask`` (module docstring)."""
    import torch

    from viewshift.learn.losses import ssim_dissimilarity

    ta = torch.from_numpy(np.atleast_3d(a).astype(np.float32)).permute(2, 0, 1)[None]
    tb = torch.from_numpy(np.atleast_3d(b).astype(np.float32)).permute(2, 0, 1)[None]
    s = (1 - 2 * ssim_dissimilarity(ta, tb))[0].mean(0).numpy()
    return float(s[mask].mean() if mask is not None else s.mean())


def lower_is_nearer(height: int, width: int) -> np.ndarray:
    """The "lower in the image is nearer" baseline: disparity growing linearly with the row.

    ``1/d = 1 + v / H`` (the bottom row is twice as near as the top). Under ``"scale_shift"`` alignment this is
    the best fit of any disparity linear in the row; under ``"median"`` the 2:1 ratio is fixed.
    """
    v = np.arange(height, dtype=np.float32)[:, None] * np.ones((1, width), np.float32)
    return 1.0 / (1.0 + v / height)
