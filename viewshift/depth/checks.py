"""Checks on depth maps and images handed to depth sources, with one-line messages that say what to do."""

from __future__ import annotations

import numpy as np

from viewshift.errors import DepthError, ShapeError

__all__ = ["check_rgb", "validate_depth"]


def validate_depth(depth: np.ndarray, shape: tuple[int, int] | None = None, *, name: str = "depth") -> np.ndarray:
    """Check that a depth map is usable for rendering and return it as ``float32``.

    A constant depth (a flat, fronto-parallel scene) is fine.

    Args:
        depth: ``H×W`` depth, larger = farther.
        shape: the ``(H, W)`` of the image it belongs to, or ``None`` to skip the size check.
        name: what to call it in messages (e.g. the file name).

    Returns:
        ``depth`` as an ``H×W float32`` array (not copied when already ``float32``).

    Raises:
        DepthError: not a real 2-D array, empty, another size than ``shape``, NaN/inf, zero or negative values.

    Example:
        >>> validate_depth(np.ones((2, 3)), (2, 3)).dtype
        dtype('float32')
    """
    d = np.asarray(depth)
    if d.ndim != 2:
        raise DepthError(f"{name} must be a 2-D H×W array, got shape {d.shape}")
    if not (np.issubdtype(d.dtype, np.integer) or np.issubdtype(d.dtype, np.floating)) or d.size == 0:
        raise DepthError(f"{name} must be a non-empty real array, got {d.dtype} of shape {d.shape}")
    if shape is not None and tuple(d.shape) != tuple(shape):
        raise DepthError(
            f"{name} is {d.shape[1]}×{d.shape[0]} (W×H) but the image is {shape[1]}×{shape[0]}; "
            "give depth of the image's size"
        )
    d = d.astype(np.float32, copy=False)
    bad = ~np.isfinite(d)
    if bad.any():
        raise DepthError(
            f"{name} has {int(bad.sum())} NaN/inf values of {d.size}; "
            "fill them (--depth-fill-unknown; fill_invalid=True in Python) or fix the source"
        )
    nonpositive = d <= 0
    if nonpositive.any():
        raise DepthError(
            f"{name} has {int(nonpositive.sum())} zero or negative values of {d.size} (min {float(d.min()):g}); "
            "depth must be > 0 (larger = farther): fill holes (--depth-fill-unknown; fill_invalid=True in Python) "
            "or convert disparity first"
        )
    return d


def check_rgb(rgb: np.ndarray) -> np.ndarray:
    """Check the image a depth source receives.

    Args:
        rgb: ``H×W×3 uint8`` RGB image.

    Returns:
        ``rgb`` unchanged.

    Raises:
        ShapeError: another shape or dtype.
    """
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[2] != 3 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ShapeError(f"image for depth estimation must be H×W×3, got shape {a.shape}")
    if a.dtype != np.uint8:
        raise ShapeError(f"image for depth estimation must be uint8, got {a.dtype}; convert with io.from_float")
    return a
