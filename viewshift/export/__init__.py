"""3-D photo exports of a :class:`~viewshift.pipeline.Scene`: one module per format, one entry point.

=============== =================== ===========================================================================
format          written as          module
=============== =================== ===========================================================================
``mesh``        ``.glb`` ``.gltf``  :mod:`~viewshift.export.mesh`: textured mesh cut at depth edges (trimesh)
``points``      ``.ply``            :mod:`~viewshift.export.points`: coloured point cloud (plyfile)
``splats``      ``.ply``            :mod:`~viewshift.export.splats`: Gaussian splats, 3DGS layout (plyfile)
``depth-jpeg``  ``.jpg``            :mod:`~viewshift.export.depth_jpeg`: JPEG with GDepth XMP depth
``photo-depth`` ``.jpg`` ``.png``   :mod:`~viewshift.export.photo_depth`: photo + ``_depth`` image (3-D photo upload)
``quilt``       ``.png`` ``.jpg``   :mod:`~viewshift.export.quilt`: Looking Glass quilt ``_qs{c}x{r}a{aspect}``
``left-right``  image               :mod:`~viewshift.export.stereo_files`: ``_left`` and ``_right`` image files
=============== =================== ===========================================================================

:func:`export_scene` writes any of them; :func:`infer_format` picks the format from an output name when it is
unambiguous. Every file goes through :func:`viewshift.io.check_output` and :func:`viewshift.io.atomic_path`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from viewshift.errors import InputError

if TYPE_CHECKING:  # the package imports no torch until an export runs (`viewshift export --help` stays fast)
    from viewshift.pipeline import Scene, ViewOptions

__all__ = ["FORMATS", "ExportOptions", "export_scene", "infer_format", "planned_outputs"]


@dataclass(frozen=True)
class ExportFormat:
    """One export: its extensions and a one-line description (for help texts and the web page)."""

    extensions: tuple[str, ...]
    description: str


FORMATS: dict[str, ExportFormat] = {
    "mesh": ExportFormat((".glb", ".gltf"), "textured mesh, cut at depth edges (glTF binary)"),
    "points": ExportFormat((".ply",), "coloured point cloud (PLY)"),
    "splats": ExportFormat((".ply",), "Gaussian splats in the 3DGS layout (PLY)"),
    "depth-jpeg": ExportFormat((".jpg", ".jpeg"), "JPEG with depth inside (Google GDepth XMP)"),
    "photo-depth": ExportFormat((".jpg", ".jpeg", ".png"), "photo + NAME_depth image for 3-D photo uploads"),
    "quilt": ExportFormat((".png", ".jpg", ".jpeg"), "Looking Glass quilt (NAME_qs8x6a1.33.png)"),
    "left-right": ExportFormat((".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"), "NAME_left and NAME_right images"),
}


@dataclass(frozen=True)
class ExportOptions:
    """Settings of the exports (each format reads the ones it uses).

    Attributes:
        max_side: samples along the longer image side for mesh, points and splats (``None``: each format's default:
            512 for meshes, 1024 for point clouds and splats).
        edge_ratio: mesh triangles with ``max(z) / min(z)`` above this span a depth edge and are dropped.
        cols, rows: quilt tiles across and up.
        quilt_width: quilt width in pixels.
        divergence: parallax (percent of the width) between the outermost quilt views or between the two eyes
            (``None``: 4 for quilts, 2.5 for a stereo pair).
        view: rendering options of quilts and stereo eyes (``None``: :class:`~viewshift.pipeline.ViewOptions`'s
            defaults).
    """

    max_side: int | None = None
    edge_ratio: float = 1.1
    cols: int = 8
    rows: int = 6
    quilt_width: int = 3360
    divergence: float | None = None
    view: ViewOptions | None = None


def infer_format(path: str | os.PathLike[str]) -> str:
    """The format an output name asks for, when it is unambiguous.

    ``.glb``/``.gltf`` → mesh, ``.ply`` → points, a name ending in ``_qs{c}x{r}a{aspect}`` → quilt, ``.jpg`` →
    depth-jpeg. Anything else needs an explicit format.

    >>> [infer_format(n) for n in ("a.glb", "a.ply", "a.jpg", "a_qs8x6a0.75.png")]
    ['mesh', 'points', 'depth-jpeg', 'quilt']
    """
    from viewshift.export.quilt import parse_quilt_name

    p = Path(path)
    ext = p.suffix.lower()
    if ext in (".glb", ".gltf"):
        return "mesh"
    if ext == ".ply":
        return "points"
    if parse_quilt_name(p.name) is not None:
        return "quilt"
    if ext in (".jpg", ".jpeg"):
        return "depth-jpeg"
    raise InputError(f"cannot tell the export format from {p.name!r}; give --format ({', '.join(FORMATS)})")


def planned_outputs(path: str | os.PathLike[str], fmt: str) -> list[Path]:
    """The files an export to ``path`` will write, as far as they are known before the scene is (a quilt's name
    depends on the photo's aspect, so it is checked later).

    >>> [p.name for p in planned_outputs("a/pair.png", "left-right")]
    ['pair_left.png', 'pair_right.png']
    """
    p = Path(path)
    if fmt == "left-right":
        from viewshift.export.stereo_files import eye_names

        return list(eye_names(p))
    if fmt == "photo-depth":
        from viewshift.export.photo_depth import depth_name

        return [p, depth_name(p)]
    return [] if fmt == "quilt" else [p]


def export_scene(
    scene: Scene,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    options: ExportOptions = ExportOptions(),
    overwrite: bool = False,
    inputs: tuple = (),
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write ``scene`` in format ``fmt`` (default: :func:`infer_format` of ``path``).

    Args:
        scene: the photo with depth (:func:`viewshift.pipeline.prepare_scene`).
        path: the output; multi-file formats derive their names from it (see each module).
        fmt: one of :data:`FORMATS`.
        options: see :class:`ExportOptions`.
        overwrite: replace existing outputs.
        inputs: files this run reads (never overwritten).
        progress: ``(done, total)`` callback of the quilt's views.

    Returns:
        The files written.
    """
    fmt = infer_format(path) if fmt is None else fmt
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    ext = Path(path).suffix.lower()
    if ext not in FORMATS[fmt].extensions:
        raise InputError(f"a {fmt} export is written as {', '.join(FORMATS[fmt].extensions)}, not {ext or '(none)'}")
    common = {"overwrite": overwrite, "inputs": inputs}
    sampling = {} if options.max_side is None else {"max_side": options.max_side}
    if fmt == "mesh":
        from viewshift.export.mesh import write_gltf

        return write_gltf(path, scene, edge_ratio=options.edge_ratio, **sampling, **common)
    if fmt == "points":
        from viewshift.export.points import write_point_ply

        return write_point_ply(path, scene, **sampling, **common)
    if fmt == "splats":
        from viewshift.export.splats import write_splat_ply

        return write_splat_ply(path, scene, **sampling, **common)
    if fmt == "depth-jpeg":
        from viewshift.export.depth_jpeg import write_depth_jpeg

        return write_depth_jpeg(path, scene, **common)
    if fmt == "photo-depth":
        from viewshift.export.photo_depth import write_photo_depth

        return write_photo_depth(path, scene, **common)
    divergence = {} if options.divergence is None else {"divergence": options.divergence}
    if fmt == "quilt":
        from viewshift.export.quilt import write_quilt

        return write_quilt(
            path,
            scene,
            cols=options.cols,
            rows=options.rows,
            quilt_width=options.quilt_width,
            options=options.view,
            progress=progress,
            **divergence,
            **common,
        )
    from viewshift.export.stereo_files import write_left_right

    return write_left_right(path, scene, options=options.view, **divergence, **common)
