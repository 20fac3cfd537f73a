"""Dense depth of one frame by plane-sweep stereo over its neighbours (vectorised torch, CPU).

For a reference frame ``r`` and a few neighbours ``n`` with known cameras:

1. **Planes.** ``D`` fronto-parallel planes of the reference camera, spaced evenly in inverse depth between the
   near and far bounds of the triangulated points the reference sees (``near = 0.8 · p1``, ``far = 1.5 · p99``
   of their depths).
2. **Warping.** Every neighbour is warped onto every plane with :func:`viewshift.render.warp.inverse_warp` (the
   reference pixel's 3-D point at the plane's depth, moved by ``n_T_r``, projected into ``n``).
3. **Photometric cost.** Zero-mean normalised cross-correlation (ZNCC) of grey ``w×w`` windows:
   ``ncc = cov(I_r, I_n) / sqrt(var(I_r) var(I_n) + ε)``, ``cost = (1 - ncc) / 2`` in ``[0, 1]``; a sample
   outside the neighbour costs 1. ZNCC ignores gain and offset changes between frames.
4. **Multi-view aggregation.** Per pixel and plane, the mean of the best ``⌈V/2⌉`` of the ``V`` neighbours'
   costs (occlusion-robust: a point hidden in some neighbours is still matched by the others; Kang et al. 2001).
5. **Cost filtering.** Each plane's cost slice is smoothed by a guided filter (He et al. 2010) with the reference
   frame as the guide (edge-aware: costs are averaged within surfaces, not across object boundaries), at the sweep
   size and at 2 coarser scales (×2, ×4, weights 1/2, 1/4), which carry matches into weakly textured areas.
6. **Winner takes all and sub-plane refinement.** The cheapest plane, refined by the parabola through the costs of
   its two neighbouring planes (in inverse depth).
7. **Confidence.** A photometric part ``1 - c_best / c_second`` (the second-best minimum at least 3 planes away),
   times ``clip(1 - c_best / 0.5, 0, 1)``; and a geometric part: the reference depth is also swept for the
   ``consistency_views`` nearest neighbours, and a reference pixel is *consistent* with a neighbour when its 3-D
   point, projected into the neighbour, lands on that neighbour's depth and projects back within
   ``consistency_px`` pixels and ``consistency_rel`` relative depth (forward–backward check, as in MVS fusion).
   ``confidence = photometric · (fraction of consistent neighbours)``.
8. **Filling** pixels of low confidence (``fill``, :data:`FILL_METHODS`):

   * ``"mono"`` (the default): a single-photo depth ``p`` (the built-in network unless ``prior`` gives another)
     is aligned to the confident geometric inverse depth ``g`` by a power law ``log g ≈ a log p + b`` (scale and
     shift of log depth; least squares weighted by confidence, Huber-reweighted), so it takes the geometry's scale
     and depth range. A smooth scale field ``r`` = the log ratio ``log g - (a log p + b)`` of the confident pixels,
     spread by normalised convolution, corrects it locally, shrunk towards the global fit where confident support
     is sparse: ``filled = exp(a log p + b + α r)``, ``α = s / (s + fill_support)``, ``s`` = the mean confidence
     of confident pixels within ``fill_radius`` (a fraction of the width). Near confident geometry the fill
     follows the geometry; far from it (large textureless or unmatched areas) the aligned photo depth. Several
     priors (``prior`` a list) are aligned each on its own and their aligned ``a log p + b`` averaged.
     With ``fill_choose``, each frame takes this fill or ``"propagate"``'s, whichever better predicts its own
     confident pixels when blocks of them are left out (:func:`choose_fill`). With ``fill_cost_margin`` (on by
     default), each low-confidence pixel then takes ``"propagate"``'s depth instead where the cost volume, read
     at that depth, is a good match (below ``fill_cost_good``) and lower than at the mono fill's by more than the
     margin (:func:`cheaper_fill`): the sweep's own evidence, where it has some, decides between the two fills.
   * ``"propagate"``: the confidence-weighted average of the surroundings (normalised convolution over a pyramid).

   **Upsampling.** The inverse depth is upsampled to the frames' size and refined by a guided filter with the
   full-size frame as the guide, so depth edges follow image edges. Filled pixels keep their (low) confidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from viewshift.errors import InputError
from viewshift.geometry import depth_to_points, pixel_grid, points_to_pixels, scale_intrinsics, transform_points
from viewshift.multiview.cameras import Cameras, estimate_cameras
from viewshift.multiview.frames import check_frames
from viewshift.render.kernels import torch_threads
from viewshift.render.warp import in_view, inverse_warp

#: How :func:`multiview_depth` fills pixels of low confidence (module docstring, step 8); the first is the default.
FILL_METHODS = ("mono", "propagate")


@dataclass
class SweepConfig:
    """Settings of :func:`multiview_depth`.

    Attributes:
        sweep_width: width of the images the sweep runs on (pixels); the result is upsampled to the frames' size.
        num_planes: depth planes ``D``.
        num_neighbours: neighbours per swept frame ``V``.
        window: ZNCC window side at the sweep size (odd).
        guided_radius: radius of the cost volume's guided filter at the sweep size.
        guided_eps: guided filter regulariser (on grey values in [0, 1]).
        consistency_views: neighbours whose own depth is swept for the forward–backward check (0 = none).
        consistency_px: largest forward–backward reprojection error (pixels at the sweep size).
        consistency_rel: largest relative depth difference of the check.
        fill_below: confidence under which a pixel's depth is filled (when filling).
        fill_radius: ``"mono"`` fill: half-side of the window whose confident pixels support the local scale
            field, as a fraction of the sweep width.
        fill_support: ``"mono"`` fill: mean confidence in that window at which the local correction counts half
            (``α = s / (s + fill_support)``).
        fill_choose: ``"mono"`` fill: per frame, keep it or propagate instead, whichever predicts left-out blocks
            of the confident pixels better (:func:`choose_fill`). Off: it renders held-out clip frames better but
            propagates into large unmatched areas too, where the network was right (docs/depth/multiview.md).
        fill_cost_margin: ``"mono"`` fill: per pixel of low confidence, take ``"propagate"``'s depth instead where
            the sweep's matching cost at it is lower by more than this (:func:`cheaper_fill`); None: off. On by
            default since round 8 (experiments/depth/fit_round8): held-out clip frames render 0.08–0.8 dB better
            where a network fills, AbsRel against ground truth as without it.
        fill_cost_good: with ``fill_cost_margin``: the largest matching cost of a propagated depth that is taken
            (without it, a merely less bad match on unmatched near walls took propagation: ``rgbd-5`` AbsRel
            0.428 → 0.543).
        coarse_levels: also aggregate the cost at this many coarser scales (×2, ×4, ...; weights 1/2, 1/4, ...).
        threads: torch threads (None: leave torch's setting).
    """

    sweep_width: int = 320
    num_planes: int = 64
    num_neighbours: int = 4
    window: int = 7
    guided_radius: int = 4
    guided_eps: float = 1e-3
    consistency_views: int = 2
    consistency_px: float = 1.0
    consistency_rel: float = 0.02
    fill_below: float = 0.1
    fill_radius: float = 0.15
    fill_support: float = 0.05
    fill_choose: bool = False
    fill_cost_margin: float | None = 0.02
    fill_cost_good: float = 0.3
    coarse_levels: int = 2
    threads: int | None = None

    def __post_init__(self) -> None:
        at_least = {
            "sweep_width": (self.sweep_width, 16), "num_planes": (self.num_planes, 2),
            "num_neighbours": (self.num_neighbours, 1), "window": (self.window, 1),
            "guided_radius": (self.guided_radius, 0), "consistency_views": (self.consistency_views, 0),
            "coarse_levels": (self.coarse_levels, 0), "fill_support": (self.fill_support, 0),
        }  # fmt: skip
        for name, (value, low) in at_least.items():
            if value < low:
                raise InputError(f"SweepConfig.{name} must be at least {low}, got {value}")
        if self.window % 2 == 0:
            raise InputError(f"SweepConfig.window must be odd, got {self.window}")
        for name in ("guided_eps", "consistency_px", "consistency_rel", "fill_radius", "fill_cost_good"):
            if not getattr(self, name) > 0:
                raise InputError(f"SweepConfig.{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.fill_below <= 1:
            raise InputError(f"SweepConfig.fill_below is a confidence in [0, 1], got {self.fill_below}")
        if self.fill_cost_margin is not None and not self.fill_cost_margin >= 0:
            raise InputError(
                f"SweepConfig.fill_cost_margin must be at least 0 (None: off), got {self.fill_cost_margin}"
            )
        if self.threads is not None and self.threads < 1:
            raise InputError(f"SweepConfig.threads must be at least 1 (None: leave torch's), got {self.threads}")


@dataclass
class MultiViewDepth:
    """Depth of one frame from several frames.

    Attributes:
        depth: ``(H, W)`` float32 z-depth of the reference frame in the cameras' unit (relative: the median depth
            of frame 0's triangulated points is 1). Positive and finite everywhere when filled (the default):
            pixels of low confidence hold filled depth (``fill``); with ``fill=False`` they are 0.
        confidence: ``(H, W)`` float32 in ``[0, 1]``; 0 where the frame's pixels were not matched in any neighbour.
        ref: index of the reference frame.
        cameras: the cameras used.
        neighbours: indices of the frames swept against.
        near, far: depth range of the planes.
        fill: how pixels of low confidence were filled (:data:`FILL_METHODS`), None when not filled.
    """

    depth: np.ndarray
    confidence: np.ndarray
    ref: int
    cameras: Cameras
    neighbours: tuple[int, ...] = ()
    near: float = 0.0
    far: float = 0.0
    fill: str | None = None


# ------------------------------------------------------------------------------------------------ filters


def box_filter(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over ``(2r+1)²`` windows of ``(B, C, H, W)``, windows cut at the border (no zero padding).

    Running sums (cumulative sums along each axis), so the cost does not grow with the radius.

    >>> x = torch.arange(5.0).view(1, 1, 1, 5)
    >>> box_filter(x, 1)[0, 0, 0].tolist()
    [0.5, 1.0, 2.0, 3.0, 3.5]
    """
    k = 2 * radius + 1
    h, w = x.shape[-2:]

    def sums(t: torch.Tensor) -> torch.Tensor:
        c = F.pad(t, (radius + 1, radius)).cumsum(-1)
        t = c[..., k:] - c[..., :-k]
        c = F.pad(t, (0, 0, radius + 1, radius)).cumsum(-2)
        return c[..., k:, :] - c[..., :-k, :]

    count = sums(torch.ones(1, 1, h, w, dtype=x.dtype))
    return sums(x) / count


def guided_filter(guide: torch.Tensor, src: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """Grey-guide guided filter (He et al. 2010): ``q = a I + b`` fitted per window, averaged.

    Args:
        guide: ``(1, 1, H, W)`` guide image ``I``.
        src: ``(B, 1, H, W)`` images to filter (each independently, with the same guide).
        radius: window radius.
        eps: regulariser: edges with local variance well above ``eps`` are kept.

    Returns:
        ``(B, 1, H, W)``.
    """
    mean_i = box_filter(guide, radius)
    var_i = box_filter(guide * guide, radius) - mean_i * mean_i
    mean_p = box_filter(src, radius)
    cov_ip = box_filter(guide * src, radius) - mean_i * mean_p
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box_filter(a, radius) * guide + box_filter(b, radius)


def zncc_cost(ref: torch.Tensor, warped: torch.Tensor, radius: int, eps: float = 1e-4) -> torch.Tensor:
    """``(1 - ZNCC) / 2`` of ``(2r+1)²`` windows, in ``[0, 1]``.

    Args:
        ref: ``(1, 1, H, W)`` grey reference.
        warped: ``(D, 1, H, W)`` grey neighbour warped onto each plane.

    Returns:
        ``(D, 1, H, W)``.

    >>> img = torch.rand(1, 1, 9, 9)
    >>> float(zncc_cost(img, 2 * img + 0.1, 2).max()) < 1e-2  # gain and offset do not matter
    True
    """
    mr = box_filter(ref, radius)
    vr = (box_filter(ref * ref, radius) - mr * mr).clamp_min(0)
    mw = box_filter(warped, radius)
    vw = (box_filter(warped * warped, radius) - mw * mw).clamp_min(0)
    cov = box_filter(ref * warped, radius) - mr * mw
    ncc = cov / torch.sqrt(vr * vw + eps * eps)
    return ((1 - ncc) / 2).clamp(0, 1)


# ------------------------------------------------------------------------------------------------ sweep


def _grey(rgb: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    import cv2

    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if (g.shape[1], g.shape[0]) != size:
        g = cv2.resize(g, size, interpolation=cv2.INTER_AREA)
    return torch.from_numpy(g).float()[None, None] / 255.0


def choose_neighbours(cameras: Cameras, ref: int, count: int, depth: float) -> list[int]:
    """Up to ``count`` registered frames to sweep ``ref`` against.

    Frames whose baseline to ``ref`` is at least 0.5 % of the reference's median scene depth, ranked by how close
    the ratio baseline/depth is to 0.1 (about 6° of triangulation angle: enough parallax, still overlapping).
    """
    centres = cameras.world_T_cam[:, :3, 3]
    out = []
    for j in range(len(cameras)):
        if j == ref or not cameras.registered[j]:
            continue
        b = float(np.linalg.norm(centres[j] - centres[ref])) / max(depth, 1e-12)
        if b >= 0.005:
            out.append((abs(math.log(b / 0.1)), abs(j - ref), j))
    return [j for *_, j in sorted(out)[:count]]


def _depth_range(cameras: Cameras, ref: int, K: np.ndarray, size: tuple[int, int]) -> tuple[float, float, float]:
    cam_T_world = np.linalg.inv(cameras.world_T_cam[ref])
    X = cameras.points @ cam_T_world[:3, :3].T + cam_T_world[:3, 3]
    z = X[:, 2]
    front = z > 1e-9
    uv = X[front] @ K.T
    uv = uv[:, :2] / uv[:, 2:]
    w, h = size
    inside = (uv[:, 0] >= 0) & (uv[:, 0] <= w - 1) & (uv[:, 1] >= 0) & (uv[:, 1] <= h - 1)
    z = z[front][inside]
    if len(z) < 10:
        raise InputError(
            f"frame {ref} sees only {len(z)} triangulated points; choose another reference frame or give more overlap"
        )
    near, far, median = float(np.percentile(z, 1)) * 0.8, float(np.percentile(z, 99)) * 1.5, float(np.median(z))
    far = min(far, 200.0 * near)
    return near, max(far, near * 1.5), median


def sweep_costs(
    ref_grey: torch.Tensor,
    neighbour_greys: list[torch.Tensor],
    K: torch.Tensor,
    nb_T_ref: list[torch.Tensor],
    inv_depths: torch.Tensor,
    config: SweepConfig,
) -> torch.Tensor:
    """Aggregated, filtered cost volume ``(D, 1, h, w)`` of the reference over its neighbours.

    Args:
        ref_grey: ``(1, 1, h, w)`` grey reference in [0, 1].
        neighbour_greys: ``(1, 1, h, w)`` each.
        K: ``(1, 3, 3)`` intrinsics at the sweep size.
        nb_T_ref: ``(1, 4, 4)`` each: maps reference-frame points into the neighbour's frame.
        inv_depths: ``(D,)`` inverse depths of the planes.
    """
    d = len(inv_depths)
    h, w = ref_grey.shape[-2:]
    planes = (1.0 / inv_depths).view(d, 1, 1, 1).expand(d, 1, h, w)
    radius = config.window // 2
    costs = []
    for grey, pose in zip(neighbour_greys, nb_T_ref, strict=True):
        warped, valid = inverse_warp(grey.expand(d, 1, h, w), planes, K.expand(d, 3, 3), pose.expand(d, 4, 4))
        c = zncc_cost(ref_grey, warped, radius)
        costs.append(torch.where(valid, c, torch.ones_like(c)))
    stack = torch.stack(costs)  # (V, D, 1, h, w)
    best = max(1, math.ceil(len(costs) / 2))
    agg = stack.topk(best, dim=0, largest=False).values.mean(0) if len(costs) > 1 else stack[0]
    out = guided_filter(ref_grey, agg, config.guided_radius, config.guided_eps)
    for level in range(1, config.coarse_levels + 1):
        # Coarser scales see larger windows: they carry the match into weakly textured areas (added, halved per level).
        k = 2**level
        g = F.avg_pool2d(ref_grey, k, ceil_mode=True)
        c = guided_filter(g, F.avg_pool2d(agg, k, ceil_mode=True), config.guided_radius, config.guided_eps)
        out = out + 0.5**level * F.interpolate(c, size=(h, w), mode="bilinear", align_corners=False)
    return out / sum(0.5**level for level in range(config.coarse_levels + 1))


def winner_takes_all(cost: torch.Tensor, inv_depths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse depth ``(1, 1, h, w)`` of the cheapest plane refined by a parabola, and photometric confidence.

    Args:
        cost: ``(D, 1, h, w)``.
        inv_depths: ``(D,)`` evenly spaced.

    Returns:
        ``inv_depth`` ``(1, 1, h, w)`` and ``confidence`` ``(1, 1, h, w)`` in [0, 1] (module docstring, step 7).
    """
    d = cost.shape[0]
    c = cost[:, 0]
    best = c.argmin(0, keepdim=True)  # (1, h, w)
    c0 = c.gather(0, best)
    cm = c.gather(0, (best - 1).clamp_min(0))
    cp = c.gather(0, (best + 1).clamp_max(d - 1))
    denom = cm - 2 * c0 + cp
    offset = torch.where(denom > 1e-9, 0.5 * (cm - cp) / denom, torch.zeros_like(denom)).clamp(-0.5, 0.5)
    inside = (best > 0) & (best < d - 1)
    offset = torch.where(inside, offset, torch.zeros_like(offset))
    step = (inv_depths[-1] - inv_depths[0]) / max(d - 1, 1)
    inv = inv_depths[0] + (best.float() + offset) * step
    idx = torch.arange(d).view(d, 1, 1)
    far_from_best = (idx - best).abs() >= 3
    second = torch.where(far_from_best, c, torch.full_like(c, 2.0)).min(0, keepdim=True).values
    peak = (1 - c0 / second.clamp_min(1e-6)).clamp(0, 1)
    level = (1 - c0 / 0.5).clamp(0, 1)
    # A minimum on the first or last plane is a depth outside the range: not trusted.
    conf = torch.where(inside, (peak * 4).clamp(0, 1) * level, torch.zeros_like(peak))
    return inv[None], conf[None]


def _sweep_frame(
    greys: list[torch.Tensor], K: torch.Tensor, world_T_cam: torch.Tensor, ref: int, neighbours: list[int],
    inv_depths: torch.Tensor, config: SweepConfig,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """``(inv_depth, confidence, cost)`` of frame ``ref``: :func:`winner_takes_all` of :func:`sweep_costs`'s
    ``(D, 1, h, w)`` cost, which is returned too."""
    poses = [(torch.linalg.inv(world_T_cam[j]) @ world_T_cam[ref])[None].float() for j in neighbours]
    cost = sweep_costs(greys[ref], [greys[j] for j in neighbours], K, poses, inv_depths, config)
    return (*winner_takes_all(cost, inv_depths), cost)


def consistency(
    inv_ref: torch.Tensor, inv_nb: torch.Tensor, K: torch.Tensor, nb_T_ref: torch.Tensor, config: SweepConfig
) -> torch.Tensor:
    """``(1, 1, h, w)`` bool: the forward–backward check of the reference depth against one neighbour's depth.

    A reference pixel ``p`` with depth ``z`` goes to its 3-D point, into the neighbour (pixel ``q``, depth
    ``z_q``); the neighbour's depth sampled at ``q`` gives a point that goes back into the reference at ``p'`` with
    depth ``z'``. Consistent when ``|p' - p| < consistency_px`` and ``|z' - z| / z < consistency_rel``.

    Args:
        inv_ref, inv_nb: ``(1, 1, h, w)`` inverse depths.
        K: ``(1, 3, 3)``.
        nb_T_ref: ``(1, 4, 4)``.
    """
    h, w = inv_ref.shape[-2:]
    depth_ref = 1.0 / inv_ref.clamp_min(1e-9)
    pts_nb = transform_points(nb_T_ref, depth_to_points(depth_ref, K))
    q, zq = points_to_pixels(pts_nb, K)
    sampled_inv, valid = inverse_warp(inv_nb, depth_ref, K, nb_T_ref)
    sampled = 1.0 / sampled_inv.clamp_min(1e-9)
    # Back: the neighbour's point at q (its sampled depth along q's ray) into the reference.
    ray = torch.cat([q, torch.ones_like(zq)], 1)
    back_pts = torch.linalg.inv(K)[0] @ ray.reshape(3, -1) * sampled.reshape(1, -1)
    ref_T_nb = torch.linalg.inv(nb_T_ref)
    back = transform_points(ref_T_nb, back_pts.reshape(1, 3, h, w))
    p2, z2 = points_to_pixels(back, K)
    p = pixel_grid(h, w)[:, :2]
    err_px = (p2 - p).norm(dim=1, keepdim=True)
    err_rel = (z2 - depth_ref).abs() / depth_ref
    return valid & in_view(q, zq, h, w) & (err_px < config.consistency_px) & (err_rel < config.consistency_rel)


# ------------------------------------------------------------------------------------------------ fill, upsample


def fill_low_confidence(inv: torch.Tensor, conf: torch.Tensor, threshold: float) -> torch.Tensor:
    """Replace inverse depth where ``conf < threshold`` by the confidence-weighted mean of its surroundings.

    Normalised convolution over a pyramid: at each level the weighted sums are box-filtered and halved, until
    every pixel has support; coarser levels only fill what finer ones left empty.

    Args:
        inv, conf: ``(1, 1, h, w)``.
    """
    wgt = torch.where(conf >= threshold, conf, torch.zeros_like(conf))
    if float(wgt.sum()) <= 0:
        return torch.full_like(inv, float(inv.median()))
    h, w = inv.shape[-2:]
    num, den = inv * wgt, wgt
    filled = torch.zeros_like(inv)
    have = torch.zeros_like(inv, dtype=torch.bool)
    level_num, level_den = num, den
    for _ in range(12):
        sm_num, sm_den = box_filter(level_num, 2), box_filter(level_den, 2)
        up_num = F.interpolate(sm_num, size=(h, w), mode="bilinear", align_corners=False)
        up_den = F.interpolate(sm_den, size=(h, w), mode="bilinear", align_corners=False)
        ok = (up_den > 1e-6) & ~have
        filled = torch.where(ok, up_num / up_den.clamp_min(1e-12), filled)
        have |= ok
        if bool(have.all()) or min(level_num.shape[-2:]) <= 2:
            break
        level_num, level_den = F.avg_pool2d(sm_num, 2, ceil_mode=True), F.avg_pool2d(sm_den, 2, ceil_mode=True)
    filled = torch.where(have, filled, torch.full_like(inv, float(num.sum() / den.sum())))
    return torch.where(conf >= threshold, inv, filled)


def fit_power_law(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, iters: int = 5) -> tuple[float, float]:
    """Robust weighted least-squares line ``y ≈ a x + b`` (Huber-reweighted, threshold 1.345 robust σ).

    Applied to log inverse depths it is a power law ``g ≈ e^b p^a``: a scale and shift of log depth.

    Args:
        x, y, weight: ``(N,)`` samples and their (positive) weights.

    Returns:
        ``(a, b)``.

    >>> x = torch.linspace(0, 1, 50)
    >>> y = 2 * x + 1
    >>> y[::10] += 5  # outliers
    >>> a, b = fit_power_law(x, y, torch.ones(50))
    >>> round(a, 2), round(b, 2)  # the outliers are down-weighted, not removed
    (2.0, 1.0)
    """
    x, y, w0 = x.double(), y.double(), weight.double()
    w = w0
    a, b = 1.0, 0.0
    for _ in range(iters):
        sw = w.sum().clamp_min(1e-12)
        mx, my = (w * x).sum() / sw, (w * y).sum() / sw
        var = (w * (x - mx) ** 2).sum()
        a = float((w * (x - mx) * (y - my)).sum() / var) if float(var) > 1e-18 else 0.0
        b = float(my - a * mx)
        r = (y - a * x - b).abs()
        k = 1.345 * 1.4826 * float(r.median()) + 1e-12
        w = w0 * (k / r.clamp_min(1e-12)).clamp(max=1.0)
    return a, b


def fill_with_prior(
    inv: torch.Tensor,
    conf: torch.Tensor,
    prior_inv: torch.Tensor,
    threshold: float,
    radius: int,
    support: float,
) -> torch.Tensor:
    """Fill inverse depth where ``conf < threshold`` from a single-photo prior aligned to the confident pixels.

    The prior's log inverse depth ``log p`` is fitted to the confident ``log g`` as ``a log p + b``
    (:func:`fit_power_law`, weighted by confidence); the log ratio ``r = log g - (a log p + b)`` of the confident
    pixels is spread over the image (:func:`fill_low_confidence`) and applied in proportion to the local
    confident support: ``filled = exp(a log p + b + α r)``, ``α = s / (s + support)`` with ``s`` the mean over
    ``(2 radius + 1)²`` windows of the confidence of confident pixels (0 elsewhere). A prior that is a power law
    of the true inverse depth (right shape, wrong scale and shift of log depth) fills exactly.

    With several priors (``P > 1``), each is aligned by its own power law and the mean of the aligned log inverse
    depths is the fill (an ensemble: where the priors' errors differ, the mean errs less than either).

    Falls back to :func:`fill_low_confidence` with fewer than 20 confident pixels or when no prior increases with
    the geometric inverse depth (``a ≤ 0.05``; such a prior is left out of the mean).

    Args:
        inv, conf: ``(1, 1, h, w)``.
        prior_inv: ``(1, P, h, w)`` positive inverse depths of ``P ≥ 1`` single-photo priors.
        threshold: confidence of the pixels kept and fitted.
        radius: support window radius (pixels).
        support: mean confidence at which the local correction counts half; 0: the whole correction everywhere
            (``α = 1``: the prior gives the shape of log depth inside a hole, the confident pixels around it its
            level).

    Returns:
        ``(1, 1, h, w)`` inverse depth, equal to ``inv`` where ``conf >= threshold``.
    """
    filled = _aligned_fill(inv, conf, prior_inv, threshold, radius, support)
    return fill_low_confidence(inv, conf, threshold) if filled is None else filled


def _aligned_fill(inv, conf, prior_inv, threshold: float, radius: int, support: float) -> torch.Tensor | None:
    """:func:`fill_with_prior`'s fill, or None where it falls back (too few confident pixels, no usable prior)."""
    ok = conf >= threshold
    if int(ok.sum()) < 20:
        return None
    log_g = torch.log(inv.clamp_min(1e-9))
    aligned = []
    for i in range(prior_inv.shape[1]):
        log_p = torch.log(prior_inv[:, i : i + 1].clamp_min(1e-9))
        a, b = fit_power_law(log_p[ok], log_g[ok], conf[ok])
        if a > 0.05:
            # a narrow confident depth range must not blow the prior's range up
            aligned.append(min(a, 5.0) * log_p + b)
    if not aligned:
        return None
    aligned = torch.stack(aligned).mean(0)
    resid = fill_low_confidence(log_g - aligned, conf, threshold)
    s = box_filter(torch.where(ok, conf, torch.zeros_like(conf)), radius)
    alpha = s / (s + support) if support > 0 else torch.ones_like(s)
    lo, hi = float(log_g[ok].min()), float(log_g[ok].max())
    # A generous range around the confident depths (the fill may be nearer or farther than anything matched).
    filled = torch.exp((aligned + alpha * resid).clamp(lo - math.log(4.0), hi + math.log(4.0)))
    return torch.where(ok, inv, filled.to(inv.dtype))


def cost_at(cost: torch.Tensor, inv_depths: torch.Tensor, inv: torch.Tensor) -> torch.Tensor:
    """The cost volume read at each pixel's own inverse depth, linearly between planes; 1 (the largest cost) outside
    the planes' range.

    Args:
        cost: ``(D, 1, h, w)`` (:func:`sweep_costs`).
        inv_depths: ``(D,)`` evenly spaced.
        inv: ``(1, 1, h, w)``.

    Returns:
        ``(1, 1, h, w)``.

    >>> cost = torch.arange(5.0).view(5, 1, 1, 1).expand(5, 1, 1, 3) / 10  # planes at 1, 1.25, ..., 2
    >>> cost_at(cost, torch.linspace(1, 2, 5), torch.tensor([1.125, 1.5, 3.0]).view(1, 1, 1, 3))
    tensor([[[[0.0500, 0.2000, 1.0000]]]])
    """
    d = cost.shape[0]
    x = (inv - inv_depths[0]) / ((inv_depths[-1] - inv_depths[0]) / max(d - 1, 1))
    inside = (x >= 0) & (x <= d - 1)
    lo = x.clamp(0, d - 1).floor().long().clamp(max=max(d - 2, 0))
    t = (x.clamp(0, d - 1) - lo).clamp(0, 1)
    c = cost[:, 0][None]  # (1, D, h, w)
    c0 = c.gather(1, lo)
    c1 = c.gather(1, (lo + 1).clamp(max=d - 1))
    return torch.where(inside, c0 + t * (c1 - c0), torch.ones_like(inv))


def cheaper_fill(
    cost: torch.Tensor,
    inv_depths: torch.Tensor,
    fill: torch.Tensor,
    other: torch.Tensor,
    where: torch.Tensor,
    margin: float,
    good: float = 1.0,
) -> torch.Tensor:
    """``fill``, but ``other`` at the pixels of ``where`` whose matching cost at ``other``'s depth is lower than at
    ``fill``'s by more than ``margin`` and lower than ``good``: a per-pixel photometric check between two fills of
    the pixels the sweep was unsure of. Where the cost hardly tells them apart (textureless, or seen by no
    neighbour) ``fill`` stays, and so it does where ``fill``'s depth lies outside the planes' range, which the sweep
    cannot judge (a near wall nearer than the first plane).

    Args:
        cost, inv_depths: as :func:`cost_at`.
        fill, other: ``(1, 1, h, w)`` inverse depths.
        where: ``(1, 1, h, w)`` bool.
        margin: cost difference (:func:`zncc_cost`'s units, in [0, 1]).
        good: largest cost of ``other`` at a pixel it takes: a good match, not one merely less bad where nothing
            matches (the near walls of a large move, seen by no neighbour, are cheaper at a farther depth).

    Returns:
        ``(1, 1, h, w)``.
    """
    judged = where & (fill >= inv_depths[0]) & (fill <= inv_depths[-1])
    c_other = cost_at(cost, inv_depths, other)
    better = judged & (c_other < good) & (c_other < cost_at(cost, inv_depths, fill) - margin)
    return torch.where(better, other, fill)


def block_mask(h: int, w: int, side: int) -> torch.Tensor:
    """``(1, 1, h, w)`` bool: every other square block of side ``side`` in both directions (a quarter of the
    pixels), starting with the top-left block."""
    by = (torch.arange(h) // side % 2 == 0)[:, None]
    bx = (torch.arange(w) // side % 2 == 0)[None, :]
    return (by & bx)[None, None]


def choose_fill(
    inv: torch.Tensor,
    conf: torch.Tensor,
    prior_inv: torch.Tensor,
    threshold: float,
    radius: int,
    support: float,
    left_out: torch.Tensor | None = None,
) -> tuple[torch.Tensor, str]:
    """:func:`fill_with_prior` or :func:`fill_low_confidence`, whichever predicts left-out confident pixels better.

    The confident pixels are cut into square blocks of side ``2 radius + 1`` (the prior fill's support window);
    every other block in both directions (a quarter, :func:`block_mask`) is left out, both fills are computed from
    the rest, and each is scored by the confidence-weighted mean ``|log fill - log g|`` over the left-out confident
    pixels: a label-free test of the extrapolation a fill does, which the residual on the pixels it was fitted to
    is not. The winner is then computed from all the confident pixels.

    Args:
        inv, conf, prior_inv, threshold, radius, support: as :func:`fill_with_prior`.
        left_out: ``(1, 1, h, w)`` bool, the pixels to leave out (default: ``block_mask(h, w, 2 radius + 1)``);
            only its confident pixels count.

    Returns:
        ``((1, 1, h, w)`` filled inverse depth, ``"prior"`` or ``"propagate"``).
    """
    ok = conf >= threshold
    if left_out is None:
        left_out = block_mask(*inv.shape[-2:], 2 * radius + 1)
    left_out = ok & left_out
    if int(left_out.sum()) >= 20:
        kept = torch.where(left_out, torch.zeros_like(conf), conf)
        cv_prior = _aligned_fill(inv, kept, prior_inv, threshold, radius, support)
        if cv_prior is not None:
            log_g, wgt = torch.log(inv.clamp_min(1e-9))[left_out], conf[left_out]
            errors = {
                name: float((wgt * (torch.log(f.clamp_min(1e-9))[left_out] - log_g).abs()).sum() / wgt.sum())
                for name, f in (("prior", cv_prior), ("propagate", fill_low_confidence(inv, kept, threshold)))
            }
            if errors["propagate"] < errors["prior"]:
                return fill_low_confidence(inv, conf, threshold), "propagate"
    return fill_with_prior(inv, conf, prior_inv, threshold, radius, support), "prior"


def _prior_inverse_depth(prior, rgb: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """``(1, P, h, w)`` inverse depths at ``size`` of a depth source (None or ``"builtin"``: the built-in network;
    ``P = 1``) or of a list or tuple of them (``P`` = its length)."""
    import cv2

    if isinstance(prior, (list, tuple)):
        if not prior:
            raise InputError("prior is an empty list; give a depth source, a list of them, None or 'builtin'")
        return torch.cat([_prior_inverse_depth(p, rgb, size) for p in prior], 1)
    if prior is None or isinstance(prior, str):
        if prior not in (None, "builtin"):
            raise InputError(f"prior must be a depth source, None or 'builtin', got {prior!r}")
        from viewshift.depth.builtin import load_builtin

        prior = load_builtin()
    depth = np.asarray(prior.estimate(np.ascontiguousarray(rgb[..., :3])).depth, dtype=np.float32)
    if depth.shape != rgb.shape[:2] or not np.isfinite(depth).all():
        raise InputError(f"the prior depth source {prior!r} gave no finite {rgb.shape[1]}×{rgb.shape[0]} depth")
    inv = cv2.resize(1.0 / np.maximum(depth, 1e-6), size, interpolation=cv2.INTER_AREA)
    return torch.from_numpy(inv)[None, None]


def _fill_method(fill: bool | str) -> str | None:
    """The fill method named by ``fill`` (True: the default), None for no filling."""
    if fill is True:
        return FILL_METHODS[0]
    if fill is False or fill is None:
        return None
    if fill not in FILL_METHODS:
        raise InputError(f"fill must be one of {', '.join(FILL_METHODS)} (or True/False), got {fill!r}")
    return fill


def upsample_inverse_depth(inv: torch.Tensor, guide: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """Bilinear upsampling of ``(1, 1, h, w)`` inverse depth to the guide's ``(1, 1, H, W)``, then a guided filter."""
    up = F.interpolate(inv, size=guide.shape[-2:], mode="bilinear", align_corners=False)
    out = guided_filter(guide, up, radius, eps)
    lo, hi = float(inv.min()), float(inv.max())
    return out.clamp(lo, hi)


# ------------------------------------------------------------------------------------------------ public API


def multiview_depth(
    images: list[np.ndarray],
    ref: int,
    *,
    cameras: Cameras | None = None,
    focal: float | None = None,
    fill: bool | str = True,
    prior=None,
    config: SweepConfig | None = None,
) -> MultiViewDepth:
    """Dense depth and confidence of frame ``ref`` by plane-sweep stereo over its neighbours.

    Args:
        images: ``H×W×3 uint8`` RGB frames of one static scene, one size, at least two.
        ref: index of the frame to compute depth for.
        cameras: their cameras (:func:`~viewshift.multiview.estimate_cameras` is run when None).
        focal: focal length in pixels, used only when ``cameras`` is None (None: searched).
        fill: how pixels of low confidence are filled (dense depth): ``"mono"`` (single-photo depth aligned to
            the confident geometry, corrected locally by it), ``"propagate"`` (confidence-weighted smoothing of
            the surroundings), True for the default (``"mono"``, first of :data:`FILL_METHODS`), False leaves them 0.
        prior: the single-photo depth source of the ``"mono"`` fill (anything with ``estimate(rgb) -> DepthMap``;
            None or ``"builtin"``: the built-in network), or a list of them (their aligned mean fills,
            :func:`fill_with_prior`); unused by the other fills.
        config: :class:`SweepConfig`.

    Returns:
        :class:`MultiViewDepth` in the cameras' unit (relative: the median depth of frame 0's points is 1).

    Raises:
        InputError: fewer than two frames, different sizes, ``ref`` out of range or not registered, no parallax,
            an unknown fill method.
    """
    cfg = config or SweepConfig()
    fill = _fill_method(fill)
    check_frames(images)
    n = len(images)
    if not -n <= ref < n:
        raise InputError(f"reference frame {ref} is out of range for {n} frames")
    ref = ref % n
    if cameras is None:
        cameras = estimate_cameras(images, focal=focal)
    if len(cameras) != n:
        raise InputError(f"cameras describe {len(cameras)} frames but {n} frames were given")
    if not cameras.registered[ref]:
        raise InputError(f"frame {ref} has no estimated pose (too few shared features); choose another reference frame")
    with torch_threads(cfg.threads or torch.get_num_threads()), torch.inference_mode():
        return _multiview_depth(images, ref, cameras, fill, prior, cfg)


def multiview_depths(
    images: list[np.ndarray],
    refs: list[int] | None = None,
    *,
    cameras: Cameras | None = None,
    focal: float | None = None,
    fill: bool | str = True,
    prior=None,
    config: SweepConfig | None = None,
) -> list[MultiViewDepth]:
    """:func:`multiview_depth` of several reference frames (default: all registered frames), e.g. as a teacher.

    The same method frame by frame, except that the forward–backward check reuses the depth already swept for
    the other reference frames instead of sweeping those neighbours again (about a third of the work per frame
    when every frame is a reference). Arguments as for :func:`multiview_depth`.

    Returns:
        One :class:`MultiViewDepth` per entry of ``refs``, in that order.
    """
    cfg = config or SweepConfig()
    fill = _fill_method(fill)
    check_frames(images)
    n = len(images)
    if cameras is None:
        cameras = estimate_cameras(images, focal=focal)
    if len(cameras) != n:
        raise InputError(f"cameras describe {len(cameras)} frames but {n} frames were given")
    refs = [i for i in range(n) if cameras.registered[i]] if refs is None else [r % n for r in refs]
    for r in refs:
        if not cameras.registered[r]:
            raise InputError(f"frame {r} has no estimated pose (too few shared features); leave it out of refs")
    with torch_threads(cfg.threads or torch.get_num_threads()), torch.inference_mode():
        sweeps, done = _Sweeps(images, cameras, cfg), {}
        order = sorted(refs, key=lambda r: r)
        results = {r: _multiview_depth(images, r, cameras, fill, prior, cfg, sweeps, done) for r in order}
        return [results[r] for r in refs]


class _Sweeps:
    """Shared state of the sweeps of one frame set: sizes, intrinsics at the sweep size, grey frames (cached)."""

    def __init__(self, images: list[np.ndarray], cameras: Cameras, cfg: SweepConfig):
        self.images, self.cameras, self.cfg = images, cameras, cfg
        self.H, self.W = images[0].shape[:2]
        self.s = min(1.0, cfg.sweep_width / self.W)
        self.w, self.h = max(8, round(self.W * self.s)), max(8, round(self.H * self.s))
        self.K = scale_intrinsics(torch.from_numpy(cameras.K)[None], self.w / self.W, self.h / self.H).float()
        self.world_T_cam = torch.from_numpy(cameras.world_T_cam)
        self._greys: dict[int, torch.Tensor] = {}

    def greys(self, frames) -> dict[int, torch.Tensor]:
        for i in frames:
            if i not in self._greys:
                self._greys[i] = _grey(self.images[i], (self.w, self.h))
        return self._greys

    def plan(self, ref: int) -> tuple[float, float, float, list[int]]:
        """``(near, far, median, neighbours)`` of frame ``ref``."""
        near, far, median = _depth_range(self.cameras, ref, self.K[0].double().numpy(), (self.w, self.h))
        neighbours = choose_neighbours(self.cameras, ref, self.cfg.num_neighbours, median)
        if not neighbours:
            raise InputError(
                f"frame {ref} has no neighbour seen from a different place; no parallax, no depth "
                "(move the camera sideways between frames)"
            )
        return near, far, median, neighbours

    def sweep(self, ref: int, neighbours: list[int], inv_depths: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``(inv_depth, confidence, cost)`` of :func:`_sweep_frame`."""
        greys = self.greys([ref, *neighbours])
        return _sweep_frame(greys, self.K, self.world_T_cam, ref, neighbours, inv_depths, self.cfg)


def _multiview_depth(
    images, ref: int, cameras: Cameras, fill: str | None, prior, cfg: SweepConfig,
    sweeps: _Sweeps | None = None, done: dict[int, torch.Tensor] | None = None,
) -> MultiViewDepth:  # fmt: skip
    """One reference frame; ``done`` holds inverse depths already swept for other frames (reused in the check)."""
    sw = sweeps or _Sweeps(images, cameras, cfg)
    H, W, w, h, s, K, world_T_cam = sw.H, sw.W, sw.w, sw.h, sw.s, sw.K, sw.world_T_cam
    near, far, median, neighbours = sw.plan(ref)
    inv_depths = torch.linspace(1.0 / far, 1.0 / near, cfg.num_planes)
    inv, conf, cost = sw.sweep(ref, neighbours, inv_depths)
    if done is not None:
        done[ref] = inv
    checks = neighbours[: cfg.consistency_views]
    if checks:
        agree = torch.zeros_like(conf)
        for j in checks:
            if done is not None and j in done:
                inv_j = done[j]
            else:
                # The neighbour over the reference's planes, the reference first among its neighbours.
                nb = [ref] + [k for k in choose_neighbours(cameras, j, cfg.num_neighbours, median) if k != ref]
                inv_j = sw.sweep(j, nb[: cfg.num_neighbours], inv_depths)[0]
            nb_T_ref = (torch.linalg.inv(world_T_cam[j]) @ world_T_cam[ref])[None].float()
            agree += consistency(inv, inv_j, K, nb_T_ref, cfg).float()
        conf = conf * agree / len(checks)
    if fill == "mono":
        prior_inv = _prior_inverse_depth(prior, images[ref], (w, h))
        radius = max(1, round(cfg.fill_radius * w))
        args = (inv, conf, prior_inv, cfg.fill_below, radius, cfg.fill_support)
        filled = choose_fill(*args)[0] if cfg.fill_choose else fill_with_prior(*args)
        if cfg.fill_cost_margin is not None:
            propagated = fill_low_confidence(inv, conf, cfg.fill_below)
            low = conf < cfg.fill_below
            filled = cheaper_fill(cost, inv_depths, filled, propagated, low, cfg.fill_cost_margin, cfg.fill_cost_good)
        inv = filled
    elif fill == "propagate":
        inv = fill_low_confidence(inv, conf, cfg.fill_below)
    guide = _grey(images[ref], (W, H))
    radius = max(1, round(cfg.guided_radius / s))
    if fill:
        inv_full = upsample_inverse_depth(inv, guide, radius, cfg.guided_eps)
    else:
        inv_full = F.interpolate(inv, size=(H, W), mode="nearest")
    conf_full = F.interpolate(conf, size=(H, W), mode="bilinear", align_corners=False).clamp(0, 1)
    depth = 1.0 / inv_full.clamp_min(1e-9)
    if not fill:
        low = F.interpolate((conf < cfg.fill_below).float(), size=(H, W), mode="nearest") > 0
        depth = torch.where(low, torch.zeros_like(depth), depth)
    return MultiViewDepth(
        depth=depth[0, 0].numpy().astype(np.float32),
        confidence=conf_full[0, 0].numpy().astype(np.float32),
        ref=ref,
        cameras=cameras,
        neighbours=tuple(neighbours),
        near=near,
        far=far,
        fill=fill,
    )
