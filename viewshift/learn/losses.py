"""Training losses as free functions of tensors.

The SfMLearner objective (Zhou et al., CVPR 2017, eq. 4) over scales ``s = 0..3`` (full resolution first)::

    L = sum_s [ L_vs^s  +  lambda_s / 2^s * L_smooth^s  +  lambda_e * L_reg^s ]

* ``L_vs^s`` — :func:`photometric_loss`: mean over valid target pixels and sources of
  ``E_s(p) * rho(I_t(p), I_s_hat(p))``, where ``I_s_hat`` is source ``s`` inverse-warped into the target through
  the predicted depth and pose with :func:`viewshift.render.warp.inverse_warp` (bilinear; pixels that project
  outside the source or behind it are masked out), and ``rho = (1 - alpha) |a - b| + alpha (1 - SSIM(a, b)) / 2``
  (``alpha = 0`` is the paper's L1; ``alpha = 0.85`` the SSIM mix of later work).
* ``L_smooth^s`` — :func:`smoothness_loss`: L1 norm of the second-order gradients of the disparity
  (:func:`edge_aware_smoothness_loss` weights them by ``exp(-|∇I|)``).
* ``L_reg^s`` — :func:`explainability_loss`: cross-entropy of the explainability mask towards the constant 1,
  ``-mean(log E)``, so the trivial solution ``E = 0`` is penalised.

The paper's weights are ``lambda_s = 0.5`` and ``lambda_e = 0.2``; :func:`sfm_objective` combines them.

Supervised terms used by the built-in model's training (exact depth of synthetic scenes, ground-truth disparity
of stereo benchmarks) are here too: :func:`scale_shift_invariant_loss` and :func:`gradient_matching_loss` (for
disparity known up to scale and shift) and :func:`scale_invariant_log_loss` (for depth known up to scale).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from viewshift.geometry import check_shape, scale_intrinsics
from viewshift.render.warp import inverse_warp

SSIM_C1 = 0.01**2
SSIM_C2 = 0.03**2


def ssim_dissimilarity(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-pixel ``(1 - SSIM) / 2`` in [0, 1] over 3×3 windows (mean filter, reflection padding).

    ``SSIM = (2 mu_x mu_y + C1)(2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2))`` with
    ``C1 = 0.01^2``, ``C2 = 0.03^2`` for images in [0, 1].

    Args:
        x: ``(B, C, H, W)``.
        y: ``(B, C, H, W)``.

    Returns:
        ``(B, C, H, W)``; zero where ``x == y``.
    """
    check_shape(x, "B,C,H,W", "x")
    check_shape(y, "B,C,H,W", "y")
    return _ssim_dissimilarity_many(x, y[:, None])[:, 0]


