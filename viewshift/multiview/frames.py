"""Reading several frames of one scene: a list of image files, a folder of images, a video, or a make-clip folder.

The one frame reader of the package (``viewshift depth --clip``, ``make-clip``, ``fit``): it returns ``H×W×3 uint8``
RGB frames of one size and refuses bad input with a one-line :class:`~viewshift.errors.InputError`: fewer than two
frames, frames of different sizes, a video that cannot be decoded, a folder whose images sit in a sub-folder.
Frames are picked either spread evenly over the source (multi-view depth: wide baselines) or every ``step``-th
from the first (training clips: consecutive frames).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from viewshift.errors import InputError
from viewshift.io.inputs import IMAGE_EXTENSIONS, folder_images
from viewshift.io.video import open_capture, undecodable


@dataclass
class FrameSet:
    """Frames with what their source says about the camera.

    Attributes:
        frames: ``H×W×3 uint8`` RGB frames, all the same size.
        names: where each frame came from (file name, or ``video.mp4#17`` for frame 17 of a video).
        focal: focal length in pixels at the frames' (possibly reduced) size, from a make-clip folder's ``K.txt``
            or the first frame's EXIF, else ``None``.
        K: ``3×3`` intrinsics at the frames' size from a make-clip folder's ``K.txt``, else ``None``.
        scale: the factor the frames were downscaled by (``max_width``), 1 when kept at their size.
    """

    frames: list[np.ndarray]
    names: list[str]
    focal: float | None = None
    K: np.ndarray | None = None
    scale: float = 1.0


def _evenly(n: int, k: int) -> list[int]:
    """``k`` indices spread evenly over ``range(n)`` (all of them when ``n <= k``), first and last included."""
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def _pick(n: int, max_frames: int | None, step: int) -> list[int]:
    """Indices of ``n`` frames to read: every ``step``-th from the first, then the first ``max_frames`` of those
    (``step`` 0: ``max_frames`` spread evenly; ``max_frames`` None: no limit)."""
    if step:
        return list(range(0, n, step))[:max_frames]
    return _evenly(n, max_frames) if max_frames else list(range(n))


def _resize(frames: list[np.ndarray], max_width: int | None) -> tuple[list[np.ndarray], float]:
    """Downscale frames wider than ``max_width`` (area interpolation); returns them and the scale factor."""
    if not max_width or frames[0].shape[1] <= max_width:
        return frames, 1.0
    h, w = frames[0].shape[:2]
    s = max_width / w
    size = (max_width, max(1, round(h * s)))
    return [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames], s


def check_frames(frames: list[np.ndarray], names: list[str] | None = None) -> list[np.ndarray]:
    """Check that there are at least two ``H×W×3 uint8`` frames of one size; returns them.

    Raises:
        InputError: fewer than two frames, a frame that is not ``H×W×3 uint8``, frames of different sizes.
    """
    names = names or [f"frame {i}" for i in range(len(frames))]
    if len(frames) < 2:
        raise InputError(f"need at least 2 frames of the same scene, got {len(frames)}")
    for f, name in zip(frames, names, strict=True):
        if not isinstance(f, np.ndarray) or f.ndim != 3 or f.shape[2] != 3 or f.dtype != np.uint8:
            raise InputError(
                f"{name} must be an H×W×3 uint8 RGB array, got {getattr(f, 'shape', type(f))} "
                f"{getattr(f, 'dtype', '')}".rstrip()
            )
    first = frames[0].shape
    for f, name in zip(frames, names, strict=True):
        if f.shape != first:
            raise InputError(
                f"{name} is {f.shape[1]}×{f.shape[0]} but {names[0]} is {first[1]}×{first[0]}; "
                "give frames of one size (one camera, one zoom)"
            )
    return frames


def _read_images(paths: list[Path], pick: list[int]) -> tuple[list[np.ndarray], list[str], float | None]:
    from viewshift.io import read_image

    paths = [paths[i] for i in pick]
    frames, focal35 = [], None
    for p in paths:
        img = read_image(p)
        rgb = img.rgb if img.rgb.dtype == np.uint8 else (img.rgb >> 8).astype(np.uint8)
        if focal35 is None:
            focal35 = img.focal_35mm
        frames.append(rgb)
    check_frames(frames, [str(p) for p in paths])
    focal = None
    if focal35:
        from viewshift.geometry import focal_from_35mm

        h, w = frames[0].shape[:2]
        focal = focal_from_35mm(focal35, w, h)
    return frames, [str(p) for p in paths], focal


def _read_video(path: Path, max_frames: int | None, step: int) -> tuple[list[np.ndarray], list[str]]:
    """Every ``step``-th frame of a video, at most ``max_frames`` (``step`` 0: about ``max_frames`` spread over the
    frame count the container reports)."""
    cap = open_capture(path)
    try:
        if not step:
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            step = max(1, math.ceil(count / max_frames)) if count > 0 and max_frames else 1
        frames, names, i = [], [], 0
        while max_frames is None or len(frames) < max_frames:
            ok = cap.grab()
            if not ok:
                break
            if i % step == 0:
                ok, bgr = cap.retrieve()
                if not ok or bgr is None:
                    break
                frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                names.append(f"{path}#{i}")
            i += 1
    finally:
        cap.release()
    if not frames:
        raise InputError(undecodable(path, "no frame could be read"))
    check_frames(frames, names)
    return frames, names


def _is_image(path: Path) -> bool:
    """Whether ``path`` is read as one image (by its suffix); any other file is read as a video."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


def read_frame_set(
    spec: str | os.PathLike[str] | list,
    *,
    max_frames: int | None = 50,
    max_width: int | None = None,
    step: int = 0,
    pattern: str = "*",
) -> FrameSet:
    """Read 2 to ``max_frames`` frames and what their source says about the focal length.

    Args:
        spec: a list of image files (or of ``H×W×3 uint8`` arrays), a folder of images (sorted by name), a
            make-clip folder (``frames/`` + ``K.txt``), or a video file.
        max_frames: at most this many frames (None: no limit).
        max_width: downscale frames wider than this (intrinsics scaled with them); None keeps the size.
        step: keep every ``step``-th frame from the first, then the first ``max_frames`` of them (consecutive
            frames, as training wants); 0 spreads ``max_frames`` evenly over the source, first and last kept
            (wide baselines, as multi-view depth wants).
        pattern: glob of the images inside a folder.

    Returns:
        :class:`FrameSet`.

    Raises:
        InputError: missing input, fewer than two frames, frames of different sizes, an undecodable video or image.
    """
    if max_frames is not None and max_frames < 2:
        raise InputError(f"max_frames must be at least 2, got {max_frames}")
    if step < 0:
        raise InputError(f"step must be 0 or more, got {step}")
    K = None
    focal = None
    if isinstance(spec, (list, tuple)):
        if spec and all(isinstance(f, np.ndarray) for f in spec):
            pick = _pick(len(spec), max_frames, step)
            frames, names = [spec[i] for i in pick], [f"frame {i}" for i in pick]
            check_frames(frames, names)
        else:
            paths = [Path(p) for p in spec]
            for p in paths:
                if not p.is_file():
                    raise InputError(f"frame not found: {p}")
            if len(paths) == 1 and not _is_image(paths[0]):
                frames, names = _read_video(paths[0], max_frames, step)
            else:
                if len(paths) < 2:
                    raise InputError(f"need at least 2 frames of the same scene, got {len(paths)}: {paths[0]}")
                frames, names, focal = _read_images(paths, _pick(len(paths), max_frames, step))
    else:
        p = Path(spec)
        if not p.exists():
            raise InputError(f"frames not found: {p}")
        if p.is_dir() and (p / "frames").is_dir():
            paths = folder_images(p / "frames", pattern, at_least=2)
            frames, names, focal = _read_images(paths, _pick(len(paths), max_frames, step))
            if (p / "K.txt").exists():
                try:
                    K = np.loadtxt(p / "K.txt", dtype=np.float64).reshape(3, 3)
                except (OSError, ValueError) as exc:
                    raise InputError(f"clip {p}: K.txt must hold a 3×3 matrix ({exc})") from exc
                focal = float(K[0, 0])
        elif p.is_dir():
            paths = folder_images(p, pattern, at_least=2)
            frames, names, focal = _read_images(paths, _pick(len(paths), max_frames, step))
        elif _is_image(p):
            raise InputError(f"{p} is one image; give at least 2 frames (a folder, a video or several files)")
        else:  # any other file is tried as a video: open_capture says so in one line when it is not one
            frames, names = _read_video(p, max_frames, step)
    frames, s = _resize(frames, max_width)
    if s != 1.0:
        from viewshift.geometry import scale_intrinsics

        if K is not None:
            import torch

            K = scale_intrinsics(torch.from_numpy(K)[None], s, s)[0].numpy()
        if focal is not None:
            focal *= s
    return FrameSet(frames=[np.ascontiguousarray(f) for f in frames], names=names, focal=focal, K=K, scale=s)


def read_frames(
    spec: str | os.PathLike[str] | list,
    *,
    max_frames: int | None = 50,
    max_width: int | None = None,
    step: int = 0,
    pattern: str = "*",
) -> list[np.ndarray]:
    """The ``H×W×3 uint8`` RGB frames of :func:`read_frame_set` (same arguments), without the camera hints."""
    return read_frame_set(spec, max_frames=max_frames, max_width=max_width, step=step, pattern=pattern).frames
