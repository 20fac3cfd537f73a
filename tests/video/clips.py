"""Tiny synthetic clips with known depth, written with ffmpeg, for the video tests."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

from viewshift.video.ffmpeg import ColourInfo, FrameReader, FrameWriter, ffmpeg_exe, probe

BT709 = ColourInfo("tv", "bt709", "bt709", "bt709")
FAR, NEAR = 4.0, 2.0  # depths of the background and of the near rectangle
RECT = (slice(15, 45), slice(35, 65))  # rows, columns of the near rectangle in a 100×60 frame


def texture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """``height×width×3`` uint8 grey texture (R = G = B, so chroma subsampling loses nothing), smooth enough
    along rows (2-px blobs) that H.264 at crf 0 keeps it exactly."""
    rng = np.random.default_rng(seed)
    g = rng.integers(30, 225, (height, width // 2 + 1), dtype=np.uint8).repeat(2, axis=1)[:, :width]
    return np.repeat(g[:, :, None], 3, axis=2)


def two_plane_frames(n: int, width: int = 100, height: int = 60, speed: int = 1) -> list[np.ndarray]:
    """A background texture moving sideways by ``speed`` px per frame, with a near textured rectangle (still)."""
    bg = texture(width + n * speed + 2, height, seed=1)
    fg = texture(width, height, seed=2)
    frames = []
    for t in range(n):
        f = np.ascontiguousarray(bg[:, t * speed : t * speed + width])
        f[RECT] = fg[RECT]
        frames.append(f)
    return frames


def two_plane_depth(width: int = 100, height: int = 60) -> np.ndarray:
    d = np.full((height, width), FAR, np.float32)
    d[RECT] = NEAR
    return d


def write_clip(
    path: Path,
    frames: list[np.ndarray],
    *,
    fps: Fraction = Fraction(24),
    colour: ColourInfo = BT709,
    crf: float = 0,
    bit_depth: int = 8,
    audio: bool = False,
) -> Path:
    """Encode frames (lossless luma at crf 0); with ``audio`` a sine tone is muxed in as AAC."""
    h, w = frames[0].shape[:2]
    target = path.with_name(path.stem + ".noaudio" + path.suffix) if audio else path
    writer = FrameWriter(target, w, h, fps, crf=crf, colour=colour, bit_depth=bit_depth, preset="ultrafast")
    for f in frames:
        writer.write(f)
    writer.close()
    if audio:
        seconds = len(frames) / float(fps)
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-i", str(target), "-f", "lavfi", "-i",
             f"sine=frequency=440:duration={seconds}", "-c:v", "copy", "-c:a", "aac", "-shortest", str(path)],
            check=True,
        )  # fmt: skip
        target.unlink()
    return path


def write_depth_folder(folder: Path, depths: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, d in enumerate(depths):
        np.save(folder / f"{i:05d}.npy", d)
    return folder


def read_frames(path: Path) -> list[np.ndarray]:
    return list(FrameReader(probe(path)))


def best_shift(view: np.ndarray, source: np.ndarray, rows: slice, cols: slice, search: int = 4) -> tuple[int, float]:
    """The integer shift ``s`` with ``view[y, x] ≈ source[y, x - s]`` over the region, and its mean abs error."""
    best = (0, np.inf)
    v = view[rows, cols, 0].astype(np.float64)
    for s in range(-search, search + 1):
        c = slice(cols.start - s, cols.stop - s)
        err = float(np.abs(v - source[rows, c, 0].astype(np.float64)).mean())
        if err < best[1]:
            best = (s, err)
    return best
