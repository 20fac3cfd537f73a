"""Conversions between disparity, inverse depth and depth, and filling unknown pixels from the background.

Conventions: depth is the distance along the camera's z axis, larger = farther. *Metric* depth is in a physical
unit (that of the baseline, or of the file). *Relative* depth is known only up to one unknown positive scale
factor: ratios between pixels are meaningful, absolute values are not (viewshift normalises relative depth to a
median of 1). *Relative inverse depth* (what MiDaS / Depth Anything output) is ``a / Z + b`` with unknown ``a > 0``
and ``b``: larger = nearer, known only up to scale and shift.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from viewshift.errors import DepthError

__all__ = ["disparity_to_depth", "fill_from_farther", "inverse_to_depth", "scale_relative"]


def _fill_rows(values: np.ndarray, valid: np.ndarray, pick: np.ufunc) -> tuple[np.ndarray, np.ndarray]:
    """Fill invalid pixels of each row from the nearer valid pixel on the left and on the right, via ``pick``."""
    h, w = values.shape
    cols = np.arange(w)[None, :]
    left = np.maximum.accumulate(np.where(valid, cols, -1), axis=1)
    right = np.minimum.accumulate(np.where(valid, cols, w)[:, ::-1], axis=1)[:, ::-1]
    has_left, has_right = left >= 0, right < w
    left_val = np.take_along_axis(values, np.clip(left, 0, w - 1), axis=1)
    right_val = np.take_along_axis(values, np.clip(right, 0, w - 1), axis=1)
    both = pick(left_val, right_val)
    filled = np.where(has_left & has_right, both, np.where(has_left, left_val, right_val))
    out = np.where(valid, values, filled)
    return out, valid | has_left | has_right


def fill_from_farther(values: np.ndarray, valid: np.ndarray, *, farther: Literal["smaller", "larger"]) -> np.ndarray:
    """Fill unknown pixels from their nearest known neighbours on the farther (background) side.

    Unknown pixels in stereo and depth maps are mostly occlusions, which belong to the background. Each unknown
    pixel takes the nearest known value to its left and to its right in the same row and keeps the farther of
    the two (the smaller disparity, or the larger depth); with only one side known it takes that one. Rows with
    no known pixel are then filled the same way along columns.

    Args:
        values: ``H×W`` disparity or depth; values at unknown pixels are ignored.
        valid: ``H×W`` bool, True where ``values`` is known.
        farther: ``"smaller"`` for disparity / inverse depth, ``"larger"`` for depth.

    Returns:
        ``H×W`` array of ``values``' dtype with every pixel known.

    Raises:
        DepthError: no pixel is known, or the shapes differ.

    Example:
        >>> fill_from_farther(np.array([[5.0, 0.0, 2.0]]), np.array([[True, False, True]]), farther="smaller")
        array([[5., 2., 2.]])
    """
    v = np.asarray(values)
    ok = np.asarray(valid, dtype=bool)
    if v.ndim != 2 or ok.shape != v.shape:
        raise DepthError(f"values {v.shape} and valid mask {ok.shape} must be the same H×W shape")
    if not ok.any():
        raise DepthError("no known pixel to fill the unknown ones from; the depth/disparity map is empty")
    if farther not in ("smaller", "larger"):
        raise DepthError(f"farther must be 'smaller' or 'larger', got {farther!r}")
    pick = np.minimum if farther == "smaller" else np.maximum
    out, ok = _fill_rows(v, ok, pick)
    if not ok.all():
        out_t, _ = _fill_rows(out.T, ok.T, pick)
        out = out_t.T
    return np.ascontiguousarray(out)


def disparity_to_depth(
    disparity: np.ndarray,
    focal_px: float,
    baseline: float,
    *,
    doffs: float = 0.0,
    fill_invalid: bool = False,
) -> np.ndarray:
    """Convert stereo disparity to metric depth: ``Z = f · B / (d + doffs)``.

    Args:
        disparity: ``H×W`` disparity in pixels of the left view (``x_right = x_left - d``).
        focal_px: focal length in pixels (> 0).
        baseline: distance between the two camera centres (> 0); the depth comes out in its unit.
        doffs: difference of the principal points' x (``cx_right - cx_left``, Middlebury's ``doffs``); 0 for
            pairs rectified to a common principal point.
        fill_invalid: fill pixels with non-finite or non-positive ``d + doffs`` from their farther neighbours
            (:func:`fill_from_farther`) instead of refusing them.

    Returns:
        ``H×W float32`` depth, larger = farther, in the unit of ``baseline``.

    Raises:
        DepthError: focal or baseline not positive, or unknown pixels and ``fill_invalid`` is false.

    Example:
        >>> disparity_to_depth(np.array([[10.0, 20.0]]), focal_px=500.0, baseline=0.1)
        array([[5. , 2.5]], dtype=float32)
    """
    if not (np.isfinite(focal_px) and focal_px > 0 and np.isfinite(baseline) and baseline > 0):
        raise DepthError(f"focal ({focal_px}) and baseline ({baseline}) must be positive numbers")
    d = np.asarray(disparity, dtype=np.float64) + float(doffs)
    if d.ndim != 2:
        raise DepthError(f"disparity must be a 2-D H×W array, got shape {d.shape}")
    valid = np.isfinite(d) & (d > 0)
    if not valid.all():
        if not fill_invalid:
            raise DepthError(
                f"disparity has {int((~valid).sum())} unknown (non-finite, zero or negative) pixels of {d.size}; "
                "pass fill_invalid=True (command line: --depth-fill-unknown) to fill them from the background"
            )
        d = fill_from_farther(d, valid, farther="smaller")
    return (focal_px * baseline / d).astype(np.float32)


def inverse_to_depth(inverse: np.ndarray, *, max_ratio: float = 100.0) -> np.ndarray:
    """Convert relative inverse depth (MiDaS / Depth Anything style) to relative depth.

    The network output ``x = a / Z + b`` has unknown scale ``a`` and shift ``b``. We assume the smallest output
    belongs to the farthest pixel and cap the far-to-near ratio at ``max_ratio``:

    ``depth = 1 / (x - min(x) + (max(x) - min(x)) / (max_ratio - 1))``, then divided by its median,

    so the nearest pixel (``x = max``) is ``max_ratio`` times nearer than the farthest (``x = min``), zero and
    negative outputs are fine (only differences count), and the median depth is 1. A constant output gives a
    constant depth of 1.

    Args:
        inverse: ``H×W`` relative inverse depth, larger = nearer; must be finite.
        max_ratio: far-to-near depth ratio of the result (> 1).

    Returns:
        ``H×W float32`` relative depth, larger = farther, median 1.

    Raises:
        DepthError: non-finite values, not 2-D, or ``max_ratio <= 1``.

    Example:
        >>> inverse_to_depth(np.array([[0.0, 1.0, 2.0]]), max_ratio=3.0)
        array([[2.       , 1.       , 0.6666667]], dtype=float32)
    """
    if not (np.isfinite(max_ratio) and max_ratio > 1):
        raise DepthError(f"max_ratio must be > 1, got {max_ratio}")
    x = np.asarray(inverse, dtype=np.float64)
    if x.ndim != 2 or x.size == 0:
        raise DepthError(f"inverse depth must be a non-empty H×W array, got shape {x.shape}")
    bad = ~np.isfinite(x)
    if bad.any():
        raise DepthError(f"inverse depth has {int(bad.sum())} NaN/inf values of {x.size}; the model output is broken")
    lo, span = x.min(), x.max() - x.min()
    if span == 0:
        return np.ones(x.shape, np.float32)
    depth = 1.0 / (x - lo + span / (max_ratio - 1.0))
    return (depth / np.median(depth)).astype(np.float32)


def scale_relative(depth: np.ndarray, scene_distance: float) -> np.ndarray:
    """Scale relative depth so that its median equals ``scene_distance``.

    Args:
        depth: ``H×W`` relative depth (positive, larger = farther); non-finite or non-positive pixels are left
            out of the median.
        scene_distance: the distance, in the wanted unit, of the scene's typical (median) point (> 0).

    Returns:
        ``H×W float32`` depth in the unit of ``scene_distance``.

    Raises:
        DepthError: ``scene_distance`` not positive, or no positive finite depth.

    Example:
        >>> scale_relative(np.array([[1.0, 2.0, 4.0]]), 3.0)
        array([[1.5, 3. , 6. ]], dtype=float32)
    """
    if not (np.isfinite(scene_distance) and scene_distance > 0):
        raise DepthError(f"scene_distance must be a positive number, got {scene_distance}")
    d = np.asarray(depth, dtype=np.float64)
    good = np.isfinite(d) & (d > 0)
    if not good.any():
        raise DepthError("depth has no positive finite value to take the median of")
    return (d * (scene_distance / np.median(d[good]))).astype(np.float32)
