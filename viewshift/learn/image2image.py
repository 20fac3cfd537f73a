"""Image-to-image training: the learned hole filler and the direct (end-to-end) view-shift models.

Three presets, all trained on the Middlebury stereo pairs of ``../shared/data`` minus the held-out scenes of
``docs/depth.md`` (:data:`HELD_OUT`) and the validation scenes (:data:`VALIDATION`), on which the filler's runs
are scored while they train (:func:`validation_scores`) to choose the step and the run:

- ``fill-learned``: the network of :mod:`viewshift.render.fill.learned`, from two kinds of crops (``views``: the
  fraction of the first kind in each batch):

  1. *Rendered right views* (:class:`RenderedViews`): each training pair's left view rendered into the right
     camera with its ground-truth disparity and with the built-in depth network's, as the benchmark does; what
     the render leaves empty is the hole, the true right view is the answer.
  2. *Disocclusions of single photos*, self-supervised: a left view with its ground-truth disparity is moved by
     the renderer's own z-buffer (:func:`viewshift.render.splat.splat_nearest`) by a random small camera move
     (any direction), and the *source* pixels that lose the z-test (or leave the frame) form the hole.
     Rendering back along the opposite move would reveal exactly these pixels, so the hole has the shape of a
     real disocclusion and sits beside the farther surface, and the original pixels are the answer.

  The hole is pre-filled by the background rule and the network refines it: squared (or absolute) error over
  the hole pixels + ``adversarial`` × the LSGAN loss of a PatchGAN discriminator that sees the composited crop
  and the mask and is scored only on the patches near holes (:func:`patch_weights`).
- ``shift-autoencoder``: a U-Net fed the left view, corrupted in the denoising manner (Gaussian noise and dropped
  pixels), scored by L1 against the right view.
- ``shift-cgan``: the same generator plus a conditional PatchGAN discriminator on (left, right) pairs; loss
  L1 + ``adversarial`` × LSGAN (pix2pix's λ = 100 on L1 is ``adversarial = 0.01`` here).

Crops are random (random scale, random window); a horizontal flip of a stereo pair swaps the eyes: the flipped
right view becomes the left one and vice versa.

A run folder holds ``config.json`` (the :class:`Image2ImageConfig`), ``checkpoint.pt`` (written atomically through
:func:`viewshift.io.atomic_path`; re-running the same command resumes) and ``log.jsonl``. Every step's data is
drawn from a generator seeded by ``(seed, step)``, so a resumed run sees the batches an uninterrupted one would.

Why not :func:`viewshift.learn.trainer.train`: that loop builds the SfMLearner model and data mix from its own
``TrainConfig``; these models need a second (discriminator) optimiser and their own data, so a small loop lives
here with the same conventions.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from viewshift.errors import InputError
from viewshift.render.fill.background import fill_background
from viewshift.render.fill.learned import FILL_CHANNELS, UNet, fill_inputs
from viewshift.render.splat import splat_nearest

HELD_OUT = (
    "MiddEval3/Adirondack",
    "MiddEval3/Piano",
    "MiddEval3/Teddy",
    "MiddEval3/Vintage",
    "MiddEval2/Teddy",
    "MiddEval2/Cones",
    "MiddEval2/Aloe",
    "MiddEval2/Moebius",
    "MiddEval2/Reindeer",
)
"""Scenes never trained on (those of ``docs/depth.md``), scored once at the end (docs/learned.md)."""

VALIDATION = (
    "MiddEval3/Playroom",
    "MiddEval3/Recycle",
    "MiddEval3/Shelves",
    "MiddEval2/Books",
    "MiddEval2/Dolls",
    "MiddEval2/Laundry",
    "MiddEval2/Bowling1",
    "MiddEval2/Bowling2",
)
"""Scenes never trained on and disjoint from :data:`HELD_OUT`, on which steps and runs are chosen. Whole scene
families: Bowling1 and Bowling2 are the same scene lit and exposed differently, so both sit here; the 2005 set's
Books, Dolls and Laundry are other scenes than its held-out Moebius and Reindeer (Art stays in training with
MiddEval3's ArtL, the same scene)."""


@dataclass
class Image2ImageConfig:
    """Everything that defines an image-to-image run (saved as JSON beside every checkpoint).

    Attributes:
        preset: the preset this config started from.
        task: ``"fill"`` (hole filler) or ``"shift"`` (left view → right view).
        loss: fill task: ``"l1"`` (mean absolute error over hole pixels) or ``"l2"`` (mean squared error, which
            PSNR measures: where the hole's content is unknowable, its minimiser is the mean, not the median).
        adversarial: weight of the LSGAN loss of a PatchGAN discriminator (0: no discriminator).
        disc_width: channels of the discriminator's first layer.
        adv_margin: fill task: the discriminator is scored on the patches within this many pixels of a hole
            pixel (:func:`patch_weights`); elsewhere the composited crop is the true one.
        width, levels, full_head, in_stride, mix: :class:`~viewshift.render.fill.learned.UNet` settings.
        crop: side of the square training crops, pixels.
        scale: range of the random rescaling of the pair before cropping.
        move: fill task: range of the camera move, as a fraction of the pair's baseline (1 = the right view).
        noise, drop: shift task: denoising corruption of the input (Gaussian sigma, fraction of pixels zeroed).
        views: fill task: fraction of each batch cut from rendered right views of the training pairs
            (:class:`RenderedViews`; the rest are renderer-made disocclusions of single photos).
        batch_size, steps, lr: optimisation (Adam, betas (0.5, 0.999)).
        lr_decay: ``"cosine"``: the learning rate falls as ``lr · (1 + cos(π · step / steps)) / 2``; ``"none"``.
        seed: seeds the initialisation and every step's data.
        threads: torch intra-op threads.
        stereo: Middlebury root (``MiddEval3/trainingQ``, ``MiddEval2``); empty = ``../shared/data/stereo/middlebury``.
        holdout: scenes never trained on (scored once, at the end).
        validation: scenes never trained on, scored every ``validate_every`` steps (fill task).
        validate_every: steps between validation scores (0: none); each score is a line of ``log.jsonl`` and the
            best step's generator is kept as ``best.pt``.
        max_scenes: use only the first N training (and validation) scenes (0 = all; smoke tests use 2).
        log_every, checkpoint_every: steps between log lines / checkpoints.
    """

    preset: str = "fill-learned"
    task: str = "fill"
    loss: str = "l1"
    adversarial: float = 0.01
    disc_width: int = 32
    adv_margin: int = 16
    width: int = 16
    levels: int = 2
    full_head: bool = False
    in_stride: int = 1
    mix: int = 0
    crop: int = 128
    scale: tuple[float, float] = (0.5, 1.0)
    move: tuple[float, float] = (0.2, 1.0)
    noise: float = 0.0
    drop: float = 0.0
    views: float = 0.0
    batch_size: int = 8
    steps: int = 4000
    lr: float = 2e-4
    lr_decay: str = "none"
    seed: int = 0
    threads: int = 2
    stereo: str = ""
    holdout: list[str] = field(default_factory=lambda: list(HELD_OUT))
    validation: list[str] = field(default_factory=lambda: list(VALIDATION))
    validate_every: int = 0
    max_scenes: int = 0
    log_every: int = 10
    checkpoint_every: int = 50

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_dict(cls, d: dict) -> Image2ImageConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise InputError(f"unknown image-to-image config fields {sorted(unknown)}; valid: {sorted(names)}")
        d = dict(d)
        if d.get("loss", "l1") not in ("l1", "l2"):
            raise InputError(f"loss must be 'l1' or 'l2', got {d['loss']!r}")
        if d.get("lr_decay", "none") not in ("none", "cosine"):
            raise InputError(f"lr_decay must be 'none' or 'cosine', got {d['lr_decay']!r}")
        for k in ("scale", "move"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


_SHIFT = {"task": "shift", "width": 16, "levels": 3, "full_head": True, "crop": 160, "noise": 0.05, "drop": 0.1}
PRESETS: dict[str, dict] = {
    "fill-learned": {
        "task": "fill",
        # pix2pix's balance (λ = 100 on L1, i.e. 0.01 per unit of L1) scaled to squared error, whose gradient at a
        # typical hole error of 0.1 is 5x smaller than L1's: 0.002.
        "adversarial": 0.002,
        "disc_width": 16,
        "adv_margin": 16,
        "validate_every": 250,
        "width": 8,
        "levels": 2,
        "full_head": False,
        "in_stride": 2,
        "mix": 5,
        "loss": "l2",
        "crop": 128,
        "views": 0.5,
        "lr": 1e-3,
        "lr_decay": "cosine",
        "steps": 5000,
    },
    "shift-autoencoder": {**_SHIFT, "adversarial": 0.0, "batch_size": 6},
    "shift-cgan": {**_SHIFT, "adversarial": 0.01, "batch_size": 6},
}
"""Named image-to-image presets (``viewshift train --preset NAME``)."""


def make_config(preset: str, **overrides) -> Image2ImageConfig:
    """The config of a named preset with fields overridden.

    Raises:
        InputError: an unknown preset or field.
    """
    if preset not in PRESETS:
        raise InputError(f"unknown image-to-image preset {preset!r}; choose one of {sorted(PRESETS)}")
    return Image2ImageConfig.from_dict({**PRESETS[preset], "preset": preset, **overrides})


def _all_presets() -> dict[str, dict]:
    from viewshift.learn.trainer import PRESETS as DEPTH_PRESETS

    return {**DEPTH_PRESETS, **PRESETS}


class _AllPresets:
    """The presets of ``viewshift train``: the depth trainer's and these (read when the CLI needs them)."""

    def __iter__(self):
        return iter(_all_presets())


TRAIN_PRESETS = _AllPresets()


# --------------------------------------------------------------------------------------------------------- data


class StereoCrops:
    """Random crops of the non-held-out Middlebury pairs, loaded lazily and kept in memory.

    Args:
        config: the run's config (``stereo``, ``holdout``, ``max_scenes``, ``crop``, ``scale``).
    """

    def __init__(self, config: Image2ImageConfig) -> None:
        from viewshift.learn.data import middlebury_pairs

        root = Path(config.stereo) if config.stereo else _default_stereo_root()
        if not root.is_dir():
            raise InputError(f"stereo root {root} not found; pass --stereo DIR (a Middlebury folder)")
        every = middlebury_pairs(root)
        pairs = [p for p in every if p.name not in {*config.holdout, *config.validation}]
        if config.max_scenes:
            pairs = pairs[: config.max_scenes]
        if not pairs:
            raise InputError(f"no training pairs under {root} (after leaving out the held-out and validation scenes)")
        self.pairs = pairs
        self.validation_pairs = [p for p in every if p.name in set(config.validation)]
        if config.max_scenes:
            self.validation_pairs = self.validation_pairs[: config.max_scenes]
        self.config = config
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def load(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(left, right, disparity)``: ``H×W×3 float32`` in [0, 1] twice and ``H×W float32`` (> 0 everywhere)."""
        if i not in self._cache:
            from viewshift.depth.units import fill_from_farther
            from viewshift.io import read_image, to_float

            pair = self.pairs[i]
            left = to_float(read_image(pair.left).rgb).astype(np.float32)
            right = to_float(read_image(pair.right).rgb).astype(np.float32)
            disp = pair.read_disparity()
            known = np.isfinite(disp) & (disp > 0)
            disp = fill_from_farther(np.where(known, disp, 0), known, farther="smaller").astype(np.float32)
            disp = np.maximum(disp, max(float(np.percentile(disp, 1)), 0.5))
            self._cache[i] = (left, right, disp)
        return self._cache[i]

    def crop(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One random crop ``(left, right, disparity)`` of side ``config.crop`` at a random scale."""
        left, right, disp = self.load(int(rng.integers(len(self.pairs))))
        c = self.config.crop
        h, w = disp.shape
        lo = max(self.config.scale[0], (c + 1) / min(h, w))
        s = float(rng.uniform(lo, max(lo, self.config.scale[1])))
        size = (max(c, round(w * s)), max(c, round(h * s)))
        left = cv2.resize(left, size, interpolation=cv2.INTER_AREA)
        right = cv2.resize(right, size, interpolation=cv2.INTER_AREA)
        disp = cv2.resize(disp, size, interpolation=cv2.INTER_NEAREST) * (size[0] / w)
        y = int(rng.integers(size[1] - c + 1))
        x = int(rng.integers(size[0] - c + 1))
        return left[y : y + c, x : x + c], right[y : y + c, x : x + c], disp[y : y + c, x : x + c]


def _default_stereo_root() -> Path:
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "stereo" / "middlebury"


def _chw(a: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t.permute(2, 0, 1) if a.ndim == 3 else t[None]


def occlusion_holes(disparity: torch.Tensor, move: torch.Tensor, tolerance: float = 0.03) -> torch.Tensor:
    """Source pixels hidden (or pushed out of frame) by a camera move: the shape of a real disocclusion.

    Each pixel moves by ``-move * d`` (``d`` its disparity for a unit move, the camera moving by ``move``) and is
    splatted with the renderer's z-buffer (:func:`~viewshift.render.splat.splat_nearest`, depth ``1 / d``); a
    pixel is hidden when the z-buffer at its landing pixel holds a point nearer by more than ``tolerance``
    (relative), or when it lands outside the frame. Rendering back along ``-move`` would reveal exactly these
    pixels, with the background lying in direction ``-move`` from them.

    Args:
        disparity: ``(B, 1, H, W)`` positive disparity, pixels per unit move.
        move: ``(B, 2)`` camera move ``(x, y)`` in units of that baseline.
        tolerance: relative depth margin of the z-test.

    Returns:
        ``(B, 1, H, W)`` bool mask of hidden pixels.
    """
    b, _, h, w = disparity.shape
    v, u = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    px = torch.stack([u - move[:, 0, None, None] * disparity[:, 0], v - move[:, 1, None, None] * disparity[:, 0]], 1)
    z = 1.0 / disparity
    buffer, _ = splat_nearest(z, px, z, h, w)  # the z-buffer: the nearest depth that landed on each pixel
    ur, vr = px[:, 0].round().long(), px[:, 1].round().long()
    inside = (ur >= 0) & (ur < w) & (vr >= 0) & (vr < h)
    flat = (vr.clamp(0, h - 1) * w + ur.clamp(0, w - 1)).reshape(b, -1)
    front = buffer.reshape(b, -1).gather(1, flat).reshape(b, h, w)
    hidden = (front * (1 + tolerance) < z[:, 0]) | ~inside
    return hidden[:, None]


class RenderedViews:
    """The right views of stereo pairs rendered from their left views, with the true right views as answers.

    Each training pair's left view is rendered into the right camera exactly as ``bench/learned_compare.py``
    does (:func:`~viewshift.pipeline.prepare_scene`, disparity with baseline 1, camera moved right by 1,
    :func:`~viewshift.render.view.render_view`), once with the ground-truth disparity (unknown values filled from
    the farther side) and once with the built-in depth network's inverse depth scaled to it (one factor: the
    median ratio over known pixels). What the render leaves empty is the hole; the network's input is made as
    at inference (background pre-fill with the hint ``(1, 0)``, :func:`fill_inputs` over the whole view) and the
    true right view is the answer. These are the holes the held-out comparison scores, seen on other scenes.

    Args:
        pairs: Middlebury pairs (:class:`viewshift.learn.data.StereoPair`) with ground-truth disparity.
        depths: which renders to make: ``"gt"`` and/or ``"builtin"``.
    """

    def __init__(self, pairs: list, depths: tuple[str, ...] = ("gt", "builtin")) -> None:
        self.pairs = pairs
        self.depths = depths
        self._views: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] | None = None

    @property
    def views(self) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """``(x (7,H,W) float16, target (3,H,W) float16, holes (1,H,W) bool)`` per pair and depth (made once)."""
        if self._views is None:
            self._views = [v for pair in self.pairs for v in render_right_views(pair, self.depths)]
        return self._views

    def crop(self, rng: np.random.Generator, size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A ``size`` square around a random hole pixel of a random view, mirrored half of the time.

        A mirrored crop is a view rendered with the camera moving left: its hint ``dx`` changes sign.
        """
        x, target, holes = self.views[int(rng.integers(len(self.views)))]
        h, w = holes.shape[-2:]
        ys, xs = holes[0].nonzero(as_tuple=True)
        if len(ys):
            k = int(rng.integers(len(ys)))
            cy = int(ys[k]) + int(rng.integers(-size // 4, size // 4 + 1))
            cx = int(xs[k]) + int(rng.integers(-size // 4, size // 4 + 1))
        else:
            cy, cx = int(rng.integers(h)), int(rng.integers(w))
        y0 = min(max(cy - size // 2, 0), h - size)
        x0 = min(max(cx - size // 2, 0), w - size)
        window = (slice(None), slice(y0, y0 + size), slice(x0, x0 + size))
        x, target, holes = x[window].float(), target[window].float(), holes[window]
        if rng.random() < 0.5:
            x, target, holes = x.flip(-1), target.flip(-1), holes.flip(-1)
            x[5] = -x[5]
        return x, target, holes


def render_right_views(pair, depths: tuple[str, ...] = ("gt", "builtin")) -> list:
    """The right view of ``pair`` rendered from its left view: see :class:`RenderedViews`."""
    from viewshift.depth.builtin import BuiltinDepth
    from viewshift.depth.units import fill_from_farther
    from viewshift.geometry.poses import invert_pose
    from viewshift.io import read_image, to_float
    from viewshift.pipeline import Move, prepare_scene
    from viewshift.render.view import render_view

    left_u8 = read_image(pair.left).rgb
    right = torch.from_numpy(to_float(read_image(pair.right).rgb)).permute(2, 0, 1).float()
    disp = pair.read_disparity()
    if disp is None:
        raise InputError(f"{pair.name} has no ground-truth disparity; rendered views need it")
    known = np.isfinite(disp) & (disp > 0)
    disp = fill_from_farther(np.where(known, disp, 0), known, farther="smaller").astype(np.float32)
    pose = torch.as_tensor(Move(right=1.0).pose(), dtype=torch.float64).reshape(1, 4, 4)
    out = []
    for kind in depths:
        if kind == "gt":
            d = disp
        elif kind == "builtin":
            inv = 1.0 / np.maximum(BuiltinDepth().estimate(left_u8).depth, 1e-6)
            d = (float(np.median(disp[known] / inv[known])) * inv).astype(np.float32)
        else:
            raise InputError(f"unknown view depth {kind!r}; use 'gt' or 'builtin'")
        scene = prepare_scene(left_u8, depth=d, depth_unit="disparity", depth_baseline=1.0, focal=1000.0)
        with torch.inference_mode():
            r = render_view(scene.image, scene.depth, scene.K, invert_pose(pose).float())
            base, base_depth = fill_background(r.image, r.depth, r.holes, direction=(1.0, 0.0))
            x = fill_inputs(base, base_depth, r.holes, (1.0, 0.0))
        out.append((x[0].half(), right.half(), r.holes[0].clone()))
    return out


def fill_batch(
    data: StereoCrops, step: int, seed: int, batch_size: int, views: RenderedViews | None = None
) -> dict[str, torch.Tensor]:
    """A batch of the fill task: ``target (B,3,H,W)``, ``holes (B,1,H,W)``, network input ``x (B,7,H,W)``.

    With ``views``, the first ``round(config.views × batch_size)`` crops are cut from rendered right views
    (:class:`RenderedViews`), the rest are renderer-made disocclusions of single photos.
    """
    rng = np.random.default_rng([seed, step, 1])
    n_views = round(data.config.views * batch_size) if views is not None else 0
    from_views = [views.crop(rng, data.config.crop) for _ in range(n_views)]
    batch_size -= n_views
    if batch_size == 0:
        return {k: torch.stack([v[i] for v in from_views]) for i, k in enumerate(("x", "target", "holes"))}
    images, disps, moves = [], [], []
    for _ in range(batch_size):
        left, _, disp = data.crop(rng)
        if rng.random() < 0.5:
            left, disp = left[:, ::-1], disp[:, ::-1]
        images.append(_chw(left))
        disps.append(_chw(disp))
        kind = rng.random()
        angle = 0.0 if kind < 0.7 else (np.pi / 2 if kind < 0.85 else float(rng.uniform(0, 2 * np.pi)))
        sign = 1.0 if rng.random() < 0.5 else -1.0
        m = float(rng.uniform(*data.config.move))
        moves.append([sign * m * np.cos(angle), sign * m * np.sin(angle)])
    target = torch.stack(images).float()
    disparity = torch.stack(disps).float()
    move = torch.tensor(moves, dtype=torch.float32)
    holes = occlusion_holes(disparity, move)
    for _ in range(6):  # a crop must keep most of its pixels: shrink the move of crops that lose over half
        over = holes.float().mean((1, 2, 3)) > 0.5
        if not bool(over.any()):
            break
        move[over] *= 0.5
        holes[over] = occlusion_holes(disparity[over], move[over])
    direction = -move / move.norm(dim=1, keepdim=True)
    direction[torch.from_numpy(rng.random(batch_size) < 0.2)] = 0.0  # sometimes no hint
    depth = 1.0 / disparity
    cut = target.masked_fill(holes, 0.0)
    base, base_depth = fill_background(cut, depth, holes, direction=direction)
    batch = {"x": fill_inputs(base, base_depth, holes, direction), "target": target, "holes": holes}
    for i, k in enumerate(("x", "target", "holes")):
        batch[k] = torch.cat([torch.stack([v[i] for v in from_views]), batch[k]]) if from_views else batch[k]
    return batch


def shift_batch(data: StereoCrops, step: int, seed: int, batch_size: int) -> dict[str, torch.Tensor]:
    """A batch of the shift task: ``left (B,3,H,W)`` (clean), ``x`` (corrupted left), ``target`` (right view),
    ``flipped (B,)`` bool (the pair was mirrored and its eyes swapped)."""
    rng = np.random.default_rng([seed, step, 2])
    lefts, rights, flips = [], [], []
    for _ in range(batch_size):
        left, right, _ = data.crop(rng)
        flips.append(rng.random() < 0.5)
        if flips[-1]:  # mirror the pair: the mirrored right view is the new left one, and vice versa
            left, right = right[:, ::-1], left[:, ::-1]
        lefts.append(_chw(left))
        rights.append(_chw(right))
    left = torch.stack(lefts).float()
    target = torch.stack(rights).float()
    gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    x = left + data.config.noise * torch.randn(left.shape, generator=gen)
    keep = torch.rand(left.shape[0], 1, *left.shape[2:], generator=gen) >= data.config.drop
    x = (x * keep).clamp(0, 1)
    return {"x": x, "left": left, "target": target, "flipped": torch.tensor(flips)}


# ------------------------------------------------------------------------------------------------------ models


class PatchDiscriminator(nn.Module):
    """A small PatchGAN: ``(B, C, H, W) -> (B, 1, H/4 - 2, W/4 - 2)`` real/fake scores of ~34-pixel patches."""

    def __init__(self, in_channels: int, width: int = 32) -> None:
        super().__init__()
        act = nn.LeakyReLU(0.2, inplace=True)
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, width, 4, 2, 1),
            act,
            nn.Conv2d(width, 2 * width, 4, 2, 1),
            act,
            nn.Conv2d(2 * width, 2 * width, 4, 1, 1),
            act,
            nn.Conv2d(2 * width, 1, 4, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def build_generator(config: Image2ImageConfig) -> UNet:
    """The generator of a config: the filler (7 input channels) or the view-shift U-Net (3)."""
    channels = FILL_CHANNELS if config.task == "fill" else 3
    return UNet(
        channels,
        3,
        config.width,
        config.levels,
        residual=True,
        full_head=config.full_head,
        in_stride=config.in_stride,
        mix=config.mix,
    )


def patch_weights(holes: torch.Tensor, size: tuple[int, int], margin: int) -> torch.Tensor:
    """Which discriminator patches to score: those whose cell lies within ``margin`` pixels of a hole pixel.

    The hole mask is dilated by ``margin`` (a square of side ``2 margin + 1``) and max-pooled to the
    discriminator's output grid (:func:`torch.nn.functional.adaptive_max_pool2d`): a score counts when its cell of
    the image touches the dilated holes.

    Args:
        holes: ``(B, 1, H, W)`` bool.
        size: ``(h, w)`` of the discriminator's output.
        margin: pixels.

    Returns:
        ``(B, 1, h, w)`` float, 1 for scored patches and 0 elsewhere.
    """
    near = holes.float()
    if margin > 0:
        near = F.max_pool2d(near, 2 * margin + 1, stride=1, padding=margin)
    return F.adaptive_max_pool2d(near, size)


def lsgan_loss(scores: torch.Tensor, target: float, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Least-squares GAN loss ``Σ w (D - target)² / Σ w`` (``w`` = 1 everywhere when ``weights`` is None).

    Args:
        scores: ``(B, 1, h, w)`` discriminator outputs.
        target: 1 for "real", 0 for "fake".
        weights: ``(B, 1, h, w)`` per-patch weights (:func:`patch_weights`), or None.
    """
    err = (scores - target) ** 2
    if weights is None:
        return err.mean()
    return (err * weights).sum() / weights.sum().clamp_min(1)


def generator_losses(
    config: Image2ImageConfig, gen: UNet, disc: PatchDiscriminator | None, batch: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """Losses of the generator, the (fake, real) discriminator inputs and the patch weights of the adversarial loss.

    Fill: ``l1 = sum(|pred - target| over hole pixels) / (3 × hole pixels)`` (``l2``: squared differences, when
    ``config.loss == "l2"``); the output is composited (original pixels outside the holes). Shift:
    ``l1 = mean |pred - target|``. Adversarial (LSGAN, :func:`lsgan_loss`): ``mean((D(fake) - 1)²)``, for the fill
    task over the patches near holes only (:func:`patch_weights` with ``config.adv_margin``); the weights are
    None for the shift task (every patch).
    """
    pred = gen(batch["x"])
    target = batch["target"]
    if config.task == "fill":
        holes = batch["holes"]
        out = torch.where(holes, pred, target)
        diff = (out - target).abs() if config.loss == "l1" else (out - target) ** 2
        l1 = diff.sum() / (3 * holes.sum()).clamp_min(1)
        mask = holes.float()
        fake, real = torch.cat([out, mask], 1), torch.cat([target, mask], 1)
    else:
        l1 = (pred - target).abs().mean()
        fake, real = torch.cat([batch["left"], pred], 1), torch.cat([batch["left"], target], 1)
    losses = {config.loss if config.task == "fill" else "l1": l1}
    loss = l1
    weights = None
    if disc is not None:
        scores = disc(fake)
        if config.task == "fill":
            weights = patch_weights(batch["holes"], scores.shape[-2:], config.adv_margin)
        adv = lsgan_loss(scores, 1.0, weights)
        losses["adv"] = adv
        loss = loss + config.adversarial * adv
    losses["loss"] = loss
    return losses, fake, real, weights


def discriminator_loss(
    disc: PatchDiscriminator, fake: torch.Tensor, real: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """The discriminator's LSGAN loss ``L(D(real), 1) + L(D(fake), 0)`` over the same patches as the generator's."""
    return lsgan_loss(disc(real), 1.0, weights) + lsgan_loss(disc(fake.detach()), 0.0, weights)


def validation_scores(gen: UNet, views: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]) -> list[float]:
    """Hole PSNR (dB) of a filler network on whole rendered views (:class:`RenderedViews`), one per view.

    ``PSNR = 10 log10(1 / MSE)`` with the mean over the hole pixels and the 3 colours; the network runs once on
    the whole view (as ``fill_learned`` does when the holes are spread over the image) and its output is clamped
    to [0, 1]. Scored before the realism step and without quantisation, unlike the held-out comparison.
    """
    out = []
    with torch.inference_mode():
        for x, target, holes in views:
            pred = gen(x[None].float())[0].clamp(0, 1)
            err = ((pred - target.float()) ** 2)[holes.expand(3, -1, -1)]
            out.append(10 * math.log10(1 / max(float(err.mean()), 1e-10)) if err.numel() else float("nan"))
    return out


# -------------------------------------------------------------------------------------------------------- loop


def train_image2image(
    config: Image2ImageConfig,
    out: str | Path,
    *,
    resume: bool = True,
    progress: bool = True,
    max_seconds: float | None = None,
) -> dict:
    """Train (or resume) an image-to-image run in folder ``out``; returns the step and the last logged losses.

    Raises:
        InputError: a checkpoint written with a different config (except ``steps``), or missing data.
    """
    from viewshift.io import save_torch
    from viewshift.learn.trainer import StepLog, resume_state, write_text_atomic

    torch.set_num_threads(config.threads)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    torch.manual_seed(config.seed)
    gen = build_generator(config)
    in_d = 4 if config.task == "fill" else 6
    disc = PatchDiscriminator(in_d, config.disc_width) if config.adversarial > 0 else None
    opt = torch.optim.Adam(gen.parameters(), lr=config.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=config.lr, betas=(0.5, 0.999)) if disc is not None else None
    step = 0
    if resume and ckpt_path.exists():
        state = resume_state(ckpt_path, config)
        gen.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if disc is not None:
            disc.load_state_dict(state["disc"])
            opt_d.load_state_dict(state["disc_optimizer"])
        step = int(state["step"])
    write_text_atomic(config.to_json(), out / "config.json")
    data = StereoCrops(config)
    views = RenderedViews(data.pairs) if config.task == "fill" and config.views > 0 else None
    validating = config.task == "fill" and config.validate_every > 0 and bool(data.validation_pairs)
    val_views = RenderedViews(data.validation_pairs) if validating else None
    best_path = out / "best.pt"
    best = -math.inf
    if validating and best_path.exists():
        best = float(torch.load(best_path, map_location="cpu", weights_only=True)["score"])

    def make_batch(step: int) -> dict[str, torch.Tensor]:
        if config.task == "fill":
            return fill_batch(data, step, config.seed, config.batch_size, views)
        return shift_batch(data, step, config.seed, config.batch_size)

    def checkpoint() -> None:
        state = {"step": step, "model": gen.state_dict(), "optimizer": opt.state_dict(), "config": config.to_json()}
        state["settings"] = gen.settings
        if disc is not None:
            state["disc"], state["disc_optimizer"] = disc.state_dict(), opt_d.state_dict()
        save_torch(state, ckpt_path)

    def validate(report: StepLog) -> None:
        """Score the generator on the validation views; keep it as ``best.pt`` when it is the best so far."""
        nonlocal best
        gen.eval()
        scores = validation_scores(gen, val_views.views)
        gen.train()
        kinds = val_views.depths
        per_kind = {k: float(np.nanmean(scores[i :: len(kinds)])) for i, k in enumerate(kinds)}
        score = float(np.nanmean(scores))
        report.write({"step": step, "val": round(score, 4), **{f"val_{k}": round(v, 4) for k, v in per_kind.items()}})
        if score > best:
            best = score
            save_torch({"step": step, "score": score, "settings": gen.settings, "model": gen.state_dict()}, best_path)

    logged: dict = {}
    with StepLog(out, desc=config.preset, total=config.steps, initial=step, progress=progress) as report:
        if validating and step == 0:
            validate(report)  # the untrained network: the background fill, exactly
        while step < config.steps:
            if config.lr_decay == "cosine":
                for group in [*opt.param_groups, *(opt_d.param_groups if opt_d is not None else [])]:
                    group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * step / config.steps))
            batch = make_batch(step)
            losses, fake, real, weights = generator_losses(config, gen, disc, batch)
            opt.zero_grad(set_to_none=True)
            losses["loss"].backward()
            opt.step()
            if disc is not None:
                d_loss = discriminator_loss(disc, fake, real, weights)
                opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                opt_d.step()
                losses["disc"] = d_loss
            step += 1
            if step % config.log_every == 0 or step == config.steps:
                lr = float(f"{opt.param_groups[0]['lr']:.4g}")  # the rate this step used
                logged = report.log(step, losses, lr=lr)
            report.show(losses)
            if validating and (step % config.validate_every == 0 or step == config.steps):
                validate(report)
            timed_out = max_seconds is not None and time.monotonic() - report.start > max_seconds
            if step % config.checkpoint_every == 0 or timed_out:
                checkpoint()
            if timed_out:
                break
        checkpoint()
    return {"step": step, **logged}


def load_generator(path: str | Path) -> tuple[UNet, Image2ImageConfig, int]:
    """The generator of a run folder or checkpoint file, in eval mode, with its config and step.

    Raises:
        InputError: no checkpoint there.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "checkpoint.pt"
    if not p.exists():
        raise InputError(f"no image-to-image checkpoint at {p}; train one with viewshift train --preset ...")
    state = torch.load(p, map_location="cpu", weights_only=True)
    config = Image2ImageConfig.from_dict(json.loads(state["config"]))
    gen = build_generator(config)
    gen.load_state_dict(state["model"])
    gen.eval()
    return gen, config, int(state["step"])


def export_filler(
    run: str | Path, path: str | Path, *, command: str = "", notes: dict | None = None, best: bool = False
) -> Path:
    """Write a fill-learned run's generator as a filler weights file, with a JSON record beside it.

    The JSON holds the training command, the run's config (hence the data split: ``holdout`` and
    ``validation``), the step, with ``best`` the validation score that chose it, and the entries of ``notes``
    (e.g. the data and the machine).

    Args:
        run: a fill-learned run folder.
        path: the weights file to write (``.json`` beside it).
        best: export the step with the best validation score (``best.pt``) instead of the last checkpoint.

    Raises:
        InputError: the run is not of the fill task, or ``best`` without a ``best.pt``.
    """
    from viewshift.io import save_torch
    from viewshift.learn.trainer import write_text_atomic

    gen, config, step = load_generator(run)
    if config.task != "fill":
        raise InputError(f"{run} is a {config.task!r} run, not a hole filler (preset fill-learned)")
    chosen = {}
    if best:
        best_path = Path(run) / "best.pt"
        if not best_path.exists():
            raise InputError(f"no {best_path}: train with validate_every > 0 (the fill-learned preset does)")
        state = torch.load(best_path, map_location="cpu", weights_only=True)
        gen.load_state_dict(state["model"])
        step = int(state["step"])
        chosen = {"chosen_by": "best validation hole PSNR", "validation_psnr": round(float(state["score"]), 4)}
    path = Path(path)
    # float16 on disk (half the size; the filler loads it into float32): the shipped numbers are measured with it.
    state = {"settings": gen.settings, "state_dict": {k: v.half().contiguous() for k, v in gen.state_dict().items()}}
    save_torch(state, path)
    record = {"command": command, "step": step, **chosen, "config": dataclasses.asdict(config), **(notes or {})}
    write_text_atomic(json.dumps(record, indent=2) + "\n", path.with_suffix(".json"))
    return path


def shift_view(gen: UNet, left: np.ndarray) -> np.ndarray:
    """Predict the right view of an ``H×W×3`` float image in [0, 1] with a view-shift generator."""
    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(left)).permute(2, 0, 1)[None].float()
        return gen(x)[0].clamp(0, 1).permute(1, 2, 0).numpy()


def config_from_args(args, base: dict) -> Image2ImageConfig:
    """The config of ``viewshift train --preset fill-learned|shift-autoencoder|shift-cgan``: the preset, then the
    fields of ``base`` (a ``--config`` JSON), then the command's options.

    Raises:
        InputError: options these presets cannot take (non-square crops, several ``--stereo`` roots).
    """
    from viewshift.cli_args import CPU_COUNT

    flags = {
        "steps": args.steps,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "threads": args.threads or CPU_COUNT,
        "crop": args.height if args.height == args.width else None,
    }
    if args.height is not None and args.height != args.width:
        raise InputError("image-to-image presets train on square crops; give --height and --width equal")
    if args.stereo:
        if len(args.stereo) > 1:
            raise InputError("image-to-image presets take one --stereo root")
        flags["stereo"] = args.stereo[0]
    if args.stereo_holdout:
        flags["holdout"] = list(HELD_OUT) + list(args.stereo_holdout)
    return make_config(args.preset, **{**base, **{k: v for k, v in flags.items() if v is not None}})
