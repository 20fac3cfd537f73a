"""PLY point cloud: one coloured 3-D point per sampled pixel (written with plyfile).

Binary little-endian PLY, element ``vertex`` with ``x y z`` (float32) and ``red green blue`` (uchar). Points are in
the source camera's frame with OpenCV axes (x right, y down, z forward), in the scene's translation unit; the
header's comments say so.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from viewshift import io as vio
from viewshift.export._scene import grid_points, grid_step
from viewshift.pipeline import Scene

DEFAULT_MAX_SIDE = 1024
"""Default number of samples along the longer image side."""

AXES_COMMENT = "viewshift: camera frame, OpenCV axes (x right, y down, z forward)"


def write_point_ply(
    path: str | os.PathLike[str],
    scene: Scene,
    *,
    overwrite: bool = False,
    inputs: tuple = (),
    max_side: int = DEFAULT_MAX_SIDE,
    step: int | None = None,
) -> list[Path]:
    """Write the scene's pixels as a coloured point cloud to a ``.ply`` file, atomically.

    Args:
        path: output ``.ply``.
        scene: the photo with depth.
        max_side: samples along the longer side (ignored when ``step`` is given).
        step: sample every ``step``-th pixel.

    Returns:
        ``[path]``.
    """
    from plyfile import PlyData, PlyElement

    p = vio.check_output(path, overwrite=overwrite, inputs=inputs, extensions=(".ply",))
    H, W = scene.size
    points, colours, _, _ = grid_points(scene, grid_step(H, W, max_side) if step is None else int(step))
    n = points.shape[0] * points.shape[1]
    vertex = np.empty(n, dtype=[(k, "f4") for k in "xyz"] + [(k, "u1") for k in ("red", "green", "blue")])
    for i, k in enumerate("xyz"):
        vertex[k] = points[..., i].ravel()
    for i, k in enumerate(("red", "green", "blue")):
        vertex[k] = colours[..., i].ravel()
    comments = [AXES_COMMENT, "viewshift: unit = the depth unit of the scene"]
    ply = PlyData([PlyElement.describe(vertex, "vertex")], comments=comments)
    with vio.atomic_path(p) as tmp:
        ply.write(str(tmp))
    return [p]
