"""Per-frame depth → a stereo disparity that does not flicker.

A depth network's output for a video has an arbitrary scale and offset that wander from frame to frame, and a
near object entering the picture changes every other pixel's normalised value if each frame is normalised by its
own minimum and maximum. Here each frame's inverse depth ``v = 1 / depth`` (larger = nearer) is normalised by
robust statistics smoothed over time:

1. ``lo_t, hi_t`` = the ``low_pct`` and ``high_pct`` percentiles of ``v`` in frame ``t`` (on a 1-in-16 grid of
   pixels), so a few wild pixels do not move them;
2. both are smoothed by an exponential moving average with time constant ``time_constant`` seconds,
   ``L_t = L_{t-1} + α (lo_t − L_{t-1})``, ``α = 1 − exp(−1 / (fps · time_constant))`` (likewise ``H_t``); a scene
   cut (the frame's small grey thumbnail changes by more than ``cut_threshold``) restarts the average;
3. ``n = (v − L_t) / (H_t − L_t)``: 0 at the far end of the range, 1 at the near end (not clipped to [0, 1],
   only to [−0.5, 1.5]: the map stays affine in inverse depth, which keeps the stereo geometric);
4. optionally (``pixel_smoothing``), ``n`` is blended with the previous frame's where the picture did not change:
   weight ``pixel_smoothing · exp(−(ΔI / 6)²)`` per pixel, ``ΔI`` the change of a blurred grey quarter-size image in
   grey levels, so static parts keep their depth and moving parts follow the new frame.

The output disparity in pixels is ``δ = divergence / 100 · W · (n − convergence)``: the far end of the range lies
``convergence · divergence`` % of the width behind the screen plane, the near end ``(1 − convergence) ·
divergence`` % in front of it (see :mod:`viewshift.video.scanline` for how δ moves each eye).

``mode="per-frame"`` normalises each frame by its own minimum and maximum without smoothing: the baseline that
``bench/video_flicker.py`` measures against.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from viewshift.errors import InputError

__all__ = ["StabiliseSettings", "Stabiliser", "disparity_pixels"]

MODES = ("smooth", "per-frame")


@dataclass(frozen=True)
class StabiliseSettings:
    """How per-frame depth becomes a stable normalised disparity (see the module docstring).

    Attributes:
        mode: ``smooth`` (robust percentiles smoothed over time) or ``per-frame`` (min/max of each frame).
        low_pct, high_pct: percentiles of inverse depth taken as the far and near ends of the range.
        time_constant: seconds of the moving average of the percentiles.
        cut_threshold: mean absolute change of the grey thumbnail (0..1) that counts as a scene cut.
        pixel_smoothing: 0..0.95, weight of the previous frame's value on unchanged pixels (0: off).
    """

    mode: str = "smooth"
    low_pct: float = 2.0
    high_pct: float = 98.0
    time_constant: float = 1.0
    cut_threshold: float = 0.12
    pixel_smoothing: float = 0.6

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"unknown stabilisation mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if not 0 <= self.low_pct < self.high_pct <= 100:
            raise InputError(f"percentiles must satisfy 0 <= low < high <= 100, got {self.low_pct}, {self.high_pct}")
        if not (math.isfinite(self.time_constant) and self.time_constant >= 0):
            raise InputError(f"time constant must be >= 0 seconds, got {self.time_constant}")
        if not 0 <= self.pixel_smoothing <= 0.95:
            raise InputError(f"pixel smoothing must be between 0 and 0.95, got {self.pixel_smoothing}")

    def to_dict(self) -> dict:
        return asdict(self)


class Stabiliser:
    """Turns successive frames' depth into normalised disparity ``n`` (0 far … 1 near), one frame at a time.

    Args:
        settings: see :class:`StabiliseSettings`.
        fps: frame rate (for the time constant).

    Its :meth:`state` is a small JSON-able dict; :meth:`restore` continues from it (resuming a conversion).
    """

    def __init__(self, settings: StabiliseSettings, fps: float):
        self.settings = settings
        tc = settings.time_constant
        self.alpha = 1.0 if tc == 0 else 1.0 - math.exp(-1.0 / (fps * tc))
        self.lo: float | None = None
        self.hi: float | None = None
        self._thumb: np.ndarray | None = None
        self._grey: np.ndarray | None = None
        self._prev: np.ndarray | None = None

    def state(self) -> dict:
        """The smoothed percentiles (enough to continue a clip after a chunk boundary)."""
        return {"lo": self.lo, "hi": self.hi}

    def restore(self, state: dict) -> None:
        self.lo, self.hi = state.get("lo"), state.get("hi")

    def _is_cut(self, grey: np.ndarray) -> bool:
        thumb = cv2.resize(grey, (32, 18), interpolation=cv2.INTER_AREA)
        cut = self._thumb is not None and float(np.abs(thumb - self._thumb).mean()) > self.settings.cut_threshold
        self._thumb = thumb
        return cut

    def range_of(self, inverse: np.ndarray) -> tuple[float, float]:
        """This frame's own ``(lo, hi)`` of inverse depth (percentiles, or min/max in ``per-frame`` mode)."""
        s = self.settings
        if s.mode == "per-frame":
            return float(inverse.min()), float(inverse.max())
        grid = inverse[::4, ::4]
        lo, hi = np.percentile(grid, [s.low_pct, s.high_pct])
        return float(lo), float(hi)

    def __call__(self, frame: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Normalised disparity of one frame.

        Args:
            frame: ``H×W×3`` the frame (``uint8`` or ``uint16``; for scene cuts and per-pixel smoothing).
            depth: ``H×W`` positive depth (any unit, larger = farther).

        Returns:
            ``H×W`` float32 ``n``, 0 at the far end of the smoothed range, 1 at the near end.
        """
        inverse = 1.0 / np.maximum(depth.astype(np.float32), 1e-6)
        lo, hi = self.range_of(inverse)
        h, w = depth.shape
        # One small grey copy of the frame (a quarter of the depth map's size) serves the cut test and smoothing.
        small = cv2.resize(frame, (max(8, w // 4), max(8, h // 4)), interpolation=cv2.INTER_AREA)
        grey = _grey(small)
        cut = self._is_cut(grey)
        if self.settings.mode == "per-frame" or self.lo is None or cut:
            self.lo, self.hi = lo, hi
            self._prev = None
        else:
            self.lo += self.alpha * (lo - self.lo)
            self.hi += self.alpha * (hi - self.hi)
        span = max(self.hi - self.lo, 1e-6 * max(abs(self.hi), 1e-12))
        n = np.clip((inverse - self.lo) / span, -0.5, 1.5).astype(np.float32)
        if self.settings.mode == "smooth" and self.settings.pixel_smoothing > 0:
            n = self._smooth_pixels(grey, n)
        return n

    def _smooth_pixels(self, grey: np.ndarray, n: np.ndarray) -> np.ndarray:
        h, w = n.shape
        grey = cv2.GaussianBlur(grey, (5, 5), 0) * 255.0
        prev, prev_grey = self._prev, self._grey
        self._grey = grey
        if prev is not None and prev_grey is not None and prev.shape == n.shape:
            change = grey - prev_grey
            weight = self.settings.pixel_smoothing * np.exp(-((change / 6.0) ** 2))
            weight = cv2.resize(weight.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
            n = n + weight * (prev - n)
        self._prev = n
        return n


def _grey(frame: np.ndarray) -> np.ndarray:
    """``H×W`` float32 grey in [0, 1] of an ``H×W×3`` ``uint8``/``uint16`` frame."""
    top = 65535.0 if frame.dtype == np.uint16 else 255.0
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32) / top


def disparity_pixels(n: np.ndarray, width: int, divergence: float, convergence: float) -> np.ndarray:
    """Disparity δ in pixels of a normalised map: ``divergence / 100 · width · (n − convergence)``.

    Args:
        n: ``H×W`` normalised disparity (0 far … 1 near).
        width: the frame width in pixels.
        divergence: the whole range's disparity in percent of the width.
        convergence: the level of ``n`` that lands on the screen plane (0: the far end, 1: the near end).

    >>> disparity_pixels(np.array([[0.0, 0.5, 1.0]], np.float32), 1000, 2.0, 0.5).tolist()
    [[-10.0, 0.0, 10.0]]
    """
    return ((divergence / 100.0 * width) * (n - np.float32(convergence))).astype(np.float32)
