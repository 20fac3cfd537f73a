"""Rotating and turning photos: level a rolled photo and crop it, or see it from a camera turned by pitch and yaw.

Roll convention: a photo with roll θ is its upright version rotated **counter-clockwise as displayed** by θ
degrees (what a camera rolled clockwise by θ, seen from behind, records; ``viewshift render --roll θ``);
levelling it means rotating it by −θ. Rotations use OpenCV's ``getRotationMatrix2D`` (positive =
counter-clockwise as displayed) about the image centre.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from viewshift.errors import InputError
from viewshift.geometry.poses import euler_to_matrix
from viewshift.planar.warps import largest_rotated_rect


def rotate_photo(photo: np.ndarray, angle_deg: float, *, crop: bool = True, fill: str = "black") -> np.ndarray:
    """Rotate a photo counter-clockwise as displayed by ``angle_deg`` about its centre.

    Args:
        photo: ``H×W×C`` (or ``H×W``) uint8/uint16 image.
        angle_deg: rotation in degrees (positive = counter-clockwise as displayed).
        crop: crop to the largest axis-aligned rectangle holding only valid pixels (centred); when False keep
            the size and fill the corners.
        fill: corner fill when ``crop`` is False: ``"black"``, ``"white"`` or ``"edge"`` (replicate borders).

    Returns:
        The rotated image, same dtype and channels.
    """
    if fill not in ("black", "white", "edge"):
        raise InputError(f"unknown fill {fill!r}; use black, white or edge")
    h, w = photo.shape[:2]
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), angle_deg, 1.0)
    top = np.iinfo(photo.dtype).max if np.issubdtype(photo.dtype, np.integer) else 1.0
    border = cv2.BORDER_REPLICATE if fill == "edge" else cv2.BORDER_CONSTANT
    value = (top,) * 4 if fill == "white" else (0,) * 4
    out = cv2.warpAffine(photo, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=border, borderValue=value)
    if photo.ndim == 3 and out.ndim == 2:
        out = out[:, :, None]
    if not crop:
        return out
    cw, ch = crop_size(w, h, angle_deg)
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return out[y0 : y0 + ch, x0 : x0 + cw]


def crop_size(width: int, height: int, angle_deg: float) -> tuple[int, int]:
    """``(width, height)`` of :func:`rotate_photo`'s crop of a ``width × height`` photo rotated by ``angle_deg``
    (levelling a photo with roll θ rotates it by −θ; the size depends only on ``|angle|``): the largest centred
    axis-aligned rectangle of valid pixels (:func:`viewshift.planar.warps.largest_rotated_rect`) less one pixel of
    margin on each side against interpolation bleeding from the border."""
    cw, ch = largest_rotated_rect(width, height, angle_deg)
    return max(1, cw - 2), max(1, ch - 2)


def tilt_homography(width: int, height: int, pitch_deg: float, yaw_deg: float) -> np.ndarray:
    """``3×3`` pixel homography ``K Rx(pitch) Ry(yaw) K⁻¹`` of :func:`tilt_photo` (focal length = long side,
    principal point at the centre), mapping the upright photo's pixels to the turned camera's."""
    f = float(max(width, height))
    k = np.array([[f, 0, (width - 1) / 2.0], [0, f, (height - 1) / 2.0], [0, 0, 1]])
    angles = torch.tensor([[np.radians(pitch_deg), np.radians(yaw_deg), 0.0]], dtype=torch.float64)
    return k @ euler_to_matrix(angles)[0].numpy() @ np.linalg.inv(k)


def tilt_photo(photo: np.ndarray, pitch_deg: float, yaw_deg: float) -> np.ndarray:
    """The photo as the same camera would see it after turning by ``yaw_deg`` about the world vertical and then
    by ``pitch_deg`` about its own horizontal axis, cropped to the largest centred rectangle of valid pixels with
    the photo's aspect ratio.

    The camera has focal length = the long side (a 53° field of view across it) and its principal point at the
    centre; the image maps by the homography ``K R K⁻¹`` with ``R = Rx(pitch) Ry(yaw)``
    (:func:`viewshift.geometry.poses.euler_to_matrix`). Neither turn rolls the camera: world verticals still meet
    at a vanishing point on the image's vertical centre line, so an upright photo stays upright (roll 0) while its
    verticals converge and its horizontals slant, as in photos taken looking up or sideways.

    Args:
        photo: ``H×W×C`` uint8 image.
        pitch_deg: turn about the camera's horizontal axis, degrees.
        yaw_deg: turn about the world vertical, degrees.

    Returns:
        The turned and cropped photo (same dtype and channels, centred on the principal point).
    """
    h, w = photo.shape[:2]
    homography = tilt_homography(w, h, pitch_deg, yaw_deg)
    out = cv2.warpPerspective(photo, homography, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    ch, cw = tilted_size(w, h, pitch_deg, yaw_deg)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    return out[y0 : y0 + ch, x0 : x0 + cw]


def tilted_size(width: int, height: int, pitch_deg: float, yaw_deg: float) -> tuple[int, int]:
    """``(height, width)`` of :func:`tilt_photo`'s output for a ``width × height`` photo, without warping it:
    the largest centred rectangle with the photo's aspect ratio (at least 16 px a side) inside the turned image's
    valid quadrilateral, found by bisection on its scale."""
    w, h = width, height
    homography = tilt_homography(w, h, pitch_deg, yaw_deg)
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64).reshape(-1, 1, 2)
    quad = cv2.perspectiveTransform(corners, homography).reshape(-1, 2).astype(np.float32)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0

    def inside(scale: float) -> bool:
        dx, dy = scale * (w - 1) / 2.0 + 1, scale * (h - 1) / 2.0 + 1  # one pixel of margin
        return all(
            cv2.pointPolygonTest(quad, (cx + sx * dx, cy + sy * dy), False) >= 0 for sx in (-1, 1) for sy in (-1, 1)
        )

    lo, hi = 0.0, 1.0
    for _ in range(20):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if inside(mid) else (lo, mid)
    return max(16, int(lo * h)), max(16, int(lo * w))
