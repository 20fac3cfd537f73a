"""Camera paths of short parallax clips (swing, circle, zoom-in, dolly-zoom) and their rendering."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal

import numpy as np
import torch

from viewshift.errors import InputError
from viewshift.pipeline.config import Move, ViewOptions
from viewshift.pipeline.inputs import as_uint8
from viewshift.pipeline.scene import Scene

__all__ = ["DEFAULT_AMPLITUDE", "PATHS", "PathKind", "camera_path", "render_path"]


PATHS: tuple[str, ...] = ("swing", "circle", "dolly-zoom", "zoom-in")
PathKind = Literal["swing", "circle", "dolly-zoom", "zoom-in"]
DEFAULT_AMPLITUDE = {"swing": 0.02, "circle": 0.02, "zoom-in": 0.15, "dolly-zoom": 0.3}
"""Default path amplitude as a fraction of the scene's median depth."""


def camera_path(
    scene: Scene, kind: str, frames: int, amplitude: float | None = None
) -> list[tuple[Move, torch.Tensor]]:
    """Camera moves and intrinsics of a short parallax clip.

    ``swing``: sideways ``right = A sin(2πk/N)``; ``circle``: ``right = A cos θ - A``, ``up = A sin θ`` (a circle
    through the original viewpoint); ``zoom-in``: forward from 0 to ``A`` with ease-in-out; ``dolly-zoom``:
    forward from 0 to ``A`` while the focal length shrinks as ``f (Z_m - d) / Z_m`` so the subject at the median
    depth ``Z_m`` keeps its size and the background appears to stretch away.

    Args:
        scene: the scene.
        kind: one of :data:`PATHS`.
        frames: number of frames N (2..2000).
        amplitude: fraction of the median depth (default :data:`DEFAULT_AMPLITUDE`).

    Returns:
        ``N`` pairs ``(move, K_new (1, 3, 3))``.
    """
    if kind not in PATHS:
        raise InputError(f"unknown path {kind!r}; choose one of {', '.join(PATHS)}")
    if not 2 <= frames <= 2000:
        raise InputError(f"frames must be between 2 and 2000, got {frames}")
    frac = DEFAULT_AMPLITUDE[kind] if amplitude is None else amplitude
    if not (math.isfinite(frac) and 0 < frac <= 1):
        raise InputError(f"amplitude must be a fraction of the scene depth in (0, 1], got {frac}")
    median = float(scene.depth.median())
    A = frac * median
    if kind in ("zoom-in", "dolly-zoom"):
        A = min(A, 0.8 * float(scene.depth.min()))  # never reach the nearest surface
    out = []
    for k in range(frames):
        theta = 2 * math.pi * k / frames
        K_new = scene.K.clone()
        if kind == "swing":
            move = Move(right=A * math.sin(theta))
        elif kind == "circle":
            move = Move(right=A * (math.cos(theta) - 1), up=A * math.sin(theta))
        else:
            ease = 0.5 - 0.5 * math.cos(math.pi * k / (frames - 1))
            move = Move(forward=A * ease)
            if kind == "dolly-zoom":
                K_new[:, :2, :2] *= (median - A * ease) / median
        out.append((move, K_new))
    return out


def render_path(
    scene: Scene,
    kind: str,
    *,
    frames: int = 48,
    amplitude: float | None = None,
    options: ViewOptions = ViewOptions(),
    progress: bool = False,
) -> list[np.ndarray]:
    """Render every frame of :func:`camera_path`; returns ``H×W×3`` frames (8-bit for video)."""
    from tqdm import tqdm

    path = camera_path(scene, kind, frames, amplitude)
    out = []
    for move, K_new in tqdm(path, desc=f"{kind} frames", unit="frame", disable=not progress):
        view = scene.render(move.pose(), options=replace(options, border="fill"), K_new=K_new)
        out.append(as_uint8(view.image[..., :3]))
    return out
