"""What the server keeps between requests: uploads, their scenes (depth computed once), background jobs.

Every upload, depth file and job output lives in one private temporary folder of the store, under names the
server makes (random ids); requests name things by id only, so no path from a request ever reaches the file
system. The store holds at most ``max_uploads`` uploads: the least recently used one is dropped (with its files,
scenes and jobs) when a new one arrives, and :meth:`UploadStore.close` removes the whole folder.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from viewshift.errors import InputError

#: Image types accepted for upload, by their first bytes (the name and the declared content type are ignored).
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, ".jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, ".png"),
    (b"WEBP", 8, ".webp"),
    (b"II*\x00", 0, ".tif"),
    (b"MM\x00*", 0, ".tif"),
)
#: Depth files accepted for upload, by their first bytes.
_DEPTH_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x93NUMPY", 0, ".npy"),
    (b"\x89PNG\r\n\x1a\n", 0, ".png"),
    (b"PF", 0, ".pfm"),
    (b"Pf", 0, ".pfm"),
)


def sniff(data: bytes, table: tuple[tuple[bytes, int, str], ...] = _MAGIC) -> str | None:
    """The extension matching the content's first bytes, or ``None`` (an unsupported type).

    >>> sniff(b"\\x89PNG\\r\\n\\x1a\\n...."), sniff(b"RIFF\\x00\\x00\\x00\\x00WEBPVP8 "), sniff(b"<svg>")
    ('.png', '.webp', None)
    """
    for magic, offset, ext in table:
        if data[offset : offset + len(magic)] == magic:
            return ext
    return None


def new_id() -> str:
    """A random, URL-safe id (16 characters of ``[A-Za-z0-9_-]``)."""
    return secrets.token_urlsafe(12)


@dataclass
class Upload:
    """One uploaded photo, prepared at the server's working size.

    Attributes:
        id: its id.
        folder: its private folder (inside the store's temporary folder).
        loaded: the photo at working size (:class:`viewshift.io.LoadedImage`).
        focal: focal length in pixels at working size.
        original_size: ``(H, W)`` as uploaded.
        name: a display name (never used as a path).
        depth_file: ``H×W float32`` metric depth uploaded for it, at working size, or ``None``.
        scenes: depth source name → :class:`viewshift.pipeline.Scene` (computed once each).
    """

    id: str
    folder: Path
    loaded: Any
    focal: float
    original_size: tuple[int, int]
    name: str
    depth_file: np.ndarray | None = None
    scenes: dict[str, Any] = field(default_factory=dict)
    locks: dict[str, threading.Lock] = field(default_factory=dict)
    last_used: float = field(default_factory=time.monotonic)


@dataclass
class Job:
    """A background job (video, quilt, export) and its progress.

    Attributes:
        id: its id.
        upload_id: the upload it works on.
        kind: what it makes, e.g. ``video`` or ``mesh``.
        folder: its private output folder.
        state: ``queued``, ``running``, ``done`` or ``failed``.
        done, total: progress in steps (frames, views; ``0/1`` for one-step jobs).
        error: one-line error message when failed.
        file: the finished file (inside ``folder``), and ``filename``: the name offered for download.
    """

    id: str
    upload_id: str
    kind: str
    folder: Path
    state: str = "queued"
    done: int = 0
    total: int = 1
    error: str | None = None
    file: Path | None = None
    filename: str | None = None

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "error": self.error,
            "filename": self.filename,
        }


class UploadStore:
    """Uploads, scenes and jobs of one server, in one temporary folder.

    Args:
        max_uploads: uploads kept at once (least recently used dropped first).
        max_jobs: finished jobs kept at once (oldest dropped first, with their files).
        root: parent folder of the store's temporary folder (default: the system's).
    """

    def __init__(self, *, max_uploads: int = 32, max_jobs: int = 64, root: str | Path | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="viewshift-serve-", dir=root))
        self.max_uploads = max_uploads
        self.max_jobs = max_jobs
        self._uploads: OrderedDict[str, Upload] = OrderedDict()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------------------ uploads

    def new_folder(self) -> tuple[str, Path]:
        """A fresh id and its (created) private folder."""
        ident = new_id()
        folder = self.folder / ident
        folder.mkdir()
        return ident, folder

    def add(self, upload: Upload) -> None:
        """Keep ``upload``; drop the least recently used ones beyond ``max_uploads``."""
        with self._lock:
            self._uploads[upload.id] = upload
            while len(self._uploads) > self.max_uploads:
                _, old = self._uploads.popitem(last=False)
                self._drop_upload(old)

    def get(self, ident: str) -> Upload:
        """The upload with id ``ident`` (marked as used), or :class:`KeyError`."""
        with self._lock:
            upload = self._uploads[ident]
            self._uploads.move_to_end(ident)
            upload.last_used = time.monotonic()
            return upload

    def scene(self, upload: Upload, source: str, build: Callable[[], Any]) -> Any:
        """The scene of ``upload`` with depth from ``source``, built by ``build()`` once (concurrent callers wait)."""
        with self._lock:
            lock = upload.locks.setdefault(source, threading.Lock())
        with lock:
            if source not in upload.scenes:
                upload.scenes[source] = build()
            return upload.scenes[source]

    def _drop_upload(self, upload: Upload) -> None:
        for ident in [j.id for j in self._jobs.values() if j.upload_id == upload.id]:
            self._drop_job(self._jobs.pop(ident))
        upload.scenes.clear()
        shutil.rmtree(upload.folder, ignore_errors=True)

    def __len__(self) -> int:
        return len(self._uploads)

    # --------------------------------------------------------------------------------------------------- jobs

    def new_job(self, upload: Upload, kind: str) -> Job:
        """A queued job on ``upload`` with its own output folder; drops the oldest finished jobs beyond the limit."""
        folder = upload.folder / f"job-{new_id()}"
        folder.mkdir()
        job = Job(id=new_id(), upload_id=upload.id, kind=kind, folder=folder)
        with self._lock:
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
            for old in finished[: max(0, len(self._jobs) - self.max_jobs)]:
                self._drop_job(self._jobs.pop(old.id))
        return job

    def job(self, ident: str) -> Job:
        """The job with id ``ident``, or :class:`KeyError`."""
        with self._lock:
            return self._jobs[ident]

    def pending_jobs(self) -> int:
        with self._lock:
            return sum(j.state in ("queued", "running") for j in self._jobs.values())

    def _drop_job(self, job: Job) -> None:
        shutil.rmtree(job.folder, ignore_errors=True)

    # ------------------------------------------------------------------------------------------------ closing

    def close(self) -> None:
        """Forget everything and remove the store's temporary folder."""
        with self._lock:
            self._uploads.clear()
            self._jobs.clear()
        shutil.rmtree(self.folder, ignore_errors=True)


def check_image_bytes(data: bytes) -> str:
    """The extension of an uploaded image judged by its content, or an :class:`InputError`."""
    if not data:
        raise InputError("the upload is empty; choose a photo (JPEG, PNG, WebP or TIFF)")
    ext = sniff(data)
    if ext is None:
        raise InputError("the upload is not a JPEG, PNG, WebP or TIFF image (judged by its content)")
    return ext


def check_depth_bytes(data: bytes) -> str:
    """The extension of an uploaded depth file judged by its content, or an :class:`InputError`."""
    ext = sniff(data, _DEPTH_MAGIC) if data else None
    if ext is None:
        raise InputError("the depth upload is not a .npy, 16-bit .png or .pfm depth file (judged by its content)")
    return ext
