"""Gaussian-splat PLY: one flat 3-D Gaussian per sampled pixel, in the attribute layout of 3-D Gaussian Splatting.

The file is what 3DGS viewers load (SuperSplat, the 3DGS reference viewer and its converters): binary PLY, element
``vertex`` with float32 properties

    x y z  nx ny nz  f_dc_0 f_dc_1 f_dc_2  opacity  scale_0 scale_1 scale_2  rot_0 rot_1 rot_2 rot_3

written with plyfile. Conventions of that format:

- colour as the degree-0 spherical-harmonic coefficient: ``f_dc = (c − 0.5) / C0`` with ``C0 = 0.28209479177387814``
  (``1 / (2 √π)``) and ``c`` in [0, 1]; no higher-degree coefficients (``f_rest_*`` absent: view-independent colour);
- ``opacity`` stored as a logit: ``α = sigmoid(opacity)``;
- ``scale_*`` stored as natural logs of the Gaussian's standard deviations along its local axes;
- ``rot_*`` a unit quaternion ``(w, x, y, z)``; here the identity, so the Gaussians' axes are the camera's.

Each Gaussian sits at its pixel's 3-D point (OpenCV camera axes: x right, y down, z forward — the frame 3DGS
scenes use) and covers its share of the image: standard deviation ``σ = 0.5 · step · z / f`` across the view and
``σ_z = 0.1 σ`` along it (a flat disc facing the camera); normals are zero.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from viewshift import io as vio
from viewshift.errors import InputError
from viewshift.export._scene import grid_points, grid_step
from viewshift.pipeline import Scene

SH_C0 = 0.28209479177387814
"""Degree-0 spherical-harmonic constant ``1 / (2 √π)``."""
DEFAULT_MAX_SIDE = 1024
DEFAULT_OPACITY = 0.98
THICKNESS = 0.1
"""Standard deviation along the view axis as a share of the one across it."""

PROPERTIES = (
    ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity"]
    + [f"scale_{i}" for i in range(3)]
    + [f"rot_{i}" for i in range(4)]
)


def scene_to_splats(
    scene: Scene, *, max_side: int = DEFAULT_MAX_SIDE, step: int | None = None, opacity: float = DEFAULT_OPACITY
) -> np.ndarray:
    """The scene as Gaussians in the 3DGS layout.

    Returns:
        ``(N,)`` structured float32 array with the fields of :data:`PROPERTIES`.
    """
    if not 0.0 < opacity < 1.0:
        raise InputError(f"splat opacity must lie strictly between 0 and 1, got {opacity}")
    H, W = scene.size
    step = grid_step(H, W, max_side) if step is None else int(step)
    points, colours, _, _ = grid_points(scene, step)
    xyz = points.reshape(-1, 3)
    n = xyz.shape[0]
    out = np.zeros(n, dtype=[(k, "f4") for k in PROPERTIES])
    for i, k in enumerate("xyz"):
        out[k] = xyz[:, i]
    rgb = colours.reshape(-1, 3).astype(np.float32) / 255.0
    for i in range(3):
        out[f"f_dc_{i}"] = (rgb[:, i] - 0.5) / SH_C0
    out["opacity"] = np.log(opacity / (1.0 - opacity))
    sigma = 0.5 * step * xyz[:, 2] / scene.focal
    out["scale_0"] = out["scale_1"] = np.log(sigma)
    out["scale_2"] = np.log(THICKNESS * sigma)
    out["rot_0"] = 1.0
    return out


def write_splat_ply(
    path: str | os.PathLike[str],
    scene: Scene,
    *,
    overwrite: bool = False,
    inputs: tuple = (),
    max_side: int = DEFAULT_MAX_SIDE,
    step: int | None = None,
) -> list[Path]:
    """Write the scene as a Gaussian-splat ``.ply`` (3DGS layout), atomically.

    Returns:
        ``[path]``.
    """
    from plyfile import PlyData, PlyElement

    p = vio.check_output(path, overwrite=overwrite, inputs=inputs, extensions=(".ply",))
    splats = scene_to_splats(scene, max_side=max_side, step=step)
    ply = PlyData([PlyElement.describe(splats, "vertex")])
    with vio.atomic_path(p) as tmp:
        ply.write(str(tmp))
    return [p]
