"""Fetching a registry model's file: streamed, resumable, SHA-256 verified, moved into place atomically.

Nothing here runs unless the user asked for a download (``viewshift models get NAME`` or ``--download``). The file
is streamed into ``<name>.part`` beside its final place in the cache folder, with a progress bar. An interrupted
download keeps its ``.part`` file, and the next attempt asks the server for the rest only (an HTTP ``Range``
request; a server that ignores it sends everything again). The finished ``.part`` is checked against the entry's
published size and SHA-256 and only then renamed onto the final name (``os.replace``, atomic on one file system):
a file under the final name is always complete and verified. Every failure is a one-line
:class:`DownloadError` that names the URL and says where to put the file to install it by hand.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from viewshift.depth.registry import ModelEntry, file_sha256, model_path, pinned_path
from viewshift.errors import InputError, ModelError, OutputError

__all__ = [
    "ChecksumError",
    "DownloadError",
    "DownloadResult",
    "HTTPStatusError",
    "IncompleteDownloadError",
    "NetworkError",
    "UnverifiedError",
    "download_file",
    "download_model",
]

CHUNK = 1 << 16


class DownloadError(ModelError):
    """A model file could not be downloaded."""


class NetworkError(DownloadError):
    """The server could not be reached (no network, DNS failure, connection refused, timeout)."""


class HTTPStatusError(DownloadError):
    """The server answered with an HTTP error (404, 403, 500, ...)."""


class IncompleteDownloadError(DownloadError):
    """The connection ended before the whole file arrived; the ``.part`` file is kept for resuming."""


class ChecksumError(DownloadError):
    """A file's size or SHA-256 differs from the published one (a downloaded one is removed)."""


class UnverifiedError(DownloadError):
    """The entry has no published SHA-256 and the caller did not accept an unverified download."""


@dataclass(frozen=True)
class DownloadResult:
    """What :func:`download_file` did.

    Attributes:
        path: the installed file.
        sha256: its SHA-256 (lower-case hex), computed from the bytes written.
        verified: ``True`` when it matched a published SHA-256; ``False`` when none was published.
        resumed_from: bytes already on disk from an earlier attempt (0: a fresh download).
        downloaded: bytes fetched by this call.
    """

    path: Path
    sha256: str
    verified: bool
    resumed_from: int
    downloaded: int


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:160]


def download_file(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str | None,
    size: int | None = None,
    quiet: bool = False,
    timeout: float = 30.0,
    by_hand: str = "",
) -> DownloadResult:
    """Download ``url`` to ``dest`` through ``dest.part``: resumable, verified, atomically renamed.

    Args:
        url: the file's URL (``http://`` or ``https://``).
        dest: the final path; its folder is created.
        sha256: the expected SHA-256 (lower-case hex), or ``None`` to skip that check (the caller must have made
            the user accept this).
        size: the expected size in bytes, or ``None``.
        quiet: no progress bar.
        timeout: seconds to wait for the connection and for each read.
        by_hand: appended to network error messages (how to install the file by hand).

    Returns:
        A :class:`DownloadResult`.

    Raises:
        NetworkError: the server cannot be reached.
        HTTPStatusError: the server answered with an HTTP error.
        IncompleteDownloadError: the connection ended early (run again to resume from the ``.part`` file).
        ChecksumError: the finished file's size or SHA-256 is wrong (the ``.part`` file is removed).
        OutputError: the cache folder cannot be written.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the model folder {dest.parent}: {exc.strerror or exc}") from exc
    hint = f"; {by_hand}" if by_hand else ""
    with _exclusive(dest):
        return _download_locked(url, dest, part, sha256=sha256, size=size, quiet=quiet, timeout=timeout, hint=hint)


@contextlib.contextmanager
def _exclusive(dest: Path) -> Iterator[None]:
    """Hold ``dest.lock`` while downloading, so two downloads of one file do not write one ``.part`` together."""
    lock_path = dest.with_name(dest.name + ".lock")
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; concurrent downloads are the user's to avoid
        yield
        return
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise DownloadError(f"another download of {dest.name} is running (it holds {lock_path})") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _download_locked(
    url: str, dest: Path, part: Path, *, sha256: str | None, size: int | None, quiet: bool, timeout: float, hint: str
) -> DownloadResult:
    """:func:`download_file` once ``dest``'s lock is held."""
    have = part.stat().st_size if part.is_file() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    fetched = 0
    if size is None or have < size:
        fetched = _fetch(url, part, have, size, quiet=quiet, timeout=timeout, hint=hint)
        have = part.stat().st_size
    start = have - fetched

    if size is not None and have != size:
        part.unlink(missing_ok=True)
        raise ChecksumError(
            f"{url} sent {have} bytes but the file is {size} bytes; the download was removed, try again{hint}"
        )
    digest = file_sha256(part)
    if sha256 is not None and digest != sha256.lower():
        part.unlink(missing_ok=True)
        raise ChecksumError(
            f"SHA-256 of the file from {url} is {digest[:16]}…, expected {sha256[:16]}…; the download was removed, "
            f"try again{hint}"
        )
    try:
        os.replace(part, dest)
    except OSError as exc:
        raise OutputError(f"cannot move the finished download onto {dest}: {exc.strerror or exc}") from exc
    return DownloadResult(dest, digest, sha256 is not None, start, fetched)


