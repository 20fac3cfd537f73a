"""Stereo pairs from one scene, and the layouts that put two eyes into one image."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal

import cv2
import numpy as np

from viewshift.errors import InputError
from viewshift.pipeline.config import Move, ViewOptions, ViewResult
from viewshift.pipeline.crop import crop_box, crop_result
from viewshift.pipeline.scene import Scene, move_for_divergence

__all__ = ["DEFAULT_DIVERGENCE", "STEREO_LAYOUTS", "StereoLayout", "compose_stereo", "stereo_pair"]


StereoLayout = Literal["sbs", "half-sbs", "tb", "anaglyph", "right"]
STEREO_LAYOUTS: tuple[str, ...] = ("sbs", "half-sbs", "tb", "anaglyph", "right")
DEFAULT_DIVERGENCE = 2.5
"""Stereo divergence (percent of the image width) used when neither a baseline nor a divergence is given."""


def stereo_pair(
    scene: Scene,
    *,
    baseline: float | None = None,
    divergence: float | None = None,
    convergence: float | None = None,
    balance: float = 0.0,
    options: ViewOptions = ViewOptions(),
) -> tuple[ViewResult, ViewResult]:
    """Left and right eyes of a stereo pair from one scene.

    The eyes sit ``baseline`` apart along the x axis: the left eye moves by ``-baseline (1 - balance) / 2`` and
    the right eye by ``+baseline (1 + balance) / 2``. ``balance = 0`` splits the distortion evenly;
    ``balance = 1`` keeps the left eye the original photo (all synthesis in the right eye), ``-1`` the right.
    ``convergence`` is the depth that appears on the screen plane (zero parallax), made by shifting each eye's
    principal point (no toe-in, so no keystone); ``None`` converges at infinity (parallel cameras).

    Returns:
        ``(left, right)`` :class:`ViewResult` s, both cropped to the same box when ``options.border == "crop"``.
    """
    if baseline is not None and divergence is not None:
        raise InputError("give either a baseline or a divergence, not both")
    if not (-1.0 <= balance <= 1.0):
        raise InputError(f"balance must be between -1 and 1, got {balance}")
    if baseline is None:
        full = move_for_divergence(scene, Move(right=1.0), DEFAULT_DIVERGENCE if divergence is None else divergence)
        baseline = full.right
    if not (math.isfinite(baseline) and baseline > 0):
        raise InputError(f"baseline must be a positive number, got {baseline}")
    if convergence is not None and not (math.isfinite(convergence) and convergence > 0):
        raise InputError(f"convergence must be a positive depth, got {convergence}")
    per_eye = replace(options, border="fill") if options.border == "crop" else options
    views = []
    for shift in (-baseline * (1 - balance) / 2, baseline * (1 + balance) / 2):
        K_new = scene.K.clone()
        if convergence is not None:
            K_new[:, 0, 2] += scene.focal * shift / convergence
        views.append(scene.render(Move(right=shift).pose(), options=per_eye, K_new=K_new))
    left, right = views
    if options.border == "crop":
        both = left.border | right.border
        if both.any():
            x0, y0, x1, y1 = crop_box(both)
            left, right = (crop_result(v, (x0, y0, x1, y1)) for v in (left, right))
    return left, right


def compose_stereo(left: np.ndarray, right: np.ndarray, layout: str) -> np.ndarray:
    """Arrange two eyes ``H×W×C`` into one image.

    Layouts: ``sbs`` (left | right, ``H×2W``), ``half-sbs`` (each eye squeezed to half width, ``H×W``), ``tb``
    (left over right, ``2H×W``), ``anaglyph`` (red-cyan: red from the left eye, green and blue from the right,
    ``H×W×3``), ``right`` (the right eye alone).

    >>> l = np.zeros((2, 4, 3), np.uint8); r = np.full((2, 4, 3), 9, np.uint8)
    >>> [compose_stereo(l, r, k).shape for k in ("sbs", "half-sbs", "tb", "anaglyph", "right")]
    [(2, 8, 3), (2, 4, 3), (4, 4, 3), (2, 4, 3), (2, 4, 3)]
    """
    if left.shape != right.shape:
        raise InputError(f"the eyes differ in size: {left.shape} and {right.shape}")
    if layout == "sbs":
        return np.concatenate([left, right], axis=1)
    if layout == "tb":
        return np.concatenate([left, right], axis=0)
    if layout == "half-sbs":
        h, w = left.shape[:2]
        half_l = cv2.resize(left, (w // 2, h), interpolation=cv2.INTER_AREA)
        half_r = cv2.resize(right, (w - w // 2, h), interpolation=cv2.INTER_AREA)
        return np.concatenate([half_l.reshape(h, w // 2, -1), half_r.reshape(h, w - w // 2, -1)], axis=1)
    if layout == "anaglyph":
        out = right[..., :3].copy()
        out[..., 0] = left[..., 0]
        return out
    if layout == "right":
        return right.copy()
    raise InputError(f"unknown stereo layout {layout!r}; choose one of {', '.join(STEREO_LAYOUTS)}")
