"""Helpers shared by the tests: where the real data lives, skipping cleanly without it, and a photo with depth."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(
    os.environ.get("VIEWSHIFT_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
).resolve()


def require_shared_data(*parts: str) -> Path:
    """Return ``SHARED_DATA / parts``; skip the calling test with a clear reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"real data not found at {path} (set VIEWSHIFT_SHARED_DATA or place ../shared/data beside the repo)"
        )
    return path


def write_photo_and_depth(folder: Path) -> np.ndarray:
    """Write ``folder/photo.png`` and ``folder/depth.npy`` for command-line tests; return the photo.

    The photo is ``48×64×3 uint8`` random colours (seed 0); the depth ``48×64 float32`` is 2 everywhere but a
    near band (1) at columns 20–29.
    """
    from viewshift.io import write_image

    img = np.random.default_rng(0).integers(0, 256, (48, 64, 3)).astype(np.uint8)
    write_image(folder / "photo.png", img)
    depth = np.full((48, 64), 2.0, np.float32)
    depth[:, 20:30] = 1.0
    np.save(folder / "depth.npy", depth)
    return img
