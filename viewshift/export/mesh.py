"""glTF / GLB: the photo as a textured mesh over its depth, cut at depth edges (written with trimesh).

The mesh is a grid over the image (one vertex every ``step`` pixels, two triangles per grid cell). A triangle
whose vertices' depths differ by more than the ratio ``edge_ratio`` (``max(z) / min(z)``) spans a depth
discontinuity and is dropped, so foreground and background are not joined by stretched "rubber sheet" triangles.

Axes follow glTF: +x right, +y up, the camera at the origin looking down −z (a point at depth ``z`` in front of the
camera has glTF coordinates ``(X, −Y, −z)`` from the OpenCV camera frame ``(X, Y, z)``). Units are the scene's
translation unit (metres for metric depth; relative depth is scaled to ``scene_distance``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viewshift import io as vio
from viewshift.errors import InputError
from viewshift.export._scene import grid_points, grid_step
from viewshift.pipeline import Scene

DEFAULT_EDGE_RATIO = 1.1
"""Largest depth ratio ``max(z) / min(z)`` inside one triangle; above it the triangle spans a depth edge."""
DEFAULT_MAX_SIDE = 512
"""Default number of grid vertices along the longer image side."""


@dataclass
class GridMesh:
    """A triangle mesh over the image grid.

    Attributes:
        vertices: ``(V, 3)`` float32 in glTF axes (x right, y up, −z forward).
        faces: ``(F, 3)`` int64 vertex indices, counter-clockwise seen from the camera.
        uv: ``(V, 2)`` float32 texture coordinates, origin at the image's top-left (glTF convention), pixel centres.
        texture: ``H×W×3 uint8`` the photo.
        dropped: number of triangles dropped at depth edges.
    """

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    texture: np.ndarray
    dropped: int


def scene_to_mesh(
    scene: Scene, *, max_side: int = DEFAULT_MAX_SIDE, step: int | None = None, edge_ratio: float = DEFAULT_EDGE_RATIO
) -> GridMesh:
    """Triangulate the scene's depth on a pixel grid and drop triangles across depth edges.

    Args:
        scene: the photo with depth.
        max_side: grid vertices along the longer side (ignored when ``step`` is given).
        step: grid spacing in pixels (default from ``max_side``).
        edge_ratio: keep a triangle only if ``max(z) / min(z) <= edge_ratio`` over its three vertices (> 1).

    Returns:
        :class:`GridMesh`.
    """
    if not (np.isfinite(edge_ratio) and edge_ratio > 1.0):
        raise InputError(f"edge ratio must be a number above 1 (e.g. 1.1), got {edge_ratio}")
    H, W = scene.size
    step = grid_step(H, W, max_side) if step is None else int(step)
    if step < 1:
        raise InputError(f"grid step must be at least 1 pixel, got {step}")
    points, _, xs, ys = grid_points(scene, step)
    gh, gw = points.shape[:2]
    index = np.arange(gh * gw).reshape(gh, gw)
    a, b = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()  # top-left, top-right of each cell
    c, d = index[1:, :-1].ravel(), index[1:, 1:].ravel()  # bottom-left, bottom-right
    faces = np.concatenate([np.stack([a, c, b], 1), np.stack([b, c, d], 1)])
    z = points[..., 2].ravel()[faces]
    keep = z.max(axis=1) <= edge_ratio * z.min(axis=1)
    vertices = points.reshape(-1, 3) * np.array([1.0, -1.0, -1.0], np.float32)
    u = (xs + 0.5) / W
    v = (ys + 0.5) / H
    uv = np.stack(np.broadcast_arrays(u[None, :], v[:, None]), -1).reshape(-1, 2).astype(np.float32)
    from viewshift.export._scene import scene_rgb

    return GridMesh(
        vertices=np.ascontiguousarray(vertices, np.float32),
        faces=faces[keep].astype(np.int64),
        uv=uv,
        texture=scene_rgb(scene),
        dropped=int((~keep).sum()),
    )


def mesh_to_glb_bytes(mesh: GridMesh, file_type: str = "glb") -> bytes:
    """Encode a :class:`GridMesh` as GLB (or ``file_type="gltf"``: one JSON file with embedded buffers) via trimesh.

    The texture is embedded as a PNG; the material is unlit-looking PBR (metallic 0, roughness 1, double-sided).
    """
    import trimesh
    from PIL import Image

    # trimesh keeps UVs with the origin at the bottom-left (OpenGL) and flips v when it writes glTF.
    uv = mesh.uv.copy()
    uv[:, 1] = 1.0 - uv[:, 1]
    material = trimesh.visual.material.PBRMaterial(
        baseColorTexture=Image.fromarray(mesh.texture),
        metallicFactor=0.0,
        roughnessFactor=1.0,
        doubleSided=True,
    )
    tm = trimesh.Trimesh(
        vertices=mesh.vertices,
        faces=mesh.faces,
        visual=trimesh.visual.TextureVisuals(uv=uv, material=material),
        process=False,
        validate=False,
    )
    if file_type == "gltf":
        data = trimesh.exchange.gltf.export_gltf(tm, embed_buffers=True)
        return data["model.gltf"]
    return trimesh.exchange.gltf.export_glb(tm)


def write_gltf(
    path: str | os.PathLike[str],
    scene: Scene,
    *,
    overwrite: bool = False,
    inputs: tuple = (),
    max_side: int = DEFAULT_MAX_SIDE,
    step: int | None = None,
    edge_ratio: float = DEFAULT_EDGE_RATIO,
) -> list[Path]:
    """Write the scene as a textured mesh to ``path`` (``.glb``, or ``.gltf`` with embedded data), atomically.

    Returns:
        ``[path]``.
    """
    p = vio.check_output(path, overwrite=overwrite, inputs=inputs, extensions=(".glb", ".gltf"))
    mesh = scene_to_mesh(scene, max_side=max_side, step=step, edge_ratio=edge_ratio)
    data = mesh_to_glb_bytes(mesh, "gltf" if p.suffix.lower() == ".gltf" else "glb")
    with vio.atomic_path(p) as tmp:
        tmp.write_bytes(data)
    return [p]
