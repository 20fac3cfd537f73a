"""Metric depth from a rectified stereo pair with OpenCV's semi-global matching (SGBM).

The image given to :meth:`StereoDepth.estimate` is the **left** view; the right view is given at construction.
Disparity follows Middlebury's convention: ``x_right = x_left - d`` with ``d > 0``, and depth is
``Z = focal · baseline / (d + doffs)``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from viewshift import io as vio
from viewshift.depth.base import DepthMap
from viewshift.depth.checks import check_rgb
from viewshift.depth.units import disparity_to_depth, fill_from_farther
from viewshift.errors import DepthError

__all__ = ["StereoDepth", "check_rectified", "left_right_consistent"]

_MODES = {
    "3way": cv2.StereoSGBM_MODE_SGBM_3WAY,
    "hh": cv2.StereoSGBM_MODE_HH,
    "sgbm": cv2.StereoSGBM_MODE_SGBM,
}


def check_rectified(left: np.ndarray, right: np.ndarray, *, max_vertical_offset: float = 2.0) -> None:
    """Refuse pairs that do not look rectified (left, right order), from ORB feature matches.

    In a rectified pair matching points lie on the same row and the right view sees them further left
    (``x_left - x_right > 0``). Pairs with fewer than 20 cross-checked matches (textureless or tiny images)
    pass unchecked.

    Args:
        left: ``H×W×3 uint8`` left view.
        right: ``H×W×3 uint8`` right view.
        max_vertical_offset: largest accepted median ``|y_left - y_right|`` in pixels.

    Raises:
        DepthError: the median vertical offset is larger than ``max_vertical_offset``, or most matches have
            negative disparity (left and right swapped).
    """
    grey_l = cv2.cvtColor(left, cv2.COLOR_RGB2GRAY)
    grey_r = cv2.cvtColor(right, cv2.COLOR_RGB2GRAY)
    orb = cv2.ORB_create(nfeatures=1000)
    kl, dl = orb.detectAndCompute(grey_l, None)
    kr, dr = orb.detectAndCompute(grey_r, None)
    if dl is None or dr is None or len(kl) < 20 or len(kr) < 20:
        return
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(dl, dr)
    matches = [m for m in matches if m.distance <= 40]
    if len(matches) < 20:
        return
    pl = np.array([kl[m.queryIdx].pt for m in matches])
    pr = np.array([kr[m.trainIdx].pt for m in matches])
    dy = float(np.median(np.abs(pl[:, 1] - pr[:, 1])))
    if dy > max_vertical_offset:
        raise DepthError(
            f"the stereo pair does not look rectified: matching points are {dy:.1f} px apart vertically "
            f"(median, > {max_vertical_offset:g}); rectify the pair first"
        )
    disparities = pl[:, 0] - pr[:, 0]
    if np.mean(disparities < -0.5) > 0.6:
        raise DepthError("most matches have negative disparity: the left and right images look swapped")


def left_right_consistent(disp_left: np.ndarray, disp_right: np.ndarray, *, tolerance: float = 1.0) -> np.ndarray:
    """Left-right consistency check: a left pixel's match in the right view must point back to it.

    Args:
        disp_left: ``H×W`` left disparity (``x_right = x - d_left``).
        disp_right: ``H×W`` right disparity (``x_left = x + d_right``).
        tolerance: largest accepted ``|d_left(x) - d_right(round(x - d_left(x)))|`` in pixels.

    Returns:
        ``H×W`` bool, True where consistent (and the match lies inside the right image).
    """
    h, w = disp_left.shape
    xs = np.arange(w)[None, :]
    with np.errstate(invalid="ignore"):
        xr = np.rint(xs - np.nan_to_num(disp_left, nan=-1e6, posinf=-1e6, neginf=1e6)).astype(np.int64)
    inside = (xr >= 0) & (xr < w)
    back = np.take_along_axis(disp_right, np.clip(xr, 0, w - 1), axis=1)
    return inside & (np.abs(disp_left - back) <= tolerance)


class StereoDepth:
    """A :class:`~viewshift.depth.base.DepthSource` for the left view of a rectified stereo pair.

    SGBM is run left→right and, on mirrored images, right→left; pixels whose two disparities disagree by more
    than ``lr_tolerance`` (occlusions, mismatches) are unknown and, with ``fill_invalid``, filled from their
    farther (smaller-disparity) neighbours (:func:`~viewshift.depth.units.fill_from_farther`). Images are padded
    on the left before matching so that the leftmost ``num_disparities`` columns still get a disparity.

    Args:
        right: the right view: a file (read with :func:`viewshift.io.read_image`) or an ``H×W×3 uint8`` array.
        focal: focal length in pixels (> 0).
        baseline: distance between the camera centres (> 0); depth comes out in its unit.
        num_disparities: disparity search range in pixels, a multiple of 16; ``None`` for the image width / 4
            rounded up to a multiple of 16.
        min_disparity: smallest disparity searched.
        block_size: SGBM matching block size (odd, ≥ 1).
        mode: ``"3way"`` (``MODE_SGBM_3WAY``, fast), ``"hh"`` (full 8-path ``MODE_HH``, slower) or ``"sgbm"``.
        lr_check: do the left-right consistency check.
        lr_tolerance: largest accepted left-right disagreement in pixels.
        uniqueness_ratio: SGBM uniqueness margin in percent.
        doffs: ``cx_right - cx_left`` in pixels (Middlebury ``doffs``); depth is ``f · B / (d + doffs)``.
        fill_invalid: fill unknown pixels; otherwise :meth:`estimate` refuses maps with unknown pixels.
        check_pair: refuse pairs that do not look rectified (:func:`check_rectified`).

    Raises:
        InputError: the right image file cannot be read.
        DepthError: bad settings (non-positive focal/baseline, bad block size or disparity range).
    """

    def __init__(
        self,
        right: str | os.PathLike[str] | np.ndarray,
        *,
        focal: float,
        baseline: float,
        num_disparities: int | None = None,
        min_disparity: int = 0,
        block_size: int = 5,
        mode: Literal["3way", "hh", "sgbm"] = "3way",
        lr_check: bool = True,
        lr_tolerance: float = 1.0,
        uniqueness_ratio: int = 10,
        doffs: float = 0.0,
        fill_invalid: bool = True,
        check_pair: bool = True,
    ) -> None:
        if not (np.isfinite(focal) and focal > 0 and np.isfinite(baseline) and baseline > 0):
            raise DepthError(f"focal ({focal}) and baseline ({baseline}) must be positive numbers")
        if num_disparities is not None and (num_disparities < 16 or num_disparities % 16):
            raise DepthError(f"num_disparities must be a positive multiple of 16, got {num_disparities}")
        if block_size < 1 or block_size % 2 == 0:
            raise DepthError(f"block_size must be odd and ≥ 1, got {block_size}")
        if mode not in _MODES:
            raise DepthError(f"mode must be one of {', '.join(_MODES)}, got {mode!r}")
        if isinstance(right, np.ndarray):
            self.right = check_rgb(right)
            self.right_path: Path | None = None
        else:
            loaded = vio.read_image(right)
            rgb = loaded.rgb if loaded.bit_depth == 8 else vio.from_float(vio.to_float(loaded.rgb), 8)
            self.right, self.right_path = rgb, loaded.path
        self.focal = float(focal)
        self.baseline = float(baseline)
        self.num_disparities = num_disparities
        self.min_disparity = int(min_disparity)
        self.block_size = int(block_size)
        self.mode = mode
        self.lr_check = lr_check
        self.lr_tolerance = float(lr_tolerance)
        self.uniqueness_ratio = int(uniqueness_ratio)
        self.doffs = float(doffs)
        self.fill_invalid = fill_invalid
        self.check_pair = check_pair

    def __repr__(self) -> str:
        source = str(self.right_path) if self.right_path is not None else "array"
        return f"StereoDepth({source!r}, focal={self.focal}, baseline={self.baseline}, mode={self.mode!r})"

    def _matcher(self, width: int) -> tuple[cv2.StereoSGBM, int]:
        nd = self.num_disparities or max(16, math.ceil(width / 4 / 16) * 16)
        cn, bs = 3, self.block_size
        matcher = cv2.StereoSGBM_create(
            minDisparity=self.min_disparity,
            numDisparities=nd,
            blockSize=bs,
            P1=8 * cn * bs * bs,
            P2=32 * cn * bs * bs,
            disp12MaxDiff=-1,  # our own left-right check below replaces OpenCV's one-sided one
            uniquenessRatio=self.uniqueness_ratio,
            speckleWindowSize=100,
            speckleRange=2,
            preFilterCap=63,
            mode=_MODES[self.mode],
        )
        return matcher, nd

    def _match(self, matcher: cv2.StereoSGBM, nd: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Disparity of ``a`` against ``b`` in pixels; unknown = ``min_disparity - 1``."""
        pad = max(0, nd + self.min_disparity)
        widths = ((0, 0), (pad, 0), (0, 0))
        raw = matcher.compute(np.pad(a, widths, mode="edge"), np.pad(b, widths, mode="edge"))
        return raw[:, pad:].astype(np.float32) / np.float32(16.0)

    def disparity(self, left: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Left-view disparity and where it is trusted.

        Args:
            left: ``H×W×3 uint8`` left view.

        Returns:
            ``(disparity, valid)``: ``H×W float32`` disparity in pixels (``x_right = x_left - d``; arbitrary
            where not valid) and ``H×W`` bool, True where SGBM found a match that passed the left-right check and
            ``d + doffs > 0``.

        Raises:
            ShapeError: ``left`` is not ``H×W×3 uint8``.
            DepthError: the views differ in size or do not look rectified.
        """
        left = check_rgb(left)
        if left.shape != self.right.shape:
            raise DepthError(
                f"left image is {left.shape[1]}×{left.shape[0]} but the right one is "
                f"{self.right.shape[1]}×{self.right.shape[0]}; a stereo pair must have one size"
            )
        if self.check_pair:
            check_rectified(left, self.right)
        matcher, nd = self._matcher(left.shape[1])
        disp = self._match(matcher, nd, left, self.right)
        valid = (disp >= self.min_disparity) & (disp + self.doffs > 0)
        if self.lr_check:
            back = self._match(matcher, nd, self.right[:, ::-1], left[:, ::-1])[:, ::-1]
            back = np.where(back >= self.min_disparity, back, np.nan)
            valid &= left_right_consistent(disp, back, tolerance=self.lr_tolerance)
        return disp, valid

    def estimate(self, rgb: np.ndarray) -> DepthMap:
        """Metric depth of the left view: ``Z = focal · baseline / (d + doffs)``.

        Args:
            rgb: ``H×W×3 uint8`` left view.

        Returns:
            ``H×W`` depth, ``unit="metric"``, in the unit of ``baseline``.

        Raises:
            ShapeError: ``rgb`` is not ``H×W×3 uint8``.
            DepthError: the views differ in size or do not look rectified, no pixel could be matched, or some
                could not and ``fill_invalid`` is false.
        """
        disp, valid = self.disparity(rgb)
        if not valid.any():
            raise DepthError("stereo matching found no reliable pixel; check that the images form a rectified pair")
        disp = np.where(valid, disp, np.nan)
        if self.fill_invalid:
            disp = fill_from_farther(disp, valid, farther="smaller")
        depth = disparity_to_depth(disp, self.focal, self.baseline, doffs=self.doffs)
        return DepthMap(depth, "metric")
