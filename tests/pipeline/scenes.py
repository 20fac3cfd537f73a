"""Tiny inputs shared by the pipeline tests."""

from __future__ import annotations

import numpy as np


def random_image(h: int = 40, w: int = 64, seed: int = 0, dtype=np.uint8) -> np.ndarray:
    """``h×w×3`` uniform noise (every pixel distinct enough to track exact shifts)."""
    rng = np.random.default_rng(seed)
    top = 255 if dtype == np.uint8 else 65535
    return rng.integers(0, top + 1, (h, w, 3)).astype(dtype)
