"""A Looking Glass quilt: many views of the scene from a row of cameras, tiled into one image.

Looking Glass displays (and their web viewers) read a quilt from one image whose name ends in
``_qs{cols}x{rows}a{aspect}`` (e.g. ``photo_qs8x6a0.75.png``): ``cols × rows`` tiles, each one view with width/height
``aspect``. View 0 is the leftmost camera and sits in the bottom-left tile; views go left to right along a row, and
rows go upwards. The cameras sit on a horizontal line and share one focal plane (the scene's median depth, shown
at zero parallax): each camera is shifted sideways and its principal point shifted to match (off-axis, no toe-in).
The spread of the cameras is set by ``divergence``: the largest parallax between the two outermost views, percent of
the tile width.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from viewshift import io as vio
from viewshift.errors import InputError
from viewshift.export._scene import resize_scene
from viewshift.pipeline import Move, Scene, ViewOptions, move_for_divergence

DEFAULT_COLS, DEFAULT_ROWS = 8, 6
"""Looking Glass Portrait's quilt: 48 views."""
DEFAULT_QUILT_WIDTH = 3360
DEFAULT_DIVERGENCE = 4.0

_SUFFIX = re.compile(r"_qs(\d+)x(\d+)a([0-9.]+)$")


def quilt_name(path: str | os.PathLike[str], cols: int, rows: int, aspect: float) -> Path:
    """``path`` with the quilt suffix the viewers read, unless its name already has one.

    >>> quilt_name("out/photo.png", 8, 6, 0.75).name, quilt_name("q_qs5x9a1.6.jpg", 5, 9, 1.6).name
    ('photo_qs8x6a0.75.png', 'q_qs5x9a1.6.jpg')
    """
    p = Path(path)
    if _SUFFIX.search(p.stem):
        return p
    return p.with_name(f"{p.stem}_qs{cols}x{rows}a{aspect:.4g}{p.suffix}")


def parse_quilt_name(name: str) -> tuple[int, int, float] | None:
    """``(cols, rows, aspect)`` from a quilt file name, or ``None``.

    >>> parse_quilt_name("photo_qs8x6a0.75.png")
    (8, 6, 0.75)
    """
    m = _SUFFIX.search(Path(name).stem)
    return (int(m.group(1)), int(m.group(2)), float(m.group(3))) if m else None


def render_quilt(
    scene: Scene,
    *,
    cols: int = DEFAULT_COLS,
    rows: int = DEFAULT_ROWS,
    quilt_width: int = DEFAULT_QUILT_WIDTH,
    divergence: float = DEFAULT_DIVERGENCE,
    options: ViewOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, float]:
    """Render the quilt.

    Args:
        scene: the photo with depth.
        cols, rows: tiles across and up (views = cols · rows, at least 2).
        quilt_width: width of the whole quilt in pixels; each tile is ``quilt_width // cols`` wide and keeps the
            photo's aspect ratio.
        divergence: parallax between the outermost views, percent of the tile width.
        options: rendering options (the border is always filled).
        progress: called with ``(views done, views)`` after each view.

    Returns:
        ``(quilt, aspect)``: ``(rows·th)×(cols·tw)×3 uint8`` and the tile aspect ``tw / th``.
    """
    if not (1 <= cols <= 32 and 1 <= rows <= 32 and cols * rows >= 2):
        raise InputError(f"a quilt needs 1..32 columns and rows and at least 2 views, got {cols}x{rows}")
    if not 64 <= quilt_width <= 8192:
        raise InputError(f"quilt width must be between 64 and 8192 pixels, got {quilt_width}")
    H, W = scene.size
    tw = quilt_width // cols
    th = max(2, round(tw * H / W))
    tile_scene = resize_scene(scene, tw, th)
    span = move_for_divergence(tile_scene, Move(right=1.0), divergence).right
    focus = float(tile_scene.depth.median())
    n = cols * rows
    quilt = np.zeros((rows * th, cols * tw, 3), np.uint8)
    opts = replace(options or ViewOptions(), border="fill")
    for i in range(n):
        x = span * (i / (n - 1) - 0.5)
        K_new = tile_scene.K.clone()
        K_new[:, 0, 2] += tile_scene.focal * x / focus
        view = tile_scene.render(Move(right=x).pose(), options=opts, K_new=K_new)
        r, c = divmod(i, cols)
        y0 = (rows - 1 - r) * th
        quilt[y0 : y0 + th, c * tw : (c + 1) * tw] = view.image[..., :3]
        if progress is not None:
            progress(i + 1, n)
    return quilt, tw / th


def write_quilt(
    path: str | os.PathLike[str],
    scene: Scene,
    *,
    overwrite: bool = False,
    inputs: tuple = (),
    cols: int = DEFAULT_COLS,
    rows: int = DEFAULT_ROWS,
    quilt_width: int = DEFAULT_QUILT_WIDTH,
    divergence: float = DEFAULT_DIVERGENCE,
    options: ViewOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Render and write a quilt (``.png`` or ``.jpg``); the name gets the ``_qs{cols}x{rows}a{aspect}`` suffix
    when it has none.

    Returns:
        ``[the file written]`` (its name may carry the added suffix).
    """
    H, W = scene.size
    tw = quilt_width // cols
    aspect = tw / max(2, round(tw * H / W))
    p = vio.check_output(
        quilt_name(path, cols, rows, aspect), overwrite=overwrite, inputs=inputs, extensions=(".png", ".jpg", ".jpeg")
    )
    quilt, _ = render_quilt(
        scene, cols=cols, rows=rows, quilt_width=quilt_width, divergence=divergence, options=options, progress=progress
    )
    vio.write_image(p, quilt, overwrite=overwrite, inputs=inputs)
    return [p]
