"""Input files: the checks every reader makes, and command-line inputs (file, folder, glob) as image files."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from viewshift.errors import InputError

__all__ = ["IMAGE_EXTENSIONS", "check_input_file", "expand_inputs"]

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
        found = sorted(
            q
            for q in p.iterdir()
            if q.is_file() and not q.name.startswith(".") and q.suffix.lower() in IMAGE_EXTENSIONS
        )
        if not found:
            raise InputError(f"folder {p} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        return found
    if glob.has_magic(str(spec)):
        found = sorted(Path(m) for m in glob.glob(str(spec), recursive=True) if Path(m).is_file())
        if not found:
            raise InputError(f"no files match {str(spec)!r}; check the pattern")
        return found
    raise InputError(f"input not found: {p}")