def _ssim_dissimilarity_many(x: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """:func:`ssim_dissimilarity` of ``x`` ``(B, C, H, W)`` against each of ``ys`` ``(B, N, C, H, W)``.

    The statistics of ``x`` are computed once, not once per ``y``; returns ``(B, N, C, H, W)``.
    """
    b, n, c, h, w = ys.shape
    xp = F.pad(x, (1, 1, 1, 1), mode="reflect")
    yp = F.pad(ys.reshape(b * n, c, h, w), (1, 1, 1, 1), mode="reflect")
    mu_x, xx = F.avg_pool2d(xp, 3, 1)[:, None], F.avg_pool2d(xp * xp, 3, 1)[:, None]
    mu_y = F.avg_pool2d(yp, 3, 1).view(b, n, c, h, w)
    yy = F.avg_pool2d(yp * yp, 3, 1).view(b, n, c, h, w)
    xy = F.avg_pool2d((xp[:, None] * yp.view(b, n, c, h + 2, w + 2)).view(b * n, c, h + 2, w + 2), 3, 1)
    sxx, syy, sxy = xx - mu_x**2, yy - mu_y**2, xy.view(b, n, c, h, w) - mu_x * mu_y
    num = (2 * mu_x * mu_y + SSIM_C1) * (2 * sxy + SSIM_C2)
    den = (mu_x**2 + mu_y**2 + SSIM_C1) * (sxx + syy + SSIM_C2)
    return ((1 - num / den) / 2).clamp(0, 1)


def photometric_error(a: torch.Tensor, b: torch.Tensor, ssim_weight: float = 0.0) -> torch.Tensor:
    """``(B, 1, H, W)`` per-pixel ``(1 - alpha) mean_c |a - b| + alpha mean_c (1 - SSIM(a, b)) / 2``.

    Args:
        a: ``(B, C, H, W)``.
        b: ``(B, C, H, W)``.
        ssim_weight: ``alpha`` in [0, 1].
    """
    return _photometric_error_many(a, b[:, None], ssim_weight)[:, 0]


def _photometric_error_many(target: torch.Tensor, warped: torch.Tensor, ssim_weight: float) -> torch.Tensor:
    """:func:`photometric_error` of ``target`` ``(B, C, H, W)`` against each of ``warped`` ``(B, N, C, H, W)``.

    Broadcasts the target instead of repeating it; returns ``(B, N, 1, H, W)``.
    """
    err = (target[:, None] - warped).abs().mean(2, keepdim=True)
    if ssim_weight > 0:
        ssim = _ssim_dissimilarity_many(target, warped).mean(2, keepdim=True)
        err = (1 - ssim_weight) * err + ssim_weight * ssim
    return err


def resize_area(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize ``(B, C, H, W)`` images to ``size`` (area averaging when shrinking)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="area")


def area_pyramid(x: torch.Tensor, sizes: Sequence[tuple[int, int]]) -> list[torch.Tensor]:
    """:func:`resize_area` of ``(B, C, H, W)`` images to each of ``sizes`` (largest first).

    A level whose size divides the previous level's exactly is averaged from that level (means of equal
    blocks of block means are the block means of the full image), which reads far less memory than
    resizing the full image again; other sizes are resized from the full image.
    """
    out, prev = [], x
    for size in sizes:
        hp, wp = prev.shape[-2:]
        hs, ws = size
        if (hp, wp) == (hs, ws):
            level = prev
        elif hp % hs == 0 and wp % ws == 0:
            level = F.avg_pool2d(prev, (hp // hs, wp // ws))
        else:
            level = resize_area(x, (hs, ws))
        out.append(level)
        prev = level
    return out


def photometric_loss(
    target: torch.Tensor,
    sources: torch.Tensor,
    depths: Sequence[torch.Tensor],
    src_T_tgt: torch.Tensor,
    K: torch.Tensor,
    masks: Sequence[torch.Tensor] | None = None,
    *,
    ssim_weight: float = 0.0,
    min_reprojection: bool = False,
    automask: bool = False,
) -> torch.Tensor:
    """Multi-scale view-synthesis loss ``sum_s L_vs^s`` (see the module docstring).

    At scale ``s`` the images are area-resized to the depth map's size (:func:`area_pyramid`) and ``K`` is
    rescaled with :func:`viewshift.geometry.scale_intrinsics`; each source is inverse-warped into the target;
    the error of out-of-view pixels is dropped and the rest is averaged (weighted by the explainability mask if
    given).

    Two changes of Monodepth2 (Godard et al., ICCV 2019), off by default: ``min_reprojection`` takes each target
    pixel's smallest error over the sources that see it instead of the mean over them (a pixel occluded in one
    source is judged by the other); ``automask`` drops the pixels whose error against the *unwarped* sources
    (their smallest) is below the reduced warped error: what looks the same without any motion (uniform
    road, sky, anything moving with the camera) teaches no depth, and would otherwise pull it to infinity.

    Args:
        target: ``(B, 3, H, W)`` target frame.
        sources: ``(B, N, 3, H, W)`` source frames.
        depths: per scale ``(B, 1, H_s, W_s)`` predicted target depth.
        src_T_tgt: ``(B, N, 4, 4)`` maps target points into each source frame.
        K: ``(B, 3, 3)`` intrinsics at ``H × W``.
        masks: per scale ``(B, N, 1, H_s, W_s)`` explainability probabilities, or None for ``E = 1``.
        ssim_weight: ``alpha`` of :func:`photometric_error`.
        min_reprojection: per pixel the smallest error over the sources (weighted by the masks first).
        automask: drop pixels that the unwarped sources match better.

    Returns:
        Scalar loss.
    """
    check_shape(target, "B,3,H,W", "target")
    check_shape(sources, "B,N,3,H,W", "sources")
    check_shape(src_T_tgt, "B,N,4,4", "src_T_tgt")
    b, n, _, h, w = sources.shape
    sizes = [tuple(d.shape[-2:]) for d in depths]
    targets = area_pyramid(target, sizes)
    sources_s = area_pyramid(sources.reshape(b * n, 3, h, w), sizes)
    pose = src_T_tgt.reshape(b * n, 4, 4)
    total = target.new_zeros(())
    for s, depth in enumerate(depths):
        hs, ws = sizes[s]
        K_s = scale_intrinsics(K, ws / w, hs / h)
        warped, valid = inverse_warp(sources_s[s], depth.repeat_interleave(n, 0), K_s.repeat_interleave(n, 0), pose)
        err = _photometric_error_many(targets[s], warped.view(b, n, 3, hs, ws), ssim_weight)
        valid = valid.view(b, n, 1, hs, ws)
        weight = valid.to(err.dtype)
        if masks is not None:
            weight = weight * masks[s]
        if not (min_reprojection or automask):
            total = total + (err * weight).sum() / valid.sum().clamp_min(1)
            continue
        seen = valid.any(1)  # (B, 1, H_s, W_s)
        if min_reprojection:
            per_pixel = torch.where(valid, err * weight, torch.full_like(err, float("inf"))).amin(1)
        else:
            per_pixel = (err * weight).sum(1) / valid.sum(1).clamp_min(1)
        per_pixel = torch.where(seen, per_pixel, torch.zeros_like(per_pixel))
        if automask:
            identity = _photometric_error_many(targets[s], sources_s[s].view(b, n, 3, hs, ws), ssim_weight)
            seen = seen & (per_pixel < identity.amin(1))
        total = total + (per_pixel * seen).sum() / seen.sum().clamp_min(1)
    return total


def explainability_loss(masks: Sequence[torch.Tensor], eps: float = 1e-6) -> torch.Tensor:
    """``sum_s mean(-log E^s)``: cross-entropy of every mask pixel towards the label 1.

    Args:
        masks: per scale ``(B, N, 1, H_s, W_s)`` probabilities ``E`` in (0, 1).

    Returns:
        Scalar; zero when every ``E = 1``.
    """
    return sum(-(m.clamp_min(eps)).log().mean() for m in masks)


def _dx(x: torch.Tensor) -> torch.Tensor:
    return x[..., :, 1:] - x[..., :, :-1]


def _dy(x: torch.Tensor) -> torch.Tensor:
    return x[..., 1:, :] - x[..., :-1, :]


def second_order_smoothness(disp: torch.Tensor) -> torch.Tensor:
    """Mean L1 of the second derivatives ``d_xx, d_xy, d_yx, d_yy`` of ``(B, 1, H, W)`` disparity (scalar).

    SfMLearner's form: each of the four terms averaged over its pixels, then summed. Zero on any plane
    ``disp = a u + b v + c``.
    """
    gx, gy = _dx(disp), _dy(disp)
    return _dx(gx).abs().mean() + _dy(gx).abs().mean() + _dx(gy).abs().mean() + _dy(gy).abs().mean()


def smoothness_loss(disparities: Sequence[torch.Tensor]) -> torch.Tensor:
    """``sum_s second_order_smoothness(disp_s) / 2^s`` over the per-scale ``(B, 1, H_s, W_s)`` disparities."""
    return sum(second_order_smoothness(d) / 2**s for s, d in enumerate(disparities))


def edge_aware_smoothness(disp: torch.Tensor, image: torch.Tensor, order: int = 2) -> torch.Tensor:
    """Edge-aware smoothness of mean-normalised disparity (scalar).

    ``mean(|∂^k d*| exp(-mean_c |∂I|))`` over x and y, with ``d* = d / mean(d)`` per image so the loss does not
    favour shrinking the disparity, ``k = order`` (1 or 2) and the image gradient taken at the same place.

    Args:
        disp: ``(B, 1, H, W)`` disparity.
        image: ``(B, 3, H', W')`` image (area-resized to ``H × W``).
        order: 1 (first derivatives) or 2 (second derivatives).
    """
    image = resize_area(image, tuple(disp.shape[-2:]))
    d = disp / disp.mean(dim=(2, 3), keepdim=True).clamp_min(1e-7)
    wx = torch.exp(-_dx(image).abs().mean(1, keepdim=True))
    wy = torch.exp(-_dy(image).abs().mean(1, keepdim=True))
    gx, gy = _dx(d), _dy(d)
    if order == 2:
        gx, gy = _dx(gx), _dy(gy)
        wx, wy = wx[..., :, 1:], wy[..., 1:, :]
    return (gx.abs() * wx).mean() + (gy.abs() * wy).mean()


def edge_aware_smoothness_loss(disparities: Sequence[torch.Tensor], image: torch.Tensor, order: int = 2):
    """``sum_s edge_aware_smoothness(disp_s, image) / 2^s``."""
    images = area_pyramid(image, [tuple(d.shape[-2:]) for d in disparities])
    pairs = enumerate(zip(disparities, images, strict=True))
    return sum(edge_aware_smoothness(d, im, order) / 2**s for s, (d, im) in pairs)


def sfm_objective(
    target: torch.Tensor,
    sources: torch.Tensor,
    depths: Sequence[torch.Tensor],
    src_T_tgt: torch.Tensor,
    K: torch.Tensor,
    masks: Sequence[torch.Tensor] | None = None,
    *,
    smooth_weight: float = 0.5,
    explain_weight: float = 0.2,
    ssim_weight: float = 0.0,
    edge_aware: bool = False,
    min_reprojection: bool = False,
    automask: bool = False,
) -> dict[str, torch.Tensor]:
    """The full SfMLearner objective (module docstring) and its parts.

    Args:
        target, sources, depths, src_T_tgt, K, masks: as in :func:`photometric_loss`.
        smooth_weight: ``lambda_s``.
        explain_weight: ``lambda_e`` (ignored without masks).
        ssim_weight: ``alpha`` of the photometric error.
        edge_aware: use :func:`edge_aware_smoothness_loss` instead of :func:`smoothness_loss`.
        min_reprojection, automask: as :func:`photometric_loss`.

    Returns:
        ``{"loss", "photometric", "smooth", "explain"}`` scalars.
    """
    photo = photometric_loss(
        target, sources, depths, src_T_tgt, K, masks, ssim_weight=ssim_weight,
        min_reprojection=min_reprojection, automask=automask,
    )  # fmt: skip
    disps = [1.0 / d for d in depths]
    smooth = edge_aware_smoothness_loss(disps, target) if edge_aware else smoothness_loss(disps)
    explain = explainability_loss(masks) if masks is not None else photo.new_zeros(())
    loss = photo + smooth_weight * smooth + explain_weight * explain
    return {"loss": loss, "photometric": photo.detach(), "smooth": smooth.detach(), "explain": explain.detach()}


def normalise_disparity(disp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Shift by the masked median and scale by the mean absolute deviation, per image (MiDaS's normalisation).

    Args:
        disp: ``(B, 1, H, W)``.
        mask: ``(B, 1, H, W)`` bool.
    """
    out = []
    for d, m in zip(disp, mask, strict=True):
        v = d[m]
        if v.numel() < 2:
            out.append(d * 0)
            continue
        med = v.median()
        scale = (v - med).abs().mean().clamp_min(1e-6)
        out.append((d - med) / scale)
    return torch.stack(out)


def scale_shift_invariant_loss(
    pred_disp: torch.Tensor, gt_disp: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean masked ``|n(pred) - n(gt)|`` with ``n`` = :func:`normalise_disparity` (scalar).

    For relative depth: any positive scale and any shift of the disparity give the same loss.

    Args:
        pred_disp: ``(B, 1, H, W)`` predicted disparity (inverse depth).
        gt_disp: ``(B, 1, H, W)`` ground-truth disparity (any scale and shift).
        mask: ``(B, 1, H, W)`` bool, valid ground truth.
        weight: optional ``(B, 1, H, W)`` per-pixel weight (e.g. a pseudo-label's confidence): the mean becomes
            ``sum(w |...|) / sum(w)`` over the mask. None: every valid pixel weighs 1.
    """
    diff = (normalise_disparity(pred_disp, mask) - normalise_disparity(gt_disp, mask)).abs()
    w = mask.to(diff.dtype) if weight is None else mask * weight
    return (diff * w).sum() / w.sum().clamp_min(1e-6 if weight is not None else 1)


def gradient_matching_loss(
    pred_disp: torch.Tensor,
    gt_disp: torch.Tensor,
    mask: torch.Tensor,
    scales: int = 4,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Multi-scale gradient matching of normalised disparities (MiDaS), scalar; sharpens depth edges.

    ``sum_k mean_mask(|∂x R_k| + |∂y R_k|)`` with ``R = n(pred) - n(gt)`` subsampled by ``2^k``; with a
    ``(B, 1, H, W)`` ``weight`` a gradient between two pixels counts ``w_a · w_b`` instead of 1.
    """
    r = (normalise_disparity(pred_disp, mask) - normalise_disparity(gt_disp, mask)) * mask
    m = mask.to(r.dtype) if weight is None else mask * weight
    total = r.new_zeros(())
    for k in range(scales):
        step = 2**k
        rk, mk = r[..., ::step, ::step], m[..., ::step, ::step]
        mx, my = mk[..., :, 1:] * mk[..., :, :-1], mk[..., 1:, :] * mk[..., :-1, :]
        gx = (_dx(rk).abs() * mx).sum()
        gy = (_dy(rk).abs() * my).sum()
        total = total + (gx + gy) / (mx.sum() + my.sum()).clamp_min(1 if weight is None else 1e-6)
    return total


def scale_invariant_log_loss(pred_depth: torch.Tensor, gt_inverse: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-image variance of the log-depth error over the mask, averaged over images (scalar).

    ``g = log d_pred - log d_gt`` with ``d_gt = 1 / gt_inverse``; the loss ``mean(g^2) - mean(g)^2`` (Eigen et al.
    2014 with lambda = 1) ignores any global scale of the prediction but, unlike the disparity loss, does
    constrain the ratios of depths, which is what rendering a moved view needs.

    Args:
        pred_depth: ``(B, 1, H, W)`` positive predicted depth.
        gt_inverse: ``(B, 1, H, W)`` ground-truth inverse depth up to scale (no shift), positive where valid.
        mask: ``(B, 1, H, W)`` bool.
    """
    m = mask & (gt_inverse > 0)
    g = torch.where(m, pred_depth.clamp_min(1e-6).log() + gt_inverse.clamp_min(1e-6).log(), 0.0)
    n = m.sum((1, 2, 3)).clamp_min(1)
    mean = g.sum((1, 2, 3)) / n
    var = (g * g).sum((1, 2, 3)) / n - mean**2
    has = m.flatten(1).any(1)
    return (var * has).sum() / has.sum().clamp_min(1)


def edge_ranking_loss(
    pred_disp: torch.Tensor,
    gt_disp: torch.Tensor,
    mask: torch.Tensor,
    weight: torch.Tensor | None = None,
    offsets: Sequence[int] = (2, 6),
    threshold: float = 0.05,
) -> torch.Tensor:
    """Ordinal loss on pixel pairs across the ground truth's depth edges (structure-guided ranking), scalar.

    Pairs ``(a, b)`` are pixels ``k`` apart horizontally or vertically (``k`` in ``offsets``). With
    ``r = log g_a - log g_b`` of the ground-truth disparity ``g`` and ``P = log`` of the predicted disparity:
    pairs with ``|r| > threshold`` (a depth edge between them) cost ``log(1 + exp(-sign(r) (P_a - P_b)))``, the
    others ``(P_a - P_b)^2``; the two kinds are averaged separately (weights ``w_a · w_b``) and added, so the
    few pairs that straddle an object boundary are not drowned by the many that do not. Invariant to the scale
    of both disparities (Chen et al. 2016, Xian et al. 2020).

    Args:
        pred_disp: ``(B, 1, H, W)`` positive predicted disparity.
        gt_disp: ``(B, 1, H, W)`` ground-truth disparity up to scale (positive where valid).
        mask: ``(B, 1, H, W)`` bool, valid ground truth.
        weight: optional ``(B, 1, H, W)`` per-pixel weight (None: 1).
        offsets: pixel distances of the pairs.
        threshold: log-ratio above which a pair is ordered (0.05: about 5 % depth difference).
    """
    m = mask & (gt_disp > 0)
    w = m.to(pred_disp.dtype) if weight is None else m * weight
    p = pred_disp.clamp_min(1e-6).log()
    g = gt_disp.clamp_min(1e-6).log()
    edge_sum = edge_w = flat_sum = flat_w = p.new_zeros(())
    for k in offsets:
        for dim in (-1, -2):
            n = p.shape[dim]
            if k >= n:
                continue
            a, b = slice(0, n - k), slice(k, n)
            pa, pb = p.narrow(dim, a.start, a.stop), p.narrow(dim, b.start, b.stop - b.start)
            ga, gb = g.narrow(dim, a.start, a.stop), g.narrow(dim, b.start, b.stop - b.start)
            wab = w.narrow(dim, a.start, a.stop) * w.narrow(dim, b.start, b.stop - b.start)
            r, dp = ga - gb, pa - pb
            ordered = (r.abs() > threshold).to(p.dtype) * wab
            equal = (r.abs() <= threshold).to(p.dtype) * wab
            edge_sum = edge_sum + (F.softplus(-torch.sign(r) * dp) * ordered).sum()
            flat_sum = flat_sum + (dp * dp * equal).sum()
            edge_w, flat_w = edge_w + ordered.sum(), flat_w + equal.sum()
    return edge_sum / edge_w.clamp_min(1e-6) + flat_sum / flat_w.clamp_min(1e-6)
