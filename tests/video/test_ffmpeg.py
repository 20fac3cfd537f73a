"""Probe, decode and encode through ffmpeg: frame rate, frame count, audio, and the colour matrix used both ways."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import numpy as np
import pytest

from tests.video.clips import write_clip
from viewshift.errors import InputError
from viewshift.video.ffmpeg import ColourInfo, FrameReader, FrameWriter, ffmpeg_exe, probe

RGB = (200, 60, 30)
LUMA = {"bt709": (0.2126, 0.7152, 0.0722), "smpte170m": (0.299, 0.587, 0.114)}


def _flat(n: int = 3) -> list[np.ndarray]:
    return [np.full((16, 32, 3), RGB, np.uint8) for _ in range(n)]


@pytest.mark.parametrize("space", ["bt709", "smpte170m"])
def test_encoded_luma_follows_the_matrix_and_decodes_back(tmp_path, space):
    colour = ColourInfo("tv", space, "bt709" if space == "bt709" else "smpte170m", "bt709")
    clip = write_clip(tmp_path / "flat.mp4", _flat(), colour=colour, fps=Fraction(30000, 1001))
    info = probe(clip)
    assert (info.colour, info.fps, info.frames, info.has_audio) == (colour, Fraction(30000, 1001), 3, False)
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(clip), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "yuv444p", "-"],
        capture_output=True,
        check=True,
    ).stdout
    y = np.frombuffer(raw, np.uint8)[: 16 * 32].astype(float).mean()
    kr, kg, kb = LUMA[space]
    expected = 16 + 219 * (kr * RGB[0] + kg * RGB[1] + kb * RGB[2]) / 255  # limited-range Y'
    assert abs(y - expected) <= 1.0, (y, expected)
    frames = list(FrameReader(info))
    assert len(frames) == 3 and np.abs(frames[1].astype(int) - np.array(RGB)).max() <= 3


def test_ten_bit_round_trip(tmp_path):
    ramp = (np.linspace(0, 1, 64)[None, :, None] * np.ones((32, 1, 3)) * 60000 + 2000).astype(np.uint16)
    clip = tmp_path / "deep.mkv"
    writer = FrameWriter(clip, 64, 32, Fraction(25), bit_depth=10, crf=0, colour=ColourInfo("tv", "bt709"))
    for _ in range(2):
        writer.write(ramp)
    writer.close()
    info = probe(clip)
    assert (info.bit_depth, info.pix_fmt) == (10, "yuv420p10le")
    back = list(FrameReader(info))
    assert back[0].dtype == np.uint16 and np.abs(back[0].astype(int) - ramp.astype(int)).mean() < 200  # < 1 8-bit level


def test_writer_refuses_odd_sizes_and_wrong_frames(tmp_path):
    with pytest.raises(InputError, match="even"):
        FrameWriter(tmp_path / "o.mp4", 15, 10, Fraction(25))
    writer = FrameWriter(tmp_path / "o.mp4", 16, 10, Fraction(25))
    with pytest.raises(InputError, match="expects"):
        writer.write(np.zeros((10, 16, 3), np.uint16))
    writer.abort()
