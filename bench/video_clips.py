"""Real test clips for the video benchmarks, made from ../shared/data frames with the ffmpeg binary.

``redkitchen_clip(folder, width, height, frames)`` turns the 640×480 Microsoft 7-Scenes "redkitchen" frames (30 Hz
hand-held Kinect) into an H.264 clip of ``width×height`` (centre-cropped to the aspect ratio, then scaled) and
writes the Kinect depth of the same frames, cropped alike, as ``.npy`` files at quarter size (the resolution a
depth network gives), unknown pixels 0 (the converter fills them from the background side).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
REDKITCHEN = (SHARED / "video" / "7scenes-redkitchen" / "frames").resolve()


def _crop_box(w: int, h: int, width: int, height: int) -> tuple[int, int, int, int]:
    """Centre crop of a ``w×h`` frame to the aspect ratio ``width:height``: ``(x, y, cw, ch)``."""
    if w * height > h * width:
        cw = h * width // height
        return (w - cw) // 2, 0, cw, h
    ch = w * height // width
    return 0, (h - ch) // 2, w, ch


def redkitchen_clip(folder: Path, width: int, height: int, frames: int = 90) -> tuple[Path, Path]:
    """The clip and its depth folder (made once, reused)."""
    from viewshift.video.ffmpeg import ffmpeg_exe

    if not REDKITCHEN.is_dir():
        raise SystemExit(f"real data not found at {REDKITCHEN}")
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / f"redkitchen_{width}x{height}_{frames}.mp4"
    depth_dir = folder / f"redkitchen_{width}x{height}_{frames}_depth"
    x, y, cw, ch = _crop_box(640, 480, width, height)
    if not clip.exists():
        tmp = clip.with_name(".tmp-" + clip.name)
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-framerate", "30", "-start_number", "0",
             "-i", str(REDKITCHEN / "frame-%06d.color.jpg"), "-frames:v", str(frames),
             "-vf", f"crop={cw}:{ch}:{x}:{y},scale={width}:{height}:flags=bicubic,"
                    "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
             "-c:v", "libx264", "-crf", "18", "-preset", "fast",
             "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
             str(tmp)],
            check=True,
        )  # fmt: skip
        tmp.replace(clip)
    if not depth_dir.exists():
        tmp_dir = depth_dir.with_name(".tmp-" + depth_dir.name)
        tmp_dir.mkdir(exist_ok=True)
        for i in range(frames):
            d = cv2.imread(str(REDKITCHEN / f"frame-{i:06d}.depth.png"), cv2.IMREAD_UNCHANGED).astype(np.float32)
            d[d >= 65535] = 0
            d = d[y : y + ch, x : x + cw] / 1000.0
            small = cv2.resize(d, (width // 4, height // 4), interpolation=cv2.INTER_NEAREST)
            np.save(tmp_dir / f"{i:05d}.npy", small)
        tmp_dir.replace(depth_dir)
    return clip, depth_dir
