"""Many videos over many machines with Ray: one task per video, each running :func:`convert_video`.

Ray is optional (``pip install ray``, in the ``dev`` extra). On one machine ``ray.init(num_cpus=N)`` starts a local
cluster; on many, start ``ray start --head`` on one machine and ``ray start --address=HEAD:6379`` on the others,
then call :func:`convert_many` with ``address="auto"`` from the head. Every worker must see the input and output
paths (a shared file system), and each task's chunks make it resumable: a task retried on another machine
continues after the last chunk the failed one finished.
"""

from __future__ import annotations

import os
from pathlib import Path

from viewshift.errors import InputError

__all__ = ["convert_many"]


def _convert_one(src: str, out: str, settings_dict: dict, depth, overwrite: bool, threads: int) -> dict:
    """One video (runs inside a Ray worker); returns a plain dict (outputs, frames, seconds, error)."""
    import torch

    from viewshift.errors import ViewshiftError
    from viewshift.video.convert import ConvertSettings, convert_video
    from viewshift.video.stabilise import StabiliseSettings

    torch.set_num_threads(threads)
    d = dict(settings_dict)
    d["stabilise"] = StabiliseSettings(**d["stabilise"])
    d["move"] = tuple(d["move"]) if d.get("move") else None
    try:
        r = convert_video(src, out, depth=depth, settings=ConvertSettings(**d), overwrite=overwrite, progress=False)
    except ViewshiftError as exc:
        return {"source": src, "outputs": [], "frames": 0, "seconds": 0.0, "error": str(exc)}
    return {
        "source": src,
        "outputs": [str(p) for p in r.outputs],
        "frames": r.frames,
        "seconds": r.seconds,
        "error": None,
        "node": os.uname().nodename,
    }


def convert_many(
    videos: list[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    settings=None,
    depth=None,
    overwrite: bool = False,
    address: str | None = None,
    num_workers: int | None = None,
    cpus_per_task: int = 1,
) -> list[dict]:
    """Convert videos in parallel Ray tasks, one per video, into ``out_dir``.

    Args:
        videos: the video files (paths every worker can read).
        out_dir: the output folder (every worker can write); names as :func:`~viewshift.video.convert.folder_output`.
        settings: :class:`~viewshift.video.convert.ConvertSettings` (default settings if None).
        depth: a depth spec every worker can open (None: the built-in network; a folder path; a model path).
        overwrite: replace existing outputs.
        address: a running cluster (``"auto"``, ``"ray://HOST:10001"``); None starts a local one.
        num_workers: CPUs of the local cluster (None: all cores); ignored with ``address``.
        cpus_per_task: CPUs each conversion reserves (also its torch threads).

    Returns:
        One dict per video, in order: ``source``, ``outputs``, ``frames``, ``seconds``, ``error`` (None or the
        one-line message), ``node``.

    Raises:
        InputError: Ray is not installed.
    """
    try:
        import ray
    except ImportError:
        raise InputError("Ray is not installed; pip install ray (or pip install 'viewshift[dev]')") from None
    from viewshift.video.convert import ConvertSettings, folder_output

    settings = settings or ConvertSettings()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = False
    if not ray.is_initialized():
        if address is not None:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=num_workers, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        task = ray.remote(num_cpus=cpus_per_task, max_retries=2)(_convert_one)
        refs = [
            task.remote(
                str(Path(v).resolve()),
                str(folder_output(Path(v), out.resolve(), settings)),
                settings.to_dict(),
                depth,
                overwrite,
                cpus_per_task,
            )
            for v in videos
        ]
        return ray.get(refs)
    finally:
        if started:
            ray.shutdown()
