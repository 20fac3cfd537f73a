"""Fit depth (and refine the cameras) to one clip: test-time training that starts from geometry.

:func:`fit_clip` refines a depth network on the frames of one clip, with the clip's own cameras:

1. **Cameras.** The clip's ``poses.txt`` (known poses) or, without it, :func:`viewshift.multiview.estimate_cameras`
   (structure from motion; a frame it cannot register is left out of the fit). They are the initial poses; each
   frame gets a small learnable correction ``world_T_cam_i = world_T_cam_i^0 · exp(δ_i)`` (axis-angle +
   translation, zero at the start).
2. **Scale.** The depth network predicts relative depth; a learnable global factor ``s`` maps it into the
   cameras' unit. It starts from the geometric teacher (median ratio) or, without one, from the scale that
   minimises the photometric loss of the initial depth over a log-spaced grid.
3. **Neighbours with parallax.** Each target frame's two source frames are the nearest frames on each side whose
   camera moved enough to shift the scene by at least ``min_parallax_px`` pixels at the median depth
   (``f · baseline / median depth``), not a fixed stride of 1 (hand-held captures move a few pixels per frame).
4. **Teacher.** When :func:`viewshift.multiview.multiview_depth` is available, the plane-sweep depth of a few
   frames is a confidence-weighted teacher: ``mean(c · |log(s d) - log(d_geo)|)`` over its known pixels.
5. **Losses** (SfMLearner, Zhou et al. 2017): multi-scale photometric view synthesis (SSIM + L1) weighted by the
   explainability mask ``E`` (predicted by :class:`~viewshift.learn.pose_net.PoseExpNet`'s decoder; off by
   default), its regulariser ``-mean(log E)``, and edge-aware second-order smoothness of the mean-normalised
   disparity. Each pixel takes its smallest error over the sources, and pixels that the unwarped sources match
   better are left out (Monodepth2's minimum reprojection and auto-masking, ``min_reprojection``, ``automask``).
   ``anchor_weight`` (off by default) keeps depth close to the initial network's, scale-invariantly; at the old
   default of 10 it held the depth in place (docs/depth/fit.md).

A run is resumable: ``MODEL.run/checkpoint.pt`` is written every ``checkpoint_seconds`` of wall time (and at
the end) through :func:`viewshift.io.atomic_path`; calling :func:`fit_clip` again with the same settings continues
from it (the step and the used time included), and ``resume=False`` starts afresh. Each step's batch is drawn
from a generator seeded by ``(seed, step)``, so a resumed run sees the batches an uninterrupted one would.

Outputs: ``MODEL`` (a depth model file: ``viewshift render --depth-model MODEL``) and ``MODEL.run/`` with
``config.json``, ``checkpoint.pt``, ``log.jsonl``, ``cameras.npz`` (initial and refined ``world_T_cam``, ``K``)
and ``poses.txt`` (refined ``world_T_cam``, the clip format).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from viewshift.errors import InputError, OutputError


@dataclass
class FitConfig:
    """Settings of a fit (saved as ``MODEL.run/config.json``; a resumed run must have the same).

    Attributes:
        height, width: resolution the depth is fitted at, and the model's input size (0: the clip's frame size,
            at most ``max_width`` wide, both multiples of 32). Frames are resized whole and ``K`` with them.
        crop_height, crop_width: each step trains on one random window of this size of every frame in the batch
            (0: about the initial model's pixel count at the clip's aspect ratio, multiples of 32; a window as
            large as the frame trains on whole frames).
        max_width: largest fit width when ``width`` is 0.
        scales: photometric and smoothness scales of the depth pyramid (1 = full resolution only, up to 4).
        batch_size: target frames per step.
        lr: Adam learning rate of the depth network and the explainability network.
        pose_lr: learning rate of the per-frame pose corrections (0 keeps the initial poses).
        scale_lr: learning rate of the log of the global depth scale (and of the per-frame scales).
        frame_scales: also learn one depth scale per frame (``depth_i = s · s_i ·`` network depth, ``s_i``
            starting from the teacher's median ratio on that frame): the network then learns the shape of each
            frame's depth and not its distance, which a single photo hardly tells (an orbit closing in on its
            object). Single-photo use and the held-out bench keep the global scale alone.
        ssim_weight: SSIM share ``alpha`` of the photometric error.
        smooth_weight: ``lambda_s`` of the edge-aware second-order smoothness.
        min_reprojection: per pixel the smallest photometric error over the sources, not their mean
            (Monodepth2; :func:`viewshift.learn.losses.photometric_loss`). On since round 9
            (experiments/depth/fit_round9), with ``automask``.
        automask: leave out of the photometric loss the pixels the unwarped sources match better (Monodepth2):
            without it the fit learned infinite depth on the KITTI turn's uniform road (12–15× too far).
        explainability: predict SfMLearner's explainability mask.
        explain_weight: ``lambda_e`` of the mask's regulariser.
        teacher_weight: weight of the confidence-weighted geometric depth teacher (when available).
        teacher_frames: frames that get a geometric teacher depth, spread over the fitted frames (-1: every
            fitted frame; 0: no teacher).
        teacher_width: width of the images the teacher's plane sweep runs on (capped at the fit's width).
        anchor_weight: weight of the scale-invariant log-depth loss towards the initial network (0: off).
        min_parallax_px: neighbours are the nearest frames whose motion shifts the median depth by this many
            pixels at the training resolution.
        stride: fixed neighbour stride instead (0: choose by parallax).
        holdout_every: leave out every ``k``-th frame (indices ``k-1, 2k-1, ...``) from fitting (0: none);
            for benchmarks that render the left-out frames.
        poses: ``"auto"`` (the clip's poses.txt if present, else estimated), ``"clip"`` or ``"estimate"``.
        seed: batch and initialisation seed.
        init: depth model file to start from ("" = `FIT_INIT_WEIGHTS`, the group-normalised `fit_init.pt`).
        checkpoint_seconds: wall time between checkpoints.
        log_every: steps between lines of ``log.jsonl``.
    """

    height: int = 0
    width: int = 0
    crop_height: int = 0
    crop_width: int = 0
    max_width: int = 640
    scales: int = 2
    batch_size: int = 4
    lr: float = 1e-3
    pose_lr: float = 1e-4
    scale_lr: float = 1e-2
    frame_scales: bool = False
    ssim_weight: float = 0.85
    smooth_weight: float = 0.05
    min_reprojection: bool = True
    automask: bool = True
    explainability: bool = False
    explain_weight: float = 0.2
    teacher_weight: float = 1.0
    teacher_frames: int = 12
    teacher_width: int = 160
    anchor_weight: float = 0.0
    min_parallax_px: float = 2.0
    stride: int = 0
    holdout_every: int = 0
    poses: str = "auto"
    seed: int = 0
    init: str = ""
    checkpoint_seconds: float = 30.0
    log_every: int = 10

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_dict(cls, d: dict) -> FitConfig:
        """The config of a saved run; a field the run predates takes the value it had before it existed."""
        from viewshift.learn.trainer import config_from_dict

        return config_from_dict(cls, {**BEFORE_FIELDS, **d}, "fit")


#: FitConfig fields added after runs were saved without them, with the behaviour those runs had.
BEFORE_FIELDS = {"min_reprojection": False, "automask": False}


# --------------------------------------------------------------------------------------------------- pieces


def training_size(frame_hw: tuple[int, int], input_size: tuple[int, int]) -> tuple[int, int]:
    """``(h, w)``: about ``input_size``'s pixel count at the frames' aspect ratio, multiples of 32."""
    area = input_size[0] * input_size[1]
    h = math.sqrt(area * frame_hw[0] / frame_hw[1])
    return max(32, round(h / 32) * 32), max(32, round(area / h / 32) * 32)


def resize_intrinsics(K: np.ndarray, src_hw: tuple[int, int], dst_hw: tuple[int, int]) -> np.ndarray:
    """``K`` of an image resized whole from ``src_hw`` to ``dst_hw`` (pixel centres at integers)."""
    sx, sy = dst_hw[1] / src_hw[1], dst_hw[0] / src_hw[0]
    out = np.array(K, dtype=np.float64)
    out[0, 0], out[0, 1], out[0, 2] = K[0, 0] * sx, K[0, 1] * sx, (K[0, 2] + 0.5) * sx - 0.5
    out[1, 1], out[1, 2] = K[1, 1] * sy, (K[1, 2] + 0.5) * sy - 0.5
    return out


def choose_neighbours(
    world_T_cam: np.ndarray,
    median_depth: np.ndarray,
    focal: float,
    frames: list[int],
    *,
    min_parallax_px: float,
    stride: int = 0,
) -> dict[int, list[int]]:
    """Two source frames for each target: the nearest (by index) on each side with enough parallax.

    The parallax of source ``s`` for target ``t`` is ``f · |c_s - c_t| / median_depth_t`` (pixels; ``c`` the
    camera centres). A side without such a frame is replaced by the second such frame of the other side; when
    no frame has enough parallax, the two with the most are used.

    Args:
        world_T_cam: ``(N, 4, 4)`` camera-to-world poses.
        median_depth: ``(N,)`` median scene depth of each frame in the poses' unit.
        focal: focal length in pixels at the training size.
        frames: the frames that may be targets or sources (e.g. without held-out frames).
        min_parallax_px: threshold in pixels.
        stride: with ``stride > 0``, the frames ``stride`` positions before and after in ``frames`` instead.

    Returns:
        ``{target: [source_a, source_b]}`` for every frame in ``frames``.
    """
    if len(frames) < 2:
        raise InputError("fit needs at least two frames to fit on")
    centres = world_T_cam[:, :3, 3]
    out: dict[int, list[int]] = {}
    for k, t in enumerate(frames):
        if stride > 0:
            before = frames[max(0, k - stride)] if k - stride >= 0 else None
            after = frames[k + stride] if k + stride < len(frames) else None
            picks = [p for p in (before, after) if p is not None]
            while len(picks) < 2:
                picks.append(picks[0] if picks else frames[(k + 1) % len(frames)])
            out[t] = picks
            continue
        par = {
            s: focal * float(np.linalg.norm(centres[s] - centres[t])) / max(float(median_depth[t]), 1e-9)
            for s in frames
            if s != t
        }
        left = [s for s in reversed(frames[:k]) if par[s] >= min_parallax_px]
        right = [s for s in frames[k + 1 :] if par[s] >= min_parallax_px]
        picks = left[:1] + right[:1]
        rest = left[1:2] + right[1:2]
        while len(picks) < 2 and rest:
            picks.append(rest.pop(0))
        if len(picks) < 2:
            best = sorted(par, key=lambda s: -par[s])
            picks = (picks + [s for s in best if s not in picks])[:2]
        while len(picks) < 2:
            picks.append(picks[0])
        out[t] = picks
    return out


def pose_corrections_to_matrix(delta: torch.Tensor) -> torch.Tensor:
    """``(N, 4, 4)`` rigid transforms from ``(N, 6)`` corrections ``(rx, ry, rz, tx, ty, tz)`` (axis-angle)."""
    from viewshift.geometry import make_pose
    from viewshift.geometry.poses import axis_angle_to_matrix

    return make_pose(axis_angle_to_matrix(delta[:, :3]), delta[:, 3:])


class ClipFit(nn.Module):
    """What a fit learns: the depth network, a global depth scale, per-frame pose corrections, the mask network
    and, optionally, per-frame depth scales.

    Args:
        depth_net: the depth network to refine (its depth is relative).
        world_T_cam: ``(N, 4, 4)`` initial camera-to-world poses.
        log_scale: initial ``log s`` (depth in the cameras' unit = ``s ·`` network depth).
        explain_net: a :class:`~viewshift.learn.pose_net.PoseExpNet` whose explainability decoder gives the masks
            (its pose head is unused), or None.
        frame_log_scales: ``(N,)`` initial ``log s_i`` of learnable per-frame scales (``s · s_i ·`` network
            depth), or None for the global scale alone.
    """

    def __init__(
        self,
        depth_net: nn.Module,
        world_T_cam: torch.Tensor,
        log_scale: float,
        explain_net=None,
        frame_log_scales: torch.Tensor | None = None,
    ):
        super().__init__()
        self.depth_net = depth_net
        self.explain_net = explain_net
        self.register_buffer("world_T_cam0", world_T_cam.double())
        self.pose_delta = nn.Parameter(torch.zeros(len(world_T_cam), 6, dtype=torch.float64))
        self.log_scale = nn.Parameter(torch.tensor(float(log_scale)))
        if frame_log_scales is None:
            self.register_parameter("frame_log_scale", None)
        else:
            self.frame_log_scale = nn.Parameter(frame_log_scales.float().reshape(len(world_T_cam)).clone())

    def single_photo_scale(self, frames: list[int]) -> float:
        """The depth scale of a photo with no frame of its own: ``s``, times the median ``s_i`` over ``frames``
        when there are per-frame scales."""
        log_s = self.log_scale.detach()
        if self.frame_log_scale is not None:
            log_s = log_s + self.frame_log_scale.detach()[torch.tensor(frames)].median()
        return float(log_s.exp())

    def world_T_cam(self) -> torch.Tensor:
        """``(N, 4, 4)`` refined camera-to-world poses (float64)."""
        return self.world_T_cam0 @ pose_corrections_to_matrix(self.pose_delta)

    def src_T_tgt(self, targets: list[int], sources: list[list[int]]) -> torch.Tensor:
        """``(B, S, 4, 4)`` float32 poses mapping target-frame points into each source frame."""
        from viewshift.geometry import invert_pose

        W = self.world_T_cam()
        t = torch.tensor(targets)
        s = torch.tensor(sources)
        return (invert_pose(W[s.reshape(-1)]).reshape(*s.shape, 4, 4) @ W[t][:, None]).float()

    def depths(self, images: torch.Tensor, frames: list[int] | None = None) -> list[torch.Tensor]:
        """Per scale ``(B, 1, H_s, W_s)`` depth in the cameras' unit of ``(B, 3, H, W)`` images.

        ``frames``: the ``B`` clip indices of the images (their per-frame scales; None: the global scale only).
        """
        log_s = self.log_scale.reshape(1, 1, 1, 1)
        if frames is not None and self.frame_log_scale is not None:
            log_s = log_s + self.frame_log_scale[torch.tensor(frames)].reshape(-1, 1, 1, 1)
        s = log_s.exp()
        return [d * s for d in self.depth_net(images)]


def fit_objective(
    model: ClipFit,
    images: torch.Tensor,
    K: torch.Tensor,
    targets: list[int],
    sources: list[list[int]],
    config: FitConfig,
    teacher: dict[int, tuple[torch.Tensor, torch.Tensor]] | None = None,
    anchor: nn.Module | None = None,
    window: tuple[int, int, int, int] | None = None,
) -> dict[str, torch.Tensor]:
    """Losses of one batch (module docstring); ``"loss"`` is the total.

    Args:
        model: the :class:`ClipFit`.
        images: ``(N, 3, H, W)`` all frames at the fit size.
        K: ``(3, 3)`` intrinsics at that size.
        targets: ``B`` target frame indices; sources: ``B`` lists of ``S`` source indices.
        config: the weights.
        teacher: ``{frame: (depth (1, H, W) NaN unknown, confidence (1, H, W))}`` in the cameras' unit.
        anchor: frozen initial depth network for the anchor loss.
        window: ``(y0, x0, h, w)``: the targets and their sources are cropped to this window (``K`` shifted with
            it); pixels whose match leaves the window count as out of view. None: whole frames.
    """
    from viewshift.learn import losses as L
    from viewshift.learn.pose_net import explainability_probability

    if window is not None:
        y0, x0, h, w = window
        images = images[..., y0 : y0 + h, x0 : x0 + w]
        K = K.clone()
        K[0, 2] -= x0
        K[1, 2] -= y0
    tgt = images[targets]
    src = images[torch.tensor(sources).reshape(-1)].reshape(len(targets), len(sources[0]), *images.shape[1:])
    depths = model.depths(tgt, targets)[: max(1, config.scales)]
    masks = None
    if model.explain_net is not None:
        _, logits = model.explain_net(tgt, src)
        masks = [explainability_probability(m) for m in logits][: len(depths)]
    Kb = K[None].expand(len(targets), 3, 3).float()
    parts = L.sfm_objective(
        tgt,
        src,
        depths,
        model.src_T_tgt(targets, sources),
        Kb,
        masks,
        smooth_weight=config.smooth_weight,
        explain_weight=config.explain_weight,
        ssim_weight=config.ssim_weight,
        edge_aware=True,
        min_reprojection=config.min_reprojection,
        automask=config.automask,
    )
    total = parts.pop("loss")
    if teacher and config.teacher_weight > 0:
        terms = []
        for b, t in enumerate(targets):
            if t in teacher:
                d_geo, conf = teacher[t]
                if window is not None:
                    d_geo, conf = d_geo[..., y0 : y0 + h, x0 : x0 + w], conf[..., y0 : y0 + h, x0 : x0 + w]
                known = torch.isfinite(d_geo) & (conf > 0)
                if bool(known.any()):
                    diff = (depths[0][b].clamp_min(1e-6).log() - d_geo.nan_to_num(1.0).clamp_min(1e-6).log()).abs()
                    terms.append((diff * conf * known).sum() / known.sum())
        if terms:
            t_loss = torch.stack(terms).mean()
            total = total + config.teacher_weight * t_loss
            parts["teacher"] = t_loss.detach()
    if anchor is not None and config.anchor_weight > 0:
        with torch.no_grad():
            ref = anchor(tgt)[0]
        a = L.scale_invariant_log_loss(depths[0], 1.0 / ref, torch.ones_like(ref, dtype=torch.bool))
        total = total + config.anchor_weight * a
        parts["anchor"] = a.detach()
    parts["loss"] = total
    return parts


def random_window(rng: np.random.Generator, size: tuple[int, int], crop: tuple[int, int]):
    """``(y0, x0, h, w)`` of a ``crop``-sized window inside ``size`` drawn by ``rng`` (None: the whole frame)."""
    h, w = min(crop[0], size[0]), min(crop[1], size[1])
    if (h, w) == tuple(size):
        return None
    return int(rng.integers(0, size[0] - h + 1)), int(rng.integers(0, size[1] - w + 1)), h, w


def fit_size(frame_hw: tuple[int, int], max_width: int) -> tuple[int, int]:
    """``(h, w)`` the depth is fitted at: the frames' size, at most ``max_width`` wide, multiples of 32."""
    s = min(1.0, max_width / frame_hw[1])
    return max(32, round(frame_hw[0] * s / 32) * 32), max(32, round(frame_hw[1] * s / 32) * 32)


# ------------------------------------------------------------------------------------------------ cameras


@dataclass
class ClipCameras:
    """The cameras a fit starts from, at the clip's frame size.

    Attributes:
        world_T_cam: ``(N, 4, 4)`` camera-to-world poses.
        K: ``(3, 3)`` intrinsics.
        source: where they come from (``"clip poses.txt"`` or ``"estimated (structure from motion)"``).
        points: ``(P, 3)`` triangulated world points of structure from motion (none for known poses).
        registered: ``(N,)`` bool: frames with a pose of their own (structure from motion gives a frame it cannot
            register its nearest registered frame's pose; the fit leaves such frames out).
    """

    world_T_cam: np.ndarray
    K: np.ndarray
    source: str
    points: np.ndarray
    registered: np.ndarray


def clip_cameras(clip, how: str = "auto", *, images: list[np.ndarray] | None = None) -> ClipCameras:
    """The initial cameras of a clip.

    ``how``: ``"clip"`` (poses.txt), ``"estimate"`` (:func:`viewshift.multiview.estimate_cameras` with the
    clip's focal length) or ``"auto"`` (the first that is available).

    Raises:
        InputError: no poses.txt with ``"clip"``; structure from motion failed or is unavailable.
    """
    if how not in ("auto", "clip", "estimate"):
        raise InputError(f"poses must be auto, clip or estimate, not {how!r}")
    if how in ("auto", "clip") and clip.world_T_cam is not None:
        n = len(clip.world_T_cam)
        return ClipCameras(clip.world_T_cam, clip.K, "clip poses.txt", np.zeros((0, 3)), np.ones(n, bool))
    if how == "clip":
        raise InputError(f"clip {clip.root} has no poses.txt; use poses 'estimate'")
    try:
        from viewshift.multiview import estimate_cameras
    except ImportError as exc:  # pragma: no cover - the multiview package is part of viewshift
        raise InputError(f"clip {clip.root} has no poses.txt and camera estimation is unavailable ({exc})") from exc
    if images is None:
        from viewshift.io import read_image

        images = [read_image(p).rgb for p in clip.frames]
    cams = estimate_cameras(images, focal=float(clip.K[0, 0]))
    return ClipCameras(
        np.asarray(cams.world_T_cam, np.float64),
        np.asarray(cams.K, np.float64),
        "estimated (structure from motion)",
        np.asarray(cams.points, np.float64).reshape(-1, 3),
        np.asarray(cams.registered, bool),
    )


def read_run_cameras(path: Path) -> ClipCameras:
    """The cameras a fit started from, as its run folder keeps them (``cameras.npz``: ``world_T_cam_initial``,
    ``K``, ``source``, ``points`` and ``registered``; a run written before ``registered`` has every frame posed)."""
    z = np.load(path)
    W = z["world_T_cam_initial"]
    registered = z["registered"] if "registered" in z.files else np.ones(len(W), bool)
    return ClipCameras(W, z["K"], str(z["source"]), z["points"], registered)


def geometric_teacher(
    images: list[np.ndarray],
    frames: list[int],
    world_T_cam: np.ndarray,
    K: np.ndarray,
    size: tuple[int, int],
    points: np.ndarray,
    *,
    pool: list[int] | None = None,
    sweep_width: int = 256,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Plane-sweep depth and confidence of ``frames`` at ``size`` (``{}`` when multiview depth is unavailable).

    Only the frames of ``pool`` are given to the sweep (held-out frames never teach), and the sweeps share
    their work (:func:`viewshift.multiview.multiview_depths`).

    Args:
        images: all frames, ``H×W×3 uint8``.
        frames: the frames to compute depth for (members of ``pool``).
        world_T_cam: ``(N, 4, 4)`` poses; K: ``(3, 3)`` at the frames' size.
        size: ``(h, w)`` the results are resized to.
        points: ``(P, 3)`` world points that bound the sweep's depth range (triangulated, or sampled from the
            scaled initial depth when the poses are known).
        pool: the frames the sweep may match against (default: all).
        sweep_width: width of the images the sweep runs on.

    Returns:
        ``{frame: (depth, confidence)}``, ``H×W float32`` at ``size``; depth NaN where unknown.
    """
    try:
        from viewshift.multiview import Cameras, multiview_depth, multiview_depths
        from viewshift.multiview.planesweep import SweepConfig
    except ImportError:
        return {}
    import cv2

    pool = list(range(len(images))) if pool is None else list(pool)
    frames = [f for f in frames if f in pool]
    if not frames or len(pool) < 2:
        return {}
    cams = Cameras(
        K=K,
        world_T_cam=np.asarray(world_T_cam)[pool],
        scale="relative",
        points=points,
        reprojection_px=0.0,
        registered=np.ones(len(pool), bool),
    )
    sub = [images[i] for i in pool]
    cfg = SweepConfig(sweep_width=sweep_width)
    refs = [pool.index(f) for f in frames]
    try:
        results = dict(zip(frames, multiview_depths(sub, refs, cameras=cams, fill=False, config=cfg), strict=True))
    except InputError:  # one frame without a depth range or parallax: sweep the others one by one
        results = {}
        for f, r in zip(frames, refs, strict=True):
            try:
                results[f] = multiview_depth(sub, r, cameras=cams, fill=False, config=cfg)
            except InputError:
                continue
    out = {}
    for f, r in results.items():
        d = np.where(np.isfinite(r.depth) & (r.depth > 0), r.depth, np.nan).astype(np.float32)
        c = np.where(np.isfinite(d), r.confidence, 0).astype(np.float32)
        out[f] = (
            cv2.resize(d, size[::-1], interpolation=cv2.INTER_NEAREST),
            cv2.resize(c, size[::-1], interpolation=cv2.INTER_NEAREST),
        )
    return out


def depth_range_points(world_T_cam: np.ndarray, frames: list[int], near: float, far: float) -> np.ndarray:
    """``(P, 3)`` world points on each frame's optical axis from ``near`` to ``far`` (a sweep range stand-in)."""
    z = np.geomspace(near, far, 25)
    cam = np.stack([np.zeros_like(z), np.zeros_like(z), z, np.ones_like(z)], 1)
    return np.concatenate([(world_T_cam[f] @ cam.T).T[:, :3] for f in frames])


@torch.no_grad()
def search_scale(
    depth_net: nn.Module,
    images: torch.Tensor,
    K: torch.Tensor,
    world_T_cam: torch.Tensor,
    neighbours: dict[int, list[int]],
    config: FitConfig,
    *,
    max_targets: int = 4,
) -> tuple[float, dict[float, float]]:
    """The global ``log s`` minimising the single-scale photometric loss of the initial depth (a log grid).

    Returns:
        The best ``log s`` and the loss at every grid value.
    """
    from viewshift.geometry import invert_pose
    from viewshift.learn import losses as L

    targets = list(neighbours)[:: max(1, len(neighbours) // max_targets)][:max_targets]
    tgt = images[targets]
    d0 = torch.cat([depth_net(tgt[i : i + 1])[0] for i in range(len(targets))])
    srcs = torch.tensor([neighbours[t] for t in targets])
    W = world_T_cam.double()
    T = (invert_pose(W[srcs.reshape(-1)]).reshape(*srcs.shape, 4, 4) @ W[targets][:, None]).float()
    src = images[srcs.reshape(-1)].reshape(len(targets), srcs.shape[1], *images.shape[1:])
    # Centre the grid on the scale that puts the network's median depth at the cameras' typical distance
    # (median camera spacing times 20): a weak prior, the search spans 10^±2.5 around it.
    centres = W[:, :3, 3]
    step = (centres[1:] - centres[:-1]).norm(dim=1).median().item() if len(W) > 1 else 1.0
    mid = math.log(max(step, 1e-9) * 20 / float(d0.median()))
    from viewshift.render.warp import inverse_warp

    b, m = srcs.shape
    Kb = K[None].expand(b * m, 3, 3).float()

    def loss_at(ls: float) -> float:
        # Out-of-view pixels count as a mismatch (0.5), so shrinking depth until nothing stays in view never wins.
        warped, valid = inverse_warp(
            src.flatten(0, 1), (d0 * math.exp(ls)).repeat_interleave(m, 0), Kb, T.flatten(0, 1)
        )
        err = L._photometric_error_many(tgt, warped.view(b, m, *tgt.shape[1:]), config.ssim_weight)
        err = torch.where(valid.view(b, m, 1, *tgt.shape[-2:]), err, torch.full_like(err, 0.5))
        return float(err.mean())

    # Coarse to fine: 15 values 0.8 apart in log s, then 9 values 0.2 apart around the best.
    losses = {float(ls): loss_at(ls) for ls in np.linspace(mid - 5.6, mid + 5.6, 15)}
    coarse = min(losses, key=losses.get)
    losses |= {float(ls): loss_at(ls) for ls in np.linspace(coarse - 0.8, coarse + 0.8, 9)}
    best = min(losses, key=losses.get)
    return best, losses


# ------------------------------------------------------------------------------------------------------ fit


def _write_npz(path: Path, **arrays) -> None:
    from viewshift.io import atomic_path

    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)


def interpolate_log_scales(ratios: dict[int, torch.Tensor], n: int) -> torch.Tensor:
    """``(n,)`` log of each frame's depth scale: the log median of its ratios (teacher / network depth), linearly
    interpolated over the frame index between the frames that have ratios (constant beyond them).

    Args:
        ratios: ``{frame: (M_k,) positive ratios}`` for some frames (at least one).
        n: frame count.
    """
    known = sorted(ratios)
    logs = [float(ratios[k].median().log()) for k in known]
    return torch.from_numpy(np.interp(np.arange(n), known, logs)).float()


def run_folder(out: str | Path) -> Path:
    """The run folder ``MODEL.run`` of a fitted model file ``MODEL``."""
    out = Path(out)
    return out.with_name(out.name + ".run")


def fit_clip(
    clip: str | Path,
    out: str | Path,
    *,
    config: FitConfig | None = None,
    seconds: float | None = 300.0,
    steps: int | None = None,
    threads: int | None = None,
    resume: bool = True,
    overwrite: bool = False,
    progress: bool = True,
    **overrides,
) -> dict:
    """Fit depth (and refine the cameras) to ``clip``; write the depth model ``out`` and the run ``out.run/``.

    Args:
        clip: a clip folder (``viewshift make-clip``; poses.txt optional).
        out: the depth model file to write.
        config: a :class:`FitConfig` (``overrides`` replace its fields, e.g. ``anchor_weight=10``).
        seconds: wall-time budget over all sessions of the run (None: no time limit).
        steps: step budget (None: no step limit; one of the two budgets is needed).
        threads: torch threads (default: ``os.cpu_count()``).
        resume: continue a run folder written with the same config; False starts afresh.
        overwrite: replace an ``out`` that this run did not write.
        progress: show a progress bar (seconds of the budget, or steps).

    Returns:
        ``{"step", "seconds", "loss", ..., "model", "run", "cameras", "scale", "neighbours"}``.

    Raises:
        InputError: a bad clip, no cameras, a run folder written with other settings.
        OutputError: ``out`` exists and belongs to no resumable run (pass ``overwrite``).
    """
    import os

    from viewshift.depth.builtin import FIT_INIT_WEIGHTS, load_depth_network, save_depth_model
    from viewshift.io import read_image, save_torch
    from viewshift.learn.data import read_clip
    from viewshift.learn.trainer import write_text_atomic

    if seconds is None and steps is None:
        raise InputError("fit needs a time budget (seconds / --max-minutes) or a step budget (--steps)")
    config = dataclasses.replace(config or FitConfig(), **overrides)
    config = dataclasses.replace(config, init=str(Path(config.init or FIT_INIT_WEIGHTS).resolve()))
    out = Path(out)
    run = run_folder(out)
    ckpt_path = run / "checkpoint.pt"
    resuming = resume and ckpt_path.exists()
    if out.exists() and not resuming and not overwrite:
        raise OutputError(f"{out} exists; pass --overwrite to replace it")
    if resuming:
        saved = FitConfig.from_dict(json.loads(torch.load(ckpt_path, weights_only=True)["config"]))
        if saved != config:
            diff = {
                k: (getattr(saved, k), getattr(config, k))
                for k in dataclasses.asdict(config)
                if getattr(saved, k) != getattr(config, k)
            }
            raise InputError(
                f"{run} was fitted with other settings {diff} (saved, given); use --no-resume or another -o"
            )
    elif run.exists():
        shutil.rmtree(run)
    torch.set_num_threads(threads or os.cpu_count() or 1)
    session_start = time.monotonic()  # the budget counts the whole wall time: cameras and teacher included
    c = read_clip(clip)
    rgb = [read_image(p).rgb for p in c.frames]
    hw0 = rgb[0].shape[:2]
    net, input_size, _ = load_depth_network(config.init)
    if config.height and config.width:
        size = (config.height, config.width)
    else:  # the frames' size, but never fewer pixels than the network's own input (small frames are enlarged)
        size, least = fit_size(hw0, config.max_width), training_size(hw0, input_size)
        size = least if least[0] * least[1] > size[0] * size[1] else size
    if config.crop_height and config.crop_width:
        crop = (config.crop_height, config.crop_width)
    else:
        crop = training_size(size, input_size)
    crop = (min(crop[0], size[0]), min(crop[1], size[1]))
    import cv2

    images = (
        torch.from_numpy(np.stack([cv2.resize(im, size[::-1], interpolation=cv2.INTER_AREA) for im in rgb]))
        .permute(0, 3, 1, 2)
        .float()
        / 255
    )
    # The initial depth, the scale search and the neighbour choice run at the window size (a fraction of the work).
    images_lo = torch.nn.functional.interpolate(images, size=crop, mode="area") if crop != size else images
    run.mkdir(parents=True, exist_ok=True)
    n = len(rgb)
    timings = {"read": time.monotonic() - session_start}
    frames = [
        i for i in range(n) if not (config.holdout_every and i % config.holdout_every == config.holdout_every - 1)
    ]

    # Cameras (cached in the run folder so a resumed run does not estimate them again).
    cam_file = run / "cameras.npz"
    cams = read_run_cameras(cam_file) if cam_file.exists() else clip_cameras(c, config.poses, images=rgb)
    W0, K0, cam_source, points, registered = cams.world_T_cam, cams.K, cams.source, cams.points, cams.registered
    unposed = [i for i in range(n) if not registered[i]]
    frames = [i for i in frames if registered[i]]  # a frame without a pose of its own would teach a wrong warp
    timings["cameras"] = time.monotonic() - session_start - sum(timings.values())
    K = torch.from_numpy(resize_intrinsics(K0, hw0, size))
    K_lo = torch.from_numpy(resize_intrinsics(K0, hw0, crop))
    W0_t = torch.from_numpy(np.asarray(W0, np.float64))
    with torch.no_grad():
        net.eval()
        d_init = torch.cat([net(images_lo[i : i + 1])[0] for i in range(n)])
    net.train()
    med_net = d_init.flatten(1).median(1).values.double().numpy()
    # Scale of the initial depth in the cameras' unit, then neighbours with parallax, then the scale again.
    provisional = choose_neighbours(W0, np.ones(n), 1.0, frames, min_parallax_px=0.0, stride=1)
    log_scale, _ = search_scale(net, images_lo, K_lo, W0_t, provisional, config)
    neighbours = choose_neighbours(
        W0,
        med_net * math.exp(log_scale),
        float(K_lo[0, 0]),
        frames,
        min_parallax_px=config.min_parallax_px,
        stride=config.stride,
    )
    log_scale, _ = search_scale(net, images_lo, K_lo, W0_t, neighbours, config)
    timings["initial_depth"] = time.monotonic() - session_start - sum(timings.values())
    # Geometric teacher (cached too); its median ratio to the initial depth is the better starting scale.
    teacher_file = run / "teacher.npz"
    if teacher_file.exists():
        teacher_np = read_teacher(teacher_file)
    else:
        count = len(frames) if config.teacher_frames < 0 else min(config.teacher_frames, len(frames))
        picks = [frames[i] for i in np.linspace(0, len(frames) - 1, count).round().astype(int)] if count else []
        picks = sorted(set(picks))
        sweep_points = points
        if len(points) < 10 and picks:
            d_s = d_init[picks] * math.exp(log_scale)
            lo, hi = float(d_s.quantile(0.01)), float(d_s.quantile(0.99))
            sweep_points = depth_range_points(np.asarray(W0), picks, 0.4 * lo, 2.5 * hi)
        small = [(im.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8) for im in images]
        teacher_np = (
            geometric_teacher(
                small,
                picks,
                W0,
                K.numpy(),
                size,
                sweep_points,
                pool=frames,
                sweep_width=min(config.teacher_width, size[1]),
            )
            if config.teacher_weight > 0
            else {}
        )
        _write_npz(
            teacher_file,
            **{f"d{k}": v[0] for k, v in teacher_np.items()},
            **{f"c{k}": v[1] for k, v in teacher_np.items()},
        )
    teacher = {k: (torch.from_numpy(d)[None], torch.from_numpy(cf)[None]) for k, (d, cf) in teacher_np.items()}
    timings["teacher"] = time.monotonic() - session_start - sum(timings.values())
    frame_offsets = torch.zeros(n) if config.frame_scales else None
    if teacher:
        d_up = torch.nn.functional.interpolate(d_init[sorted(teacher)], size=size, mode="nearest")
        per_frame = {}
        for j, k in enumerate(sorted(teacher)):
            d, cf = teacher[k]
            r = d[0][cf[0] > 0.5] / d_up[j, 0][cf[0] > 0.5]
            per_frame[k] = r[torch.isfinite(r)]
        ratios = torch.cat(list(per_frame.values()))
        if ratios.numel() > 100:
            log_scale = float(ratios.median().log())
            if frame_offsets is not None:
                frame_offsets = interpolate_log_scales({k: r for k, r in per_frame.items() if r.numel()}, n) - log_scale
    explain_net = None
    if config.explainability:
        from viewshift.learn.pose_net import PoseExpNet, pose_preset

        torch.manual_seed(config.seed)
        explain_net = PoseExpNet(pose_preset("tiny", 2, True))
    model = ClipFit(net, W0_t, log_scale, explain_net, frame_offsets)
    anchor = None
    if config.anchor_weight > 0:
        anchor, _, _ = load_depth_network(config.init)
        for p in anchor.parameters():
            p.requires_grad_(False)
    scale_params = [model.log_scale] + ([model.frame_log_scale] if model.frame_log_scale is not None else [])
    groups = [{"params": list(net.parameters()), "lr": config.lr}, {"params": scale_params, "lr": config.scale_lr}]
    if explain_net is not None:
        groups.append({"params": list(explain_net.parameters()), "lr": config.lr})
    if config.pose_lr > 0:
        groups.append({"params": [model.pose_delta], "lr": config.pose_lr})
    else:
        model.pose_delta.requires_grad_(False)
    opt = torch.optim.Adam(groups)
    step, used = 0, 0.0
    if resuming:
        state = torch.load(ckpt_path, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, used = int(state["step"]), float(state["seconds"]) + (time.monotonic() - session_start)
        neighbours = {int(k): v for k, v in json.loads(state["neighbours"]).items()}
    else:
        used = time.monotonic() - session_start
        _write_npz(
            cam_file,
            world_T_cam_initial=np.asarray(W0),
            K=np.asarray(K0),
            source=np.array(cam_source),
            points=points,
            registered=np.asarray(registered),
        )
    write_text_atomic(config.to_json(), run / "config.json")

    def checkpoint() -> None:
        save_torch(
            {
                "step": step,
                "seconds": used,
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "config": config.to_json(),
                "neighbours": json.dumps(neighbours),
            },
            ckpt_path,
        )

    setup_seconds = time.monotonic() - session_start
    bar = _progress_bar(progress, seconds, steps, used, step)
    targets_all = list(neighbours)
    logged: dict = {}
    start = time.monotonic()
    last_ckpt = start
    used0 = used
    try:
        with open(run / "log.jsonl", "a") as log:
            while (steps is None or step < steps) and (seconds is None or used < seconds):
                rng = np.random.default_rng([config.seed, step])
                targets = [
                    targets_all[i]
                    for i in rng.choice(len(targets_all), min(config.batch_size, len(targets_all)), replace=False)
                ]
                window = random_window(rng, size, crop)
                parts = fit_objective(
                    model, images, K, targets, [neighbours[t] for t in targets], config, teacher, anchor, window
                )
                opt.zero_grad(set_to_none=True)
                parts["loss"].backward()
                opt.step()
                step += 1
                now = time.monotonic()
                used = used0 + (now - start)
                logged = {k: round(float(v.detach()), 5) for k, v in parts.items()} | {
                    "scale": round(model.single_photo_scale(frames), 5)
                }
                if step % config.log_every == 0:
                    log.write(json.dumps({"step": step, "seconds": round(used, 1), **logged}) + "\n")
                    log.flush()
                if bar is not None:
                    bar.n = step if steps is not None else min(round(used), bar.total)
                    bar.set_postfix(
                        step=step,
                        photometric=f"{logged.get('photometric', 0):.4f}",
                        explain=f"{logged.get('explain', 0):.4f}",
                    )
                    bar.refresh()
                if now - last_ckpt >= config.checkpoint_seconds:
                    checkpoint()
                    last_ckpt = now
        checkpoint()
    finally:
        if bar is not None:
            bar.close()
    net.eval()
    W = model.world_T_cam().detach().numpy()
    _write_npz(
        cam_file,
        world_T_cam_initial=np.asarray(W0),
        world_T_cam=W,
        K=np.asarray(K0),
        source=np.array(cam_source),
        points=points,
        registered=np.asarray(registered),
    )
    write_text_atomic("\n".join(" ".join(f"{v:.9g}" for v in p.reshape(-1)) for p in W) + "\n", run / "poses.txt")
    meta = {
        "fitted_to": str(Path(clip).resolve()),
        "steps": step,
        "scale": model.single_photo_scale(frames),
        "cameras": cam_source,
    }
    save_depth_model(out, net, size, meta)
    return {
        "step": step,
        "seconds": round(used, 1),
        **logged,
        "model": str(out),
        "run": str(run),
        "cameras": cam_source,
        "unposed_frames": unposed,
        "teacher_frames": sorted(teacher),
        "size": list(size),
        "crop": list(crop),
        "setup_seconds": round(setup_seconds, 1),
        "setup": {k: round(v, 1) for k, v in timings.items()},
        "neighbours": {str(k): v for k, v in neighbours.items()},
    }


#: Frames on each side of a clip frame that :func:`fused_depth` sweeps it over.
FUSED_REACH = 6


#: The fills of :func:`fused_depth`'s low-confidence pixels.
FUSED_PRIORS = ("fitted", "builtin", "both")


def fused_depth(
    model: str | Path,
    frame: int,
    *,
    images: list[np.ndarray] | None = None,
    exclude: tuple[int, ...] | list[int] = (),
    reach: int = FUSED_REACH,
    prior: str = "both",
    config=None,
):
    """The depth of a frame of the clip a model was fitted to: geometry where the sweep is confident, the networks
    (by default the fitted and the built-in one together) where it is not.

    Frame ``frame`` is swept (:func:`viewshift.multiview.multiview_depth`) over the clip's frames within
    ``reach`` of it, without ``exclude``, with the cameras the fit started from (``MODEL.run/cameras.npz``: the
    clip's poses or the structure-from-motion estimate; the per-frame refinements are left out: frames outside
    the fit have none, and mixing them cost every depth 2–3 dB on held-out 7-Scenes frames, docs/depth/fit.md);
    pixels of low confidence are filled by the networks' depth (``prior``), aligned to the confident geometry by a
    power law and corrected locally by it (the ``"mono"`` fill with ``prior=`` the fitted model, or it and the
    built-in one), except where the
    sweep's cost prefers the depth propagated from the confident pixels (the fill's cost check,
    ``SweepConfig.fill_cost_margin``, on by default). So the fit adds to the geometric depth exactly where the
    sweep is unsure and cannot tell. With known poses (no triangulated points) the
    sweep's depth range is the fitted depth's 1st–99th percentile times 0.4 and 2.5 (it moves with the fit's seed;
    the geometric teacher's range, the same for every seed, swept worse on validation frames: round 6).

    Args:
        model: a depth model file written by :func:`fit_clip` (its run folder beside it).
        frame: index of the clip frame.
        images: the clip's ``H×W×3 uint8`` frames (default: read from the clip the model was fitted to).
        exclude: frames never given to the sweep (e.g. held-out frames).
        reach: frames on each side of ``frame`` the sweep may use.
        prior: ``"fitted"`` (the fitted network fills), ``"builtin"`` (the built-in network fills: the
            geometric depth alone, the baseline the fit is measured against) or ``"both"`` (the mean of the two,
            each aligned to the geometry on its own: :func:`viewshift.multiview.planesweep.fill_with_prior`; the
            default since round 8's held-out rule 2: (c) in every fit on as many clips as ``"fitted"``, a higher
            mean margin over the geometric depth, +0.125 against +0.114 dB, experiments/depth/fit_round8).
        config: :class:`viewshift.multiview.planesweep.SweepConfig` (default: its defaults).

    Returns:
        :class:`~viewshift.multiview.MultiViewDepth` of ``frame``; depth ``H×W`` in the cameras' unit.

    Raises:
        InputError: no run folder or cameras beside ``model``, ``frame`` out of range, excluded or without a
            pose of its own (frames structure from motion could not register are never swept), an unknown
            ``prior``, no parallax around the frame.
    """
    from viewshift.depth.builtin import BuiltinDepth
    from viewshift.multiview import Cameras, multiview_depth

    if prior not in FUSED_PRIORS:
        raise InputError(f"prior must be one of {', '.join(map(repr, FUSED_PRIORS))}, not {prior!r}")
    cam_file = run_folder(model) / "cameras.npz"
    if not cam_file.exists():
        raise InputError(f"{cam_file} not found; fused depth needs a finished fit (run viewshift fit first)")
    run_cams = read_run_cameras(cam_file)
    W, registered = run_cams.world_T_cam, run_cams.registered
    fitted = BuiltinDepth(model)
    if images is None:
        from viewshift.io import read_image
        from viewshift.learn.data import read_clip

        images = [read_image(p).rgb for p in read_clip(fitted.meta["fitted_to"]).frames]
    n = len(images)
    if len(W) != n:
        raise InputError(f"{cam_file} has {len(W)} cameras for {n} frames")
    if not 0 <= frame < n or frame in exclude:
        raise InputError(f"frame {frame} is not one of the {n} frames the sweep may use")
    if not registered[frame]:
        raise InputError(f"frame {frame} has no camera pose (structure from motion could not register it)")
    near = range(max(0, frame - reach), min(n, frame + reach + 1))
    keep = [i for i in near if i not in exclude and registered[i]]
    points = run_cams.points
    if len(points) < 10:  # known poses: bound the sweep by the fitted depth's range
        d_fit = fitted.estimate(images[frame]).depth * float(fitted.meta["scale"])
        lo, hi = np.percentile(d_fit, [1, 99])
        points = depth_range_points(W, [frame], 0.4 * lo, 2.5 * hi)
    cams = Cameras(
        K=np.asarray(run_cams.K, np.float64),
        world_T_cam=np.asarray(W)[keep],
        scale="relative",
        points=points,
        reprojection_px=0.0,
        registered=np.ones(len(keep), bool),
    )
    source = {"fitted": fitted, "builtin": None, "both": [fitted, "builtin"]}[prior]
    return multiview_depth([images[i] for i in keep], keep.index(frame), cameras=cams, prior=source, config=config)


def read_teacher(path: Path) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """A run's geometric teacher (``teacher.npz``: ``d<frame>`` depth and ``c<frame>`` confidence at the fit's
    size) as ``{frame: (depth, confidence)}``."""
    z = np.load(path)
    return {int(k[1:]): (z[k], z["c" + k[1:]]) for k in z.files if k.startswith("d")}


def write_fused_depths(
    model: str | Path, folder: str | Path, *, overwrite: bool = False, progress: bool = False
) -> dict:
    """Write :func:`fused_depth` of every frame of the fitted clip as ``folder/<frame name>.npy`` (float32, the
    cameras' unit) with a colour preview ``<frame name>_preview.png`` beside it.

    A frame the sweep cannot use (no parallax around it, or no pose of its own) gets the fitted network's depth
    times the fit's scale.

    Returns:
        ``{"frames": written, "network_only": [frames without geometry], "folder": folder}``.

    Raises:
        InputError: see :func:`fused_depth`. OutputError: a depth file exists and ``overwrite`` is false.
    """
    from viewshift.depth.builtin import BuiltinDepth
    from viewshift.io import check_output, read_image, write_depth
    from viewshift.learn.data import read_clip

    fitted = BuiltinDepth(model)
    paths = read_clip(fitted.meta["fitted_to"]).frames
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    outs = [folder / f"{Path(p).stem}.npy" for p in paths]
    for out in outs:  # refuse before any work
        check_output(out, overwrite=overwrite)
    images = [read_image(p).rgb for p in paths]
    network_only = []
    frames = range(len(images))
    if progress:
        from tqdm import tqdm

        frames = tqdm(frames, desc="fused depth", unit="frame", dynamic_ncols=True)
    for i in frames:
        try:
            depth = fused_depth(model, i, images=images).depth
        except InputError:
            depth = fitted.estimate(images[i]).depth * float(fitted.meta["scale"])
            network_only.append(i)
        write_depth(outs[i], depth, overwrite=overwrite, inputs=paths)
    return {"frames": len(outs), "network_only": network_only, "folder": str(folder)}


def _progress_bar(progress: bool, seconds: float | None, steps: int | None, used: float, step: int):
    """A tqdm bar over the step budget when one is given, else over the seconds of the time budget."""
    if not progress:
        return None
    from tqdm import tqdm

    if steps is None:
        return tqdm(
            total=round(seconds),
            initial=min(round(used), round(seconds)),
            desc="fit",
            unit="s",
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} s of the time budget{postfix}",
            dynamic_ncols=True,
        )
    return tqdm(total=steps, initial=step, desc="fit", unit="step", dynamic_ncols=True)


def load_run(run: str | Path):
    """The :class:`~viewshift.learn.trainer.SfmModel` (eval mode) and config of a training run or checkpoint."""
    from viewshift.learn.trainer import SfmModel, TrainConfig, load_checkpoint

    path = Path(run)
    ckpt = path / "checkpoint.pt" if path.is_dir() else path
    if not ckpt.exists():
        raise InputError(f"no checkpoint at {ckpt}")
    state = load_checkpoint(ckpt)
    if "step" in state and "neighbours" in state:
        raise InputError(f"{run} is a fit run (no pose network); its refined poses are in poses.txt")
    config = TrainConfig.from_dict(json.loads(state["config"]))
    model = SfmModel(config)
    model.load_state_dict(state["model"])
    return model.eval(), config


@torch.no_grad()
def predict_snippets(run: str | Path, clip: str | Path, *, stride: int | None = None) -> dict:
    """Trajectories of every 3-frame snippet of a clip with poses, scored against ``poses.txt``.

    For a fit run (``MODEL.run`` with ``poses.txt``) the snippet poses are the refined cameras; for a training
    run with a pose network, the network's ``src_T_tgt`` for the snippet centred on frame ``t`` give the
    snippet's ``world_T_cam = inv(src_T_tgt)`` (target = world). Both are compared with the clip's poses by
    :func:`viewshift.learn.metrics.snippet_ate` (per-snippet least-squares scale).

    Returns:
        ``{"snippets", "ate_mean", "ate_std", "rot_deg_mean", "gt_path_mean", "ate_zero_motion"}``:
        ``gt_path_mean`` is the mean length of the ground-truth snippet path (for scale) and ``ate_zero_motion``
        the ATE of predicting no motion at all (the trivial baseline).
    """
    from viewshift.learn.data import read_clip
    from viewshift.learn.metrics import snippet_ate

    c = read_clip(clip)
    if c.world_T_cam is None:
        raise InputError(f"clip {clip} has no poses.txt to compare with")
    fitted = Path(run) / "poses.txt"
    if fitted.exists():
        W = np.loadtxt(fitted).reshape(-1, 4, 4)
        if len(W) != len(c):
            raise InputError(f"{fitted} has {len(W)} poses for the {len(c)} frames of {clip}")
        stride = stride or 1
        snippets = [[t - stride, t, t + stride] for t in range(stride, len(c) - stride)]
        preds = [np.stack([np.linalg.inv(W[ids[1]]) @ W[i] for i in ids]) for ids in snippets]
    else:
        preds, snippets = _network_snippets(run, c, stride)
    ates, rots, paths, still = [], [], [], []
    for P, ids in zip(preds, snippets, strict=True):
        G = np.stack([c.world_T_cam[i] for i in ids])
        ate, rot = snippet_ate(P, G)
        still.append(snippet_ate(np.stack([np.eye(4)] * len(ids)), G)[0])
        ates.append(ate)
        rots.append(rot)
        paths.append(float(np.linalg.norm(np.diff(G[:, :3, 3], axis=0), axis=1).sum()))
    return {
        "snippets": len(ates),
        "ate_mean": float(np.mean(ates)),
        "ate_std": float(np.std(ates)),
        "rot_deg_mean": float(np.mean(rots)),
        "gt_path_mean": float(np.mean(paths)),
        "ate_zero_motion": float(np.mean(still)),
    }


def _network_snippets(run, c, stride):
    from viewshift.geometry import pose_vector_to_matrix
    from viewshift.learn.data import SequenceDataset

    model, config = load_run(run)
    if model.pose_net is None:
        raise InputError(f"{run} has no pose network")
    stride = stride or config.clip_stride
    ds = SequenceDataset(c, (config.height, config.width), num_sources=config.num_sources, stride=stride, augment=False)
    preds, snippets = [], []
    for k in range(len(ds)):
        s = ds[k]
        vec, _ = model.pose_net(s["target"][None], s["sources"][None])
        src_T_tgt = pose_vector_to_matrix(vec[0].double()).numpy()
        t = ds.indices[k]
        ids = sorted([t, *ds.neighbours(t)])
        pred = {t: np.eye(4)}
        for j, sid in enumerate(ds.neighbours(t)):
            pred[sid] = np.linalg.inv(src_T_tgt[j])
        preds.append(np.stack([pred[i] for i in ids]))
        snippets.append(ids)
    return preds, snippets
