"""Pinhole intrinsics: building K from a focal length or field of view, and keeping K right under resizes and crops.

Pixel convention: integer coordinates are pixel centres; ``u`` grows right, ``v`` grows down; the principal point
of an image of width ``W`` and height ``H`` defaults to ``((W - 1) / 2, (H - 1) / 2)``.
"""

from __future__ import annotations

import math

import torch

from viewshift.geometry.checks import check_shape

DEFAULT_FOV_DEG = 60.0
"""Horizontal field of view assumed when neither focal length nor EXIF is known (a typical phone main camera
spans 63–70°; a slightly narrower default keeps parallax on the safe side)."""

FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)


def focal_from_fov(fov_deg: float, width: int) -> float:
    """Focal length in pixels giving a horizontal field of view of ``fov_deg`` degrees over ``width`` pixels.

    ``f = (W / 2) / tan(fov / 2)``.

    >>> round(focal_from_fov(90.0, 640), 6)
    320.0
    """
    if not 0.0 < fov_deg < 180.0:
        raise ValueError(f"field of view must be between 0 and 180 degrees, got {fov_deg}")
    return (width / 2.0) / math.tan(math.radians(fov_deg) / 2.0)


def fov_from_focal(focal: float, width: int) -> float:
    """Horizontal field of view in degrees of a focal length ``focal`` (px) over ``width`` pixels."""
    return math.degrees(2.0 * math.atan((width / 2.0) / focal))


def focal_from_35mm(focal_35mm: float, width: int, height: int) -> float:
    """Focal length in pixels from an EXIF 35 mm-equivalent focal length.

    The 35 mm equivalent relates the focal length to the 43.27 mm diagonal of a full-frame sensor, so
    ``f_px = f_35 * hypot(W, H) / 43.27``.

    >>> round(focal_from_35mm(43.266615305567875, 300, 400), 6)
    500.0
    """
    return focal_35mm * math.hypot(width, height) / FULL_FRAME_DIAGONAL_MM


def intrinsics(
    focal: float | torch.Tensor,
    height: int,
    width: int,
    *,
    cx: float | None = None,
    cy: float | None = None,
    batch: int = 1,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Intrinsic matrices ``K`` with square pixels.

    Args:
        focal: focal length in pixels (a number, or a ``(B,)`` tensor).
        height: image height H.
        width: image width W.
        cx: principal point x; default ``(W - 1) / 2``.
        cy: principal point y; default ``(H - 1) / 2``.
        batch: B when ``focal`` is a number.

    Returns:
        ``(B, 3, 3)`` tensor ``[[f, 0, cx], [0, f, cy], [0, 0, 1]]``.

    >>> intrinsics(100.0, 5, 7)[0]
    tensor([[100.,   0.,   3.],
            [  0., 100.,   2.],
            [  0.,   0.,   1.]])
    """
    f = torch.as_tensor(focal, dtype=dtype).reshape(-1)
    if f.numel() == 1:
        f = f.expand(batch)
    K = torch.zeros(f.shape[0], 3, 3, dtype=dtype)
    K[:, 0, 0] = f
    K[:, 1, 1] = f
    K[:, 0, 2] = (width - 1) / 2.0 if cx is None else cx
    K[:, 1, 2] = (height - 1) / 2.0 if cy is None else cy
    K[:, 2, 2] = 1.0
    return K


def scale_intrinsics(K: torch.Tensor, sx: float, sy: float) -> torch.Tensor:
    """Intrinsics after resizing the image by ``sx`` horizontally and ``sy`` vertically.

    With pixel centres at integers, a resize maps ``u -> (u + 0.5) * sx - 0.5``.

    Args:
        K: ``(B, 3, 3)``.

    Returns:
        ``(B, 3, 3)``.
    """
    check_shape(K, "B,3,3", "K")
    out = K.clone()
    out[:, 0, 0] = K[:, 0, 0] * sx
    out[:, 0, 1] = K[:, 0, 1] * sx
    out[:, 1, 1] = K[:, 1, 1] * sy
    out[:, 0, 2] = (K[:, 0, 2] + 0.5) * sx - 0.5
    out[:, 1, 2] = (K[:, 1, 2] + 0.5) * sy - 0.5
    return out


def crop_intrinsics(K: torch.Tensor, x0: float, y0: float) -> torch.Tensor:
    """Intrinsics after cropping the image so that pixel ``(x0, y0)`` becomes the origin.

    Args:
        K: ``(B, 3, 3)``.

    Returns:
        ``(B, 3, 3)``.
    """
    check_shape(K, "B,3,3", "K")
    out = K.clone()
    out[:, 0, 2] = K[:, 0, 2] - x0
    out[:, 1, 2] = K[:, 1, 2] - y0
    return out


def flip_intrinsics(K: torch.Tensor, width: int) -> torch.Tensor:
    """Intrinsics after mirroring the image left-right (``u -> W - 1 - u``).

    Args:
        K: ``(B, 3, 3)`` with zero skew.

    Returns:
        ``(B, 3, 3)``.
    """
    check_shape(K, "B,3,3", "K")
    out = K.clone()
    out[:, 0, 2] = (width - 1) - K[:, 0, 2]
    return out
