"""Roll features of a photo: histograms of gradient and line-segment orientations, and the segments themselves.

Features: the photo is converted to grey, resized so its long side is 256 px, and a histogram of gradient
orientations over [0°, 180°) is built (Sobel gradients, orientation ``atan2(-gy, gx)`` so that a
counter-clockwise roll of θ shifts the histogram by +θ, weighted by gradient magnitude, linear interpolation
between 1° bins); a second channel does the same at half resolution. Each channel is divided by its mean.
The ``"gradient+lines"`` features add a third channel: the orientations of the straight line segments found by
OpenCV's line segment detector (LSD) in the 256-px image, each segment weighted by its length and binned by its
normal (so a horizontal segment lands at 90°, where a horizontal edge's gradient does); ``"gradient+vanishing"``
adds the directions of the segments' pairwise vanishing points instead. The shipped ``photo-roll`` reads the
``"gradient"`` features; the other two kinds are kept for the experiments (``experiments/planar``).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from viewshift.errors import InputError, ShapeError

FEATURE_LONG_SIDE = 256
NUM_BINS = 180
# Input channels of each kind of roll feature (photo_features).
ROLL_FEATURES = {"gradient": 2, "gradient+lines": 3, "gradient+vanishing": 3}
# Line segments shorter than this (pixels, in the 256-px image) are ignored by line_histogram.
MIN_SEGMENT_LENGTH = 10.0
# vanishing_histogram: the longest segments used, the largest angle between two segments of one pair, and
# how far from the centre (in half long sides) their intersection must lie to count as a vanishing point.
VANISHING_SEGMENTS = 100
VANISHING_MAX_ANGLE = 15.0
VANISHING_MIN_DISTANCE = 1.0


def check_photo(photo: np.ndarray) -> None:
    if not isinstance(photo, np.ndarray) or photo.ndim != 3 or photo.shape[2] != 3:
        shape = getattr(photo, "shape", None)
        raise ShapeError(f"expected an H×W×3 photo, got shape {shape}")
    if photo.shape[0] < 16 or photo.shape[1] < 16:
        raise ShapeError(f"photo of {photo.shape[1]}×{photo.shape[0]} pixels is too small; need at least 16×16")


def resize_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    """Resize so that the longer side is ``long_side`` pixels (area interpolation when shrinking)."""
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interp)


def orientation_histogram(gray: np.ndarray, num_bins: int = NUM_BINS) -> np.ndarray:
    """Magnitude-weighted histogram of gradient orientations over [0°, 180°).

    Args:
        gray: ``H×W`` float32 grey image.
        num_bins: number of bins; bin ``k`` is centred on ``k * 180 / num_bins`` degrees.

    Returns:
        ``(num_bins,)`` float32 histogram divided by its mean (all ones for a flat image).
    """
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)[2:-2, 2:-2]
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)[2:-2, 2:-2]
    mag = np.hypot(gx, gy).ravel()
    theta = np.degrees(np.arctan2(-gy, gx)).ravel() % 180.0
    pos = theta / (180.0 / num_bins)
    lo = np.floor(pos).astype(np.int64)
    frac = (pos - lo).astype(np.float32)
    hist = np.bincount(lo % num_bins, mag * (1 - frac), num_bins)
    hist += np.bincount((lo + 1) % num_bins, mag * frac, num_bins)
    mean = hist.mean()
    return (hist / mean if mean > 1e-8 else np.ones(num_bins)).astype(np.float32)


def line_segments(gray: np.ndarray, min_length: float) -> tuple[np.ndarray, np.ndarray]:
    """LSD segments of a uint8 grey image: ``(K, 4)`` float64 ``x1, y1, x2, y2`` (pixels, y down) and lengths."""
    lines = cv2.createLineSegmentDetector().detect(gray)[0]
    if lines is None:
        return np.zeros((0, 4)), np.zeros(0)
    seg = lines.reshape(-1, 4).astype(np.float64)
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    keep = length >= min_length
    return seg[keep], length[keep]


def _binned(theta: np.ndarray, weight: np.ndarray, num_bins: int) -> np.ndarray:
    """Histogram of angles ``theta`` (degrees, modulo 180) with linear interpolation, divided by its mean."""
    pos = (theta % 180.0) / (180.0 / num_bins)
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    hist = np.bincount(lo % num_bins, weight * (1 - frac), num_bins)
    hist += np.bincount((lo + 1) % num_bins, weight * frac, num_bins)
    mean = hist.mean()
    return (hist / mean if mean > 1e-8 else np.ones(num_bins)).astype(np.float32)


def centred_lines(seg: np.ndarray, width: int, height: int) -> dict[str, np.ndarray]:
    """Segments ``(K, 4)`` (pixels ``x1, y1, x2, y2``, y down) in centred coordinates (y up, in half long sides):
    ``lines (K, 3)`` homogeneous with unit normals, ``length (K,)``, unit ``direction (K, 2)``, ``mid (K, 2)``."""
    half = max(width, height) / 2.0
    x = (seg[:, 0::2] - (width - 1) / 2.0) / half
    y = -(seg[:, 1::2] - (height - 1) / 2.0) / half
    ones = np.ones(len(seg))
    lines = np.cross(np.stack([x[:, 0], y[:, 0], ones], 1), np.stack([x[:, 1], y[:, 1], ones], 1))
    lines /= np.maximum(np.hypot(lines[:, 0], lines[:, 1]), 1e-12)[:, None]
    d = np.stack([x[:, 1] - x[:, 0], y[:, 1] - y[:, 0]], 1)
    length = np.hypot(d[:, 0], d[:, 1])
    return {
        "lines": lines,
        "length": length,
        "direction": d / np.maximum(length, 1e-12)[:, None],
        "mid": np.stack([x.mean(1), y.mean(1)], 1),
    }


def line_histogram(gray: np.ndarray, num_bins: int = NUM_BINS, min_length: float = MIN_SEGMENT_LENGTH) -> np.ndarray:
    """Length-weighted histogram of the normals of straight line segments over [0°, 180°).

    Segments come from OpenCV's LSD (``cv2.createLineSegmentDetector``). A segment from ``(x1, y1)`` to
    ``(x2, y2)`` (y down) has normal orientation ``atan2(-(y2 - y1), x2 - x1) + 90°`` modulo 180°, the same angle
    :func:`orientation_histogram` gives the gradient across it, so a roll of θ shifts both histograms by +θ.

    Args:
        gray: ``H×W`` uint8 grey image.
        num_bins: number of bins; bin ``k`` is centred on ``k * 180 / num_bins`` degrees.
        min_length: shorter segments (pixels) are ignored.

    Returns:
        ``(num_bins,)`` float32 histogram divided by its mean (all ones when no segment is found).
    """
    seg, length = line_segments(gray, min_length)
    x1, y1, x2, y2 = seg.T
    return _binned(np.degrees(np.arctan2(-(y2 - y1), x2 - x1)) + 90.0, length, num_bins)


def vanishing_histogram(
    gray: np.ndarray,
    num_bins: int = NUM_BINS,
    min_length: float = MIN_SEGMENT_LENGTH,
    max_segments: int = VANISHING_SEGMENTS,
    max_angle: float = VANISHING_MAX_ANGLE,
    min_distance: float = VANISHING_MIN_DISTANCE,
) -> np.ndarray:
    """Histogram of the directions from the image centre to the vanishing points of pairs of line segments.

    Under camera pitch, world verticals converge to a vanishing point on the image line through the principal
    point (taken as the centre) at the roll angle from the image vertical; each segment's own orientation is off
    by its position, which an orientation histogram counts as roll. Here every pair of the ``max_segments``
    longest LSD segments whose orientations differ by less than ``max_angle`` is intersected (homogeneous
    coordinates, so parallel segments meet at infinity in their own direction); intersections closer to the
    centre than ``min_distance`` half long sides are dropped (not vanishing points). The direction of each
    intersection, weighted by the product of the two lengths, is binned by its normal like
    :func:`line_histogram`, so a roll of θ about the centre shifts this histogram by +θ as well.

    Args:
        gray: ``H×W`` uint8 grey image.
        num_bins: number of bins over [0°, 180°).
        min_length: shorter segments (pixels) are ignored.
        max_segments: the longest this many segments are paired.
        max_angle: largest orientation difference (degrees) of a pair.
        min_distance: smallest distance of a kept intersection from the centre, in half long sides.

    Returns:
        ``(num_bins,)`` float32 histogram divided by its mean (all ones when no pair qualifies).
    """
    seg, length = line_segments(gray, min_length)
    order = np.argsort(-length)[:max_segments]
    seg, length = seg[order], length[order]
    if len(length) < 2:
        return np.ones(num_bins, np.float32)
    h, w = gray.shape
    centred = centred_lines(seg, w, h)
    direction = np.degrees(np.arctan2(centred["direction"][:, 1], centred["direction"][:, 0]))
    i, j = np.triu_indices(len(length), 1)
    apart = np.abs((direction[i] - direction[j] + 90.0) % 180.0 - 90.0)
    point = np.cross(centred["lines"][i], centred["lines"][j])
    far = np.hypot(point[:, 0], point[:, 1]) > min_distance * np.abs(point[:, 2])
    weight = length[i] * length[j] * ((apart < max_angle) & far)
    return _binned(np.degrees(np.arctan2(point[:, 1], point[:, 0])) + 90.0, weight, num_bins)


def photo_features(photo: np.ndarray, num_bins: int = NUM_BINS, kind: str = "gradient") -> torch.Tensor:
    """The roll network's input for one photo.

    Args:
        photo: ``H×W×3`` uint8 RGB.
        num_bins: histogram bins over 180°.
        kind: ``"gradient"``, ``"gradient+lines"`` or ``"gradient+vanishing"`` (:data:`ROLL_FEATURES`).

    Returns:
        ``(C, num_bins)`` float32: gradient histograms at long side 256 and 128 pixels, and with
        ``"gradient+lines"`` the line-segment histogram (:func:`line_histogram`) of the 256-px image, with
        ``"gradient+vanishing"`` the vanishing-direction histogram (:func:`vanishing_histogram`) instead.
    """
    if kind not in ROLL_FEATURES:
        raise InputError(f"unknown roll features {kind!r}; use one of {', '.join(ROLL_FEATURES)}")
    check_photo(photo)
    small = resize_long_side(photo, FEATURE_LONG_SIDE)
    gray8 = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    gray = gray8.astype(np.float32) / 255.0
    half = cv2.resize(gray, (max(1, gray.shape[1] // 2), max(1, gray.shape[0] // 2)), interpolation=cv2.INTER_AREA)
    channels = [orientation_histogram(gray, num_bins), orientation_histogram(half, num_bins)]
    if kind == "gradient+lines":
        channels.append(line_histogram(gray8, num_bins))
    elif kind == "gradient+vanishing":
        channels.append(vanishing_histogram(gray8, num_bins))
    return torch.from_numpy(np.stack(channels))
