"""The photo and its depth as two images, for sites and apps that build 3-D photos from such a pair.

Facebook's 3-D photos take ``NAME.jpg`` uploaded together with ``NAME_depth.jpg``: a grey image of the same size
where lighter means nearer. This writes exactly that pair: the photo (JPEG, quality 95) and ``<stem>_depth`` with
inverse depth stretched over 0…255 (the nearest point white, the farthest black; inverse depth keeps the levels
where the eye sees depth). The depth image is a PNG when the output is named ``.png`` and a JPEG otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from viewshift import io as vio
from viewshift.export._scene import scene_depth, scene_rgb
from viewshift.pipeline import Scene


def depth_to_grey(depth: np.ndarray) -> np.ndarray:
    """``H×W`` depth → ``H×W uint8`` inverse depth, nearest = 255, farthest = 0 (constant depth: all 255).

    >>> depth_to_grey(np.array([[1.0, 2.0, 4.0]])).tolist()
    [[255, 85, 0]]
    """
    inv = 1.0 / np.asarray(depth, np.float64)
    lo, hi = float(inv.min()), float(inv.max())
    v = (inv - lo) / (hi - lo) if hi > lo else np.ones_like(inv)
    return np.rint(v * 255.0).astype(np.uint8)


def depth_name(path: str | os.PathLike[str]) -> Path:
    """The depth image's name for a photo written to ``path``: ``a/b.jpg`` → ``a/b_depth.jpg``."""
    p = Path(path)
    return p.with_name(f"{p.stem}_depth{p.suffix}")


def write_photo_depth(
    path: str | os.PathLike[str], scene: Scene, *, overwrite: bool = False, inputs: tuple = ()
) -> list[Path]:
    """Write ``path`` (the photo) and ``<stem>_depth<ext>`` (lighter = nearer) beside it.

    Returns:
        ``[photo, depth image]``.
    """
    exts = (".jpg", ".jpeg", ".png")
    photo = vio.check_output(path, overwrite=overwrite, inputs=inputs, extensions=exts)
    depth = vio.check_output(depth_name(photo), overwrite=overwrite, inputs=inputs, extensions=exts)
    vio.write_image(photo, scene_rgb(scene), overwrite=overwrite, inputs=inputs)
    vio.write_image(depth, depth_to_grey(scene_depth(scene)), overwrite=overwrite, inputs=inputs)
    return [photo, depth]
