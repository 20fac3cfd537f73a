"""What every export reads from a :class:`~viewshift.pipeline.Scene`: its colours, depth, a sample grid, a smaller copy.

Exports work on numpy at the API: colours ``H×W×3 uint8``, depth ``H×W float32`` (the scene's translation unit),
points in the source camera's frame (OpenCV axes: x right, y down, z forward).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from viewshift.errors import InputError
from viewshift.pipeline import Scene


def scene_rgb(scene: Scene) -> np.ndarray:
    """The scene's photo as ``H×W×3 uint8`` (alpha dropped, 16-bit rounded to 8)."""
    rgb = scene.image[0, :3].permute(1, 2, 0).numpy()
    return np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def scene_depth(scene: Scene) -> np.ndarray:
    """The scene's depth as ``H×W float32`` (translation units, larger = farther)."""
    return scene.depth[0, 0].numpy().astype(np.float32)


def grid_step(height: int, width: int, max_side: int) -> int:
    """Pixel step of a sample grid whose longer side has at most ``max_side`` samples (≥ 1).

    >>> grid_step(768, 1024, 512), grid_step(100, 80, 512)
    (3, 1)
    """
    if max_side < 2:
        raise InputError(f"the sample grid needs at least 2 samples a side, got max_side={max_side}")
    return max(1, math.ceil((max(height, width) - 1) / (max_side - 1)))


def grid_coords(length: int, step: int) -> np.ndarray:
    """Sample positions ``0, step, 2·step, …`` along an axis of ``length`` pixels, always ending at ``length - 1``.

    >>> grid_coords(7, 3).tolist(), grid_coords(6, 2).tolist()
    ([0, 3, 6], [0, 2, 4, 5])
    """
    c = np.arange(0, length, step)
    return c if c[-1] == length - 1 else np.append(c, length - 1)


def grid_points(scene: Scene, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """3-D points, colours and pixel positions of the scene sampled every ``step`` pixels.

    Returns:
        ``points`` ``(h, w, 3)`` float32 in the camera frame (OpenCV axes), ``colours`` ``(h, w, 3)`` uint8,
        ``xs`` ``(w,)`` and ``ys`` ``(h,)`` the sampled pixel columns and rows.
    """
    H, W = scene.size
    xs, ys = grid_coords(W, step), grid_coords(H, step)
    pts = scene.points[0].permute(1, 2, 0).numpy()
    return (
        np.ascontiguousarray(pts[np.ix_(ys, xs)], dtype=np.float32),
        np.ascontiguousarray(scene_rgb(scene)[np.ix_(ys, xs)]),
        xs,
        ys,
    )


def resize_scene(scene: Scene, width: int, height: int) -> Scene:
    """The scene at another resolution: the photo area-averaged, depth by nearest neighbour (no depths mixed
    across an edge), intrinsics scaled with the pixel grid (pixel centres kept: ``x' + ½ = s (x + ½)``)."""
    if width < 2 or height < 2:
        raise InputError(f"cannot resize a scene to {width}×{height}")
    H, W = scene.size
    img = scene.image[0].permute(1, 2, 0).numpy()
    img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
    img = img[..., None] if img.ndim == 2 else img
    depth = cv2.resize(scene_depth(scene), (width, height), interpolation=cv2.INTER_NEAREST)
    sx, sy = width / W, height / H
    K = scene.K.clone()
    K[:, 0, 0] *= sx
    K[:, 1, 1] *= sy
    K[:, 0, 2] = (K[:, 0, 2] + 0.5) * sx - 0.5
    K[:, 1, 2] = (K[:, 1, 2] + 0.5) * sy - 0.5
    return Scene(
        image=torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float(),
        depth=torch.from_numpy(np.ascontiguousarray(depth))[None, None].float(),
        K=K,
        bit_depth=8,
    )
