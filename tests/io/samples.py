"""Small images shared by the io tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

RNG = np.random.default_rng(0)
NOISE8 = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
NOISE16 = RNG.integers(0, 65536, (5, 7, 3), dtype=np.uint16)


def smooth_image(h: int = 32, w: int = 48) -> np.ndarray:
    """A smooth colour gradient (lossy codecs keep it within a few levels)."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 128)], axis=2).astype(np.uint8)


def leftovers(folder: Path) -> list[str]:
    """Temporary files atomic_path may have left behind."""
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)
