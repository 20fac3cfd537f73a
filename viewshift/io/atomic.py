"""Output policy and the one atomic writer: every file viewshift writes goes through here.

:func:`check_output` refuses existing outputs unless ``overwrite``, outputs that are one of the inputs, missing
folders and unsupported extensions (one-line :class:`~viewshift.errors.OutputError`); :func:`atomic_path` gives a
temporary path in the same folder and ``os.replace`` s it onto the output when the block succeeds, so an output
is either complete or absent; :func:`write_bytes` and :func:`save_torch` write through it. Standard library only
(``save_torch`` imports torch when called).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

from viewshift.errors import OutputError

__all__ = ["atomic_path", "check_output", "save_torch", "write_bytes"]


def check_output(
    path: str | os.PathLike[str],
    *,
    overwrite: bool,
    inputs: Iterable[str | os.PathLike[str]] = (),
    extensions: Iterable[str] | None = None,
) -> Path:
    """Check that ``path`` may be written; every writer calls this before touching the disk.

    Args:
        path: the output file.
        overwrite: allow replacing an existing file.
        inputs: files this run reads; the output may never be one of them (even with ``overwrite``).
        extensions: lower-case extensions (with the dot) the caller can write, or ``None`` for any.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OutputError: unsupported extension, missing folder, the output is a folder, is one of ``inputs``, or
            exists and ``overwrite`` is false.
    """
    p = Path(path)
    if extensions is not None:
        allowed = tuple(extensions)
        if p.suffix.lower() not in allowed:
            raise OutputError(f"cannot write {p}: extension {p.suffix or '(none)'!r} not one of {', '.join(allowed)}")
    if not p.parent.is_dir():
        raise OutputError(f"cannot write {p}: folder {p.parent} does not exist; create it first")
    if p.is_dir():
        raise OutputError(f"cannot write {p}: it is a folder; give a file name")
    target = p.resolve()
    for given in inputs:
        q = Path(given)
        same = target == q.resolve()
        if not same and p.exists() and q.exists():
            with contextlib.suppress(OSError):
                same = os.path.samefile(p, q)
        if same:
            raise OutputError(f"refusing to write {p}: it is the input {q}; choose another output name")
    if p.exists() and not overwrite:
        raise OutputError(f"{p} already exists; choose another name or pass overwrite (--overwrite)")
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the folder of ``path``; move it onto ``path`` when the block succeeds.

    The temporary name keeps the real extension last (``.name.tmp-1a2b3c.png``), so writers that pick the
    format from the extension work. It is removed if the block raises, and the exception propagates; ``path``
    is then left as it was.

    Args:
        path: the final output file (call :func:`check_output` first).

    Yields:
        The temporary path to write (not created yet).

    Raises:
        OutputError: the block finished without creating the temporary file, or the rename failed.
    """
    p = Path(path)
    tmp = p.with_name(f".{p.stem}.tmp-{secrets.token_hex(4)}{p.suffix}")
    try:
        yield tmp
        if not tmp.exists():
            raise OutputError(f"writing {p} produced no file")
        try:
            os.replace(tmp, p)
        except OSError as exc:
            raise OutputError(f"cannot move the finished file onto {p}: {exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (call :func:`check_output` first).

    Raises:
        OutputError: the file could not be written (the OS error's reason in one line).
    """
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def save_torch(obj: object, path: str | os.PathLike[str]) -> None:
    """``torch.save(obj)`` to ``path`` atomically: checkpoints and model files are never left half-written.

    Args:
        obj: tensors and plain containers (what ``torch.load(..., weights_only=True)`` reads back).
        path: the output file (callers writing user-named outputs call :func:`check_output` first).

    Raises:
        OutputError: the file could not be moved into place; ``torch.save``'s own errors propagate unchanged.
    """
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
