"""Tiny scenes with exact geometry for the export tests (built in code)."""

from __future__ import annotations

import numpy as np
import torch

from viewshift.geometry import intrinsics
from viewshift.pipeline import Scene

NEAR, FAR = 1.0, 2.0


def step_scene(h: int = 12, w: int = 16, focal: float = 20.0, split: int | None = None) -> Scene:
    """Left columns (``x < split``, default half) at depth NEAR, the rest at FAR; random colours (seeded)."""
    split = w // 2 if split is None else split
    depth = np.full((h, w), FAR, np.float32)
    depth[:, :split] = NEAR
    rgb = np.random.default_rng(0).integers(0, 256, (h, w, 3)).astype(np.float32) / 255.0
    return Scene(
        image=torch.from_numpy(rgb).permute(2, 0, 1)[None].float(),
        depth=torch.from_numpy(depth)[None, None],
        K=intrinsics(focal, h, w),
    )


def square_scene(h: int = 48, w: int = 64, focal: float = 60.0) -> tuple[Scene, np.ndarray]:
    """A red square at depth 1 in front of a textured grey-blue wall at depth 4. Returns the scene and its mask."""
    depth = np.full((h, w), 4.0, np.float32)
    rgb = np.zeros((h, w, 3), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    rgb[..., 1] = 0.3 + 0.2 * ((xx // 4 + yy // 4) % 2)  # checker wall, no red
    rgb[..., 2] = 0.6
    mask = (abs(yy - h / 2) < h / 5) & (abs(xx - w / 2) < w / 6)
    depth[mask] = 1.0
    rgb[mask] = (1.0, 0.0, 0.0)
    scene = Scene(
        image=torch.from_numpy(rgb).permute(2, 0, 1)[None].float(),
        depth=torch.from_numpy(depth)[None, None],
        K=intrinsics(focal, h, w),
    )
    return scene, mask


def red_centroid_x(image: np.ndarray) -> float:
    """Mean column of the strongly red pixels of an ``H×W×3 uint8`` image."""
    red = (image[..., 0].astype(int) > 180) & (image[..., 1].astype(int) < 90) & (image[..., 2].astype(int) < 90)
    assert red.sum() > 10, "the red square is not visible"
    return float(np.nonzero(red)[1].mean())
