"""The two eyes of a stereo pair as separate image files: ``<stem>_left<ext>`` and ``<stem>_right<ext>``."""

from __future__ import annotations

import os
from pathlib import Path

from viewshift import io as vio
from viewshift.pipeline import DEFAULT_DIVERGENCE, Scene, ViewOptions, stereo_pair


def eye_names(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``pair.png`` → ``(pair_left.png, pair_right.png)``."""
    p = Path(path)
    return p.with_name(f"{p.stem}_left{p.suffix}"), p.with_name(f"{p.stem}_right{p.suffix}")


def write_left_right(
    path: str | os.PathLike[str],
    scene: Scene,
    *,
    overwrite: bool = False,
    inputs: tuple = (),
    divergence: float = DEFAULT_DIVERGENCE,
    options: ViewOptions | None = None,
) -> list[Path]:
    """Render a stereo pair (:func:`viewshift.pipeline.stereo_pair`, eyes split evenly around the photo) and write
    each eye to its own file.

    Args:
        path: names the pair: ``pair.png`` writes ``pair_left.png`` and ``pair_right.png``.
        scene: the photo with depth.
        divergence: largest parallax between the eyes, percent of the image width.
        options: rendering options.

    Returns:
        ``[left, right]``.
    """
    left_path, right_path = eye_names(path)
    exts = vio.IMAGE_EXTENSIONS[:6]
    for q in (left_path, right_path):
        vio.check_output(q, overwrite=overwrite, inputs=inputs, extensions=exts)
    left, right = stereo_pair(scene, divergence=divergence, options=options or ViewOptions())
    vio.write_image(left_path, left.image, overwrite=overwrite, inputs=inputs)
    vio.write_image(right_path, right.image, overwrite=overwrite, inputs=inputs)
    return [left_path, right_path]