def _fetch(url: str, part: Path, have: int, size: int | None, *, quiet: bool, timeout: float, hint: str) -> int:
    """Append the rest of ``url`` (from byte ``have``) to ``part``; the number of bytes fetched."""
    headers = {"User-Agent": "viewshift (model download)", "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) URLs from the registry
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the .part file already holds everything
            return 0
        raise HTTPStatusError(f"HTTP {exc.code} {exc.reason} from {url}{hint}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise NetworkError(f"cannot reach {url} ({_reason(exc)}){hint}") from exc

    with response:
        status = getattr(response, "status", 200)
        if have and (status != 206 or _range_start(response.headers.get("Content-Range")) != have):
            have = 0  # the server ignored the Range request: start again from the first byte
            if status == 206:  # a part we did not ask for: ask again for the whole file
                part.unlink(missing_ok=True)
                return _fetch(url, part, 0, size, quiet=quiet, timeout=timeout, hint=hint)
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else size
        mode = "ab" if have else "wb"
        got = 0
        from tqdm import tqdm

        bar = tqdm(
            total=total, initial=have, unit="B", unit_scale=True, unit_divisor=1024, desc=part.name[:-5],
            disable=quiet, leave=False,
        )  # fmt: skip
        try:
            f = open(part, mode)  # noqa: SIM115 - closed below, after the read loop
        except OSError as exc:
            raise OutputError(f"cannot write {part}: {exc.strerror or exc}") from exc
        with f, bar:
            while True:
                try:
                    block = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as exc:  # reset, timeout, IncompleteRead
                    partial = getattr(exc, "partial", b"")
                    _write(f, part, partial)
                    raise _incomplete(url, part, have + got + len(partial), total, _reason(exc)) from exc
                if not block:
                    break
                _write(f, part, block)
                got += len(block)
                bar.update(len(block))
        if total is not None and have + got < total:
            raise _incomplete(url, part, have + got, total, "the connection closed early")
    return got


def _range_start(content_range: str | None) -> int | None:
    """The first byte of a ``Content-Range: bytes START-END/TOTAL`` header, or None."""
    try:
        return int(content_range.split()[1].split("-")[0])  # type: ignore[union-attr]
    except (AttributeError, IndexError, ValueError):
        return None


def _write(f, part: Path, block: bytes) -> None:
    try:
        f.write(block)
    except OSError as exc:
        raise OutputError(f"cannot write {part}: {exc.strerror or exc}") from exc


def _incomplete(url: str, part: Path, got: int, total: int | None, why: str) -> IncompleteDownloadError:
    of = f" of {total}" if total else ""
    return IncompleteDownloadError(
        f"download of {url} stopped after {got}{of} bytes ({why}); {part} is kept: run the same command again to resume"
    )


def by_hand_hint(entry: ModelEntry) -> str:
    """How to install ``entry``'s file without viewshift's downloader (one clause)."""
    return f"to install by hand, download {entry.url} and put it at {model_path(entry)}"


def download_model(
    entry: ModelEntry,
    *,
    sha256: str | None = None,
    quiet: bool = False,
    allow_unverified: bool = False,
    timeout: float = 30.0,
) -> DownloadResult:
    """Download a registry entry's file into the cache folder (see :func:`download_file`).

    Args:
        entry: the registry entry.
        sha256: the SHA-256 the file must have, for an entry without a published one (read it on the file's
            download page). Must equal the entry's own when it has one.
        quiet: no progress bar.
        allow_unverified: accept an entry without a published SHA-256 and without ``sha256`` (its size is still
            checked when published). The SHA-256 of what arrived is recorded beside the file
            (:func:`~viewshift.depth.registry.pinned_path`), so a later change of the file is caught.
        timeout: seconds to wait for the connection and each read.

    Raises:
        ModelError: the entry has no downloadable file viewshift can run.
        UnverifiedError: no published SHA-256 and ``allow_unverified`` is False.
        DownloadError: see :func:`download_file`.
    """
    if entry.url is None or not entry.runnable:
        raise ModelError(f"depth model {entry.name} has no file viewshift can download and run: {entry.note}")
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise InputError(f"--sha256 must be 64 hexadecimal digits, got {sha256!r}")
        if entry.sha256 is not None and sha256 != entry.sha256:
            raise InputError(f"--sha256 {sha256[:16]}… differs from {entry.name}'s published {entry.sha256[:16]}…")
    expected = entry.sha256 or sha256
    if expected is None and not allow_unverified:
        where = (
            f"the SHA256 shown on {entry.url.replace('/resolve/', '/blob/')}"
            if "/resolve/" in entry.url  # a Hugging Face file: its page shows the SHA-256
            else "a SHA-256 you trust"
        )
        raise UnverifiedError(
            f"no SHA-256 is published for {entry.name}, so its download cannot be verified: run `viewshift models "
            f"get {entry.name} --sha256 HEX` with {where}, or add --unverified to accept it unverified, or "
            f"{by_hand_hint(entry)}"
        )
    result = download_file(
        entry.url,
        model_path(entry),
        sha256=expected,
        size=entry.size,
        quiet=quiet,
        timeout=timeout,
        by_hand=by_hand_hint(entry),
    )
    if entry.sha256 is None:  # record what arrived, so a later change of the file is caught
        from viewshift.io import atomic_path

        with atomic_path(pinned_path(entry)) as tmp:
            tmp.write_text(f"{result.sha256}  {entry.filename}\n", encoding="ascii")
    return result
