"""A short real clip made from 7-Scenes redkitchen frames (Kinect depth given): the converted eyes match the
renderer run on the decoded frames, and the smoothed normalisation flickers less than per-frame min/max."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest

from tests.helpers import require_shared_data
from tests.video.clips import read_frames
from viewshift.video.convert import ConvertSettings, convert_video
from viewshift.video.depth import FolderDepth
from viewshift.video.ffmpeg import ffmpeg_exe
from viewshift.video.scanline import shift_view
from viewshift.video.stabilise import Stabiliser, StabiliseSettings, disparity_pixels

N = 24


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory):
    frames = require_shared_data("video", "7scenes-redkitchen", "frames")
    folder = tmp_path_factory.mktemp("kitchen")
    clip = folder / "kitchen.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-framerate", "30", "-i", str(frames / "frame-%06d.color.jpg"),
         "-frames:v", str(N), "-vf", "scale=160:120,format=yuv420p", "-c:v", "libx264", "-crf", "0", str(clip)],
        check=True,
    )  # fmt: skip
    depth = folder / "depth"
    depth.mkdir()
    for i in range(N):
        d = cv2.imread(str(frames / f"frame-{i:06d}.depth.png"), cv2.IMREAD_UNCHANGED).astype(np.float32)
        np.save(depth / f"{i:05d}.npy", cv2.resize(d, (160, 120), interpolation=cv2.INTER_NEAREST))  # mm, 0 unknown
    return clip, depth


def test_converted_eyes_match_the_renderer(kitchen, tmp_path):
    clip, depth = kitchen
    settings = ConvertSettings(crf=0, preset="ultrafast", batch=8)
    result = convert_video(clip, tmp_path / "k.mp4", depth=depth, settings=settings, progress=False)
    out = read_frames(result.outputs[0])
    source = read_frames(clip)
    assert len(out) == len(source) == N and out[0].shape == (120, 320, 3)
    stab = Stabiliser(settings.stabilise, 30.0)
    provider = FolderDepth(depth)
    for t, frame in enumerate(source):
        n = stab(frame, provider([frame], t)[0])
        disp = disparity_pixels(n, 160, settings.divergence, settings.convergence)
        left, _ = shift_view(frame, disp, 0.5)
        right, _ = shift_view(frame, disp, -0.5)
        for got, want in ((out[t][:, :160], left), (out[t][:, 160:], right)):
            assert np.abs(got.astype(int) - want.astype(int)).mean() < 2.0  # only the YUV 4:2:0 round trip
        assert np.abs(left.astype(int) - right.astype(int)).mean() > 5  # the eyes differ: there is depth


def test_smoothing_flickers_less_than_per_frame_min_max(kitchen):
    clip, depth = kitchen
    frames = read_frames(clip)
    depths = FolderDepth(depth)(frames, 0)
    grey = [cv2.GaussianBlur(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32), (5, 5), 0) for f in frames]
    still = [np.abs(b - a) < 2.0 for a, b in zip(grey[:-1], grey[1:], strict=True)]

    def relative_flicker(mode: str) -> float:
        s = Stabiliser(StabiliseSettings(mode=mode), 30.0)
        disp = [disparity_pixels(s(f, d), 160, 2.0, 0.75) for f, d in zip(frames, depths, strict=True)]
        change = np.mean([np.abs(b - a)[m].mean() for a, b, m in zip(disp[:-1], disp[1:], still, strict=True)])
        spread = np.mean([np.subtract(*np.percentile(x, [95, 5])) for x in disp])
        return float(change / spread)

    smooth, per_frame = relative_flicker("smooth"), relative_flicker("per-frame")
    assert smooth < 0.9 * per_frame, (smooth, per_frame)
