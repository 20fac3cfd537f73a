"""Videos: frames to ``.mp4`` (H.264 through imageio-ffmpeg) or looping ``.gif``, written atomically."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import numpy as np
from PIL import Image

from viewshift.errors import InputError, OutputError, ShapeError
from viewshift.io.atomic import atomic_path, check_output
from viewshift.io.images import check_image_array, from_float, to_float

__all__ = ["VIDEO_EXTENSIONS", "open_capture", "undecodable", "write_video"]

#: Extensions :func:`write_video` accepts.
VIDEO_EXTENSIONS = (".mp4", ".gif")


def open_capture(path: str | os.PathLike[str]):
    """Open a video for reading with OpenCV, with FFmpeg's own log silenced.

    FFmpeg prints its complaints about a corrupt file ("moov atom not found") straight to stderr, before the
    caller's one-line error. OpenCV reads ``OPENCV_FFMPEG_LOGLEVEL`` once, when its first FFmpeg capture opens;
    it is set to quiet (-8) unless the user has set it.

    Args:
        path: the video file.

    Returns:
        An opened ``cv2.VideoCapture`` (the caller releases it).

    Raises:
        InputError: the file is empty or cannot be opened as a video (one line naming the file).
    """
    if os.path.getsize(path) == 0:
        raise InputError(f"video {path} is empty; give a video file with at least 2 frames")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import cv2

    cap = cv2.VideoCapture(os.fspath(path))
    if not cap.isOpened():
        cap.release()
        raise InputError(undecodable(path, "corrupt or unsupported codec"))
    return cap


def undecodable(path: str | os.PathLike[str], why: str) -> str:
    """The one-line message for a video that gives no frames."""
    return f"video {path} cannot be decoded ({why}); re-encode it as H.264 MP4"


def _video_frame(frame: np.ndarray) -> np.ndarray:
    """One frame as ``H×W×3 uint8`` RGB (alpha dropped, 16-bit rounded, grey expanded)."""
    a = check_image_array(frame)
    if a.dtype == np.uint16:
        a = from_float(to_float(a), 8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    return np.ascontiguousarray(a[:, :, :3])


def _even(a: np.ndarray) -> np.ndarray:
    """Pad an odd height/width by repeating the last row/column (H.264 in yuv420p needs even sizes)."""
    h, w = a.shape[:2]
    if h % 2 or w % 2:
        a = np.pad(a, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return a


def write_video(
    path: str | os.PathLike[str],
    frames: Iterable[np.ndarray],
    *,
    fps: float = 24.0,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> None:
    """Write frames as a video atomically.

    * ``.mp4``: H.264 (libx264) in yuv420p through imageio-ffmpeg; odd heights/widths are padded by one
      repeated row/column to make them even.
    * ``.gif``: looping forever, frame time ``1000 / fps`` ms (GIF stores 10 ms steps).

    Args:
        path: output file (``.mp4`` or ``.gif``).
        frames: a list or iterator of ``H×W×3`` (or ``×4``, alpha dropped) ``uint8``/``uint16`` RGB frames,
            all the same size; read once, streamed for MP4.
        fps: frames per second (> 0).
        overwrite: allow replacing an existing file.
        inputs: the files this run reads; the output may not be one of them.

    Raises:
        OutputError: see :func:`check_output`, or encoding failed.
        InputError: no frames, ``fps`` not positive.
        ShapeError: frames of a bad shape/dtype or of different sizes.
    """
    p = check_output(path, overwrite=overwrite, inputs=inputs, extensions=VIDEO_EXTENSIONS)
    if not (np.isfinite(fps) and fps > 0):
        raise InputError(f"fps must be a positive number, got {fps}")
    import imageio.v2 as imageio  # imported here: only video writing needs it

    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise InputError(f"no frames to write to {p}; give at least one frame")
    first = _video_frame(first)

    def rest() -> Iterator[np.ndarray]:
        for i, frame in enumerate(it, start=1):
            a = _video_frame(frame)
            if a.shape != first.shape:
                raise ShapeError(
                    f"frame {i} is {a.shape[1]}×{a.shape[0]} but frame 0 is {first.shape[1]}×{first.shape[0]}"
                )
            yield a

    try:
        with atomic_path(p) as tmp:
            if p.suffix.lower() == ".mp4":
                writer = imageio.get_writer(
                    tmp,
                    format="FFMPEG",
                    mode="I",
                    fps=fps,
                    codec="libx264",
                    pixelformat="yuv420p",
                    macro_block_size=1,
                    quality=8,
                    ffmpeg_log_level="error",
                )
                try:  # imageio's own ``with`` does not close (stop ffmpeg) when the block raises
                    writer.append_data(_even(first))
                    for a in rest():
                        writer.append_data(_even(a))
                finally:
                    writer.close()
            else:
                images = [Image.fromarray(a) for a in (first, *rest())]
                images[0].save(
                    tmp,
                    format="GIF",
                    save_all=True,
                    append_images=images[1:],
                    duration=max(10, int(round(1000.0 / fps))),
                    loop=0,
                )
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"cannot write video {p}: {exc}") from exc
