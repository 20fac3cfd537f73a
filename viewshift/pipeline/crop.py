"""Cropping a view to the largest rectangle free of the strips a camera move brought into view."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from viewshift.pipeline.config import ViewResult

__all__ = ["crop_box", "crop_result", "largest_valid_rectangle"]


def largest_valid_rectangle(invalid: np.ndarray) -> tuple[int, int, int, int]:
    """The largest axis-aligned rectangle ``(x0, y0, x1, y1)`` (exclusive ends) holding no invalid pixel.

    Exact maximal-rectangle search (histogram + stack per row), ``O(H·W)``.

    >>> m = np.zeros((4, 6), bool); m[:, 5] = True; m[0, :] = True
    >>> largest_valid_rectangle(m)
    (0, 1, 5, 4)
    """
    h, w = invalid.shape
    heights = np.zeros(w + 1, dtype=np.int64)
    best, best_rect = 0, (0, 0, w, h)
    for y in range(h):
        heights[:w] = np.where(invalid[y], 0, heights[:w] + 1)
        # Previous/next smaller bar for every column (monotonic stack, vectorised per row via numpy is awkward).
        stack: list[int] = []
        for x in range(w + 1):
            while stack and heights[stack[-1]] >= heights[x]:
                top = stack.pop()
                left = stack[-1] + 1 if stack else 0
                area = int(heights[top]) * (x - left)
                if area > best:
                    best, best_rect = area, (left, y - int(heights[top]) + 1, x, y + 1)
            stack.append(x)
    return best_rect


def crop_box(border: np.ndarray) -> tuple[int, int, int, int]:
    """Crop box avoiding border holes; the search runs on a coarse grid for large images."""
    h, w = border.shape
    step = max(1, int(math.ceil(max(h, w) / 400)))
    if step > 1:
        hb, wb = -(-h // step), -(-w // step)
        padded = np.zeros((hb * step, wb * step), bool)
        padded[:h, :w] = border
        padded[h:, :] = True
        padded[:, w:] = True
        coarse = padded.reshape(hb, step, wb, step).any(axis=(1, 3))
        x0, y0, x1, y1 = largest_valid_rectangle(coarse)
        return x0 * step, y0 * step, min(w, x1 * step), min(h, y1 * step)
    return largest_valid_rectangle(border)


def crop_result(view: ViewResult, box: tuple[int, int, int, int]) -> ViewResult:
    x0, y0, x1, y1 = box
    return replace(
        view,
        image=np.ascontiguousarray(view.image[y0:y1, x0:x1]),
        depth=view.depth[y0:y1, x0:x1],
        holes=view.holes[y0:y1, x0:x1],
        crop=box,
    )
