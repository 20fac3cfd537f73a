"""Input files: the checks every reader makes, and command-line inputs (file, folder, glob) as image files."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from viewshift.errors import InputError

__all__ = ["IMAGE_EXTENSIONS", "check_input_file", "expand_inputs", "folder_images"]

#: Extensions :func:`read_image` and :func:`expand_inputs` accept (lower case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm")


def check_input_file(path: str | os.PathLike[str], what: str) -> Path:
    """Return ``path`` as a Path after checking that it is an existing, non-empty file."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} not found: {p}")
    if p.is_dir():
        raise InputError(f"{what} {p} is a folder; give a file")
    if p.stat().st_size == 0:
        raise InputError(f"{what} {p} is empty (0 bytes); give a valid file")
    return p


def expand_inputs(spec: str | os.PathLike[str]) -> list[Path]:
    """Turn a command-line input into image files.

    Args:
        spec: a file (returned as is), a folder (its images with an extension in :data:`IMAGE_EXTENSIONS`,
            not recursive, hidden files skipped, sorted by name), or a glob pattern (matching files, sorted).

    Returns:
        The files, at least one.

    Raises:
        InputError: nothing matches, or the folder holds no images.
    """
    p = Path(spec)
    if p.is_file():
        return [p]
    if p.is_dir():
        return folder_images(p)
    if glob.has_magic(str(spec)):
        found = sorted(Path(m) for m in glob.glob(str(spec), recursive=True) if Path(m).is_file())
        if not found:
            raise InputError(f"no files match {str(spec)!r}; check the pattern")
        return found
    raise InputError(f"input not found: {p}")


def folder_images(folder: Path, pattern: str = "*", at_least: int = 1) -> list[Path]:
    """The images of ``folder`` (extension in :data:`IMAGE_EXTENSIONS`) matching ``pattern``, not recursive, hidden
    files left out, sorted by name.

    Raises:
        InputError: fewer than ``at_least``; when there are none, the message names a sub-folder that holds images
            (a capture's ``images/``), if there is one.
    """

    def images(d: Path, glob: str = "*") -> list[Path]:
        ok = (q for q in d.glob(glob) if q.is_file() and not q.name.startswith("."))
        return sorted(q for q in ok if q.suffix.lower() in IMAGE_EXTENSIONS)

    found = images(folder, pattern)
    if len(found) < at_least:
        where = f" matching {pattern!r}" if pattern != "*" else ""
        inner = [d.name for d in sorted(folder.iterdir()) if d.is_dir() and images(d)] if not found else []
        hint = f"; its folder {inner[0]}/ does: give that" if inner else f" ({', '.join(IMAGE_EXTENSIONS)})"
        need = "no images" if not found else f"{len(found)} images"
        at = f"; need at least {at_least}" if at_least > 1 else ""
        raise InputError(f"folder {folder} holds {need}{where}{at}{hint}")
    return found
