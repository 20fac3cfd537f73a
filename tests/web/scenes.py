"""A tiny photo with exact depth for the web tests: a red square at depth 1 before a checkered wall at depth 4."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

H, W = 96, 128


def square_photo() -> tuple[np.ndarray, np.ndarray]:
    """``(rgb H×W×3 uint8, depth H×W float32)``."""
    yy, xx = np.mgrid[0:H, 0:W]
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[..., 1] = np.where((xx // 8 + yy // 8) % 2 == 0, 90, 140)
    rgb[..., 2] = 160
    depth = np.full((H, W), 4.0, np.float32)
    square = (abs(yy - H / 2) < 20) & (abs(xx - W / 2) < 20)
    rgb[square] = (230, 20, 20)
    depth[square] = 1.0
    return rgb, depth


def png_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def npy_bytes(depth: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, depth)
    return buf.getvalue()


def red_x(rgb: np.ndarray) -> float:
    """Mean column of the red square's pixels."""
    red = (rgb[..., 0] > 180) & (rgb[..., 1] < 90) & (rgb[..., 2] < 90)
    assert red.sum() > 50, "the red square is not visible"
    return float(np.nonzero(red)[1].mean())


def wall_x_shift(before: np.ndarray, after: np.ndarray) -> int:
    """How far (px, positive = right) the wall's top rows (far content) moved from ``before`` to ``after``."""
    a, b = before[:12, :, 1].astype(float), after[:12, :, 1].astype(float)
    # after(x) = before(x - shift): try each shift on the middle columns.
    errors = {s: np.abs(a[:, 20 - s : W - 20 - s] - b[:, 20 : W - 20]).mean() for s in range(-8, 9)}
    return min(errors, key=errors.get)
