"""Depth read from a file: metric depth, relative depth or stereo disparity."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np

from viewshift import io as vio
from viewshift.depth.base import DepthMap
from viewshift.depth.checks import check_rgb, validate_depth
from viewshift.depth.units import disparity_to_depth, fill_from_farther
from viewshift.errors import DepthError

__all__ = ["FileDepth"]

FileUnit = Literal["metric", "relative", "disparity"]


class FileDepth:
    """A :class:`~viewshift.depth.base.DepthSource` that reads depth from a ``.npy``, ``.png`` or ``.pfm`` file.

    The file is read by :func:`viewshift.io.read_depth` at each :meth:`estimate` call and must have the image's
    size (no silent resizing).

    Args:
        path: the depth file.
        unit: ``"metric"`` (depth in a physical unit), ``"relative"`` (depth up to scale), or ``"disparity"``
            (left-view disparity in pixels, converted with ``Z = focal · baseline / d``; gives metric depth).
        focal: focal length in pixels; required for ``"disparity"``.
        baseline: stereo baseline; required for ``"disparity"``; the depth comes out in its unit.
        scale: multiplies the file's raw values first (e.g. ``0.001`` for Kinect PNGs in millimetres to get
            metres, ``1/3`` for MiddEval2 disparity PNGs).
        fill_invalid: fill unknown pixels (NaN/inf, zero or negative: holes in sensor depth, occlusions in
            disparity) from their farther neighbours instead of refusing them.

    Raises:
        DepthError: unknown unit, disparity without focal and baseline, or ``scale`` not positive.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        unit: FileUnit = "metric",
        focal: float | None = None,
        baseline: float | None = None,
        scale: float = 1.0,
        *,
        fill_invalid: bool = False,
    ) -> None:
        if unit not in ("metric", "relative", "disparity"):
            raise DepthError(f"unit must be 'metric', 'relative' or 'disparity', got {unit!r}")
        if unit == "disparity" and (focal is None or baseline is None):
            raise DepthError("a disparity file needs focal (px) and baseline to become depth; give both")
        if not (np.isfinite(scale) and scale > 0):
            raise DepthError(f"scale must be a positive number, got {scale}")
        self.path = Path(path)
        self.unit: FileUnit = unit
        self.focal = focal
        self.baseline = baseline
        self.scale = float(scale)
        self.fill_invalid = fill_invalid

    def __repr__(self) -> str:
        return f"FileDepth({str(self.path)!r}, unit={self.unit!r}, scale={self.scale})"

    def estimate(self, rgb: np.ndarray) -> DepthMap:
        """Read the depth for ``rgb``.

        Args:
            rgb: ``H×W×3 uint8`` image the depth belongs to (only its size is used).

        Returns:
            ``H×W`` depth; ``unit="metric"`` for metric and disparity files, ``"relative"`` for relative ones.

        Raises:
            InputError: the file is missing or empty.
            DepthError: unreadable file, another size than the image, or unknown pixels without
                ``fill_invalid``.
        """
        h, w = check_rgb(rgb).shape[:2]
        raw = vio.read_depth(self.path)
        if raw.shape != (h, w):
            raise DepthError(
                f"depth file {self.path.name} is {raw.shape[1]}×{raw.shape[0]} but the image is {w}×{h}; "
                "give a depth map of the image's size"
            )
        values = raw.astype(np.float64) * self.scale
        if self.unit == "disparity":
            depth = disparity_to_depth(values, float(self.focal), float(self.baseline), fill_invalid=self.fill_invalid)
            return DepthMap(validate_depth(depth, (h, w), name=f"depth from {self.path.name}"), "metric")
        valid = np.isfinite(values) & (values > 0)
        if self.fill_invalid and not valid.all():
            values = fill_from_farther(values, valid, farther="larger")
        depth = validate_depth(values.astype(np.float32), (h, w), name=f"depth file {self.path.name}")
        return DepthMap(depth, "metric" if self.unit == "metric" else "relative")
