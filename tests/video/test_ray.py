"""Many videos over Ray: two conversions on a local cluster of two workers."""

from __future__ import annotations

import pytest

from tests.video.clips import two_plane_depth, two_plane_frames, write_clip, write_depth_folder
from viewshift.video.convert import ConvertSettings
from viewshift.video.ffmpeg import probe


def test_two_videos_on_two_local_workers(tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install ray, or the dev extra)")
    from viewshift.video.distributed import convert_many

    frames = two_plane_frames(6)
    videos = [write_clip(tmp_path / f"v{i}.mp4", frames) for i in range(2)]
    depth = write_depth_folder(tmp_path / "depth", [two_plane_depth()] * 6)
    settings = ConvertSettings(layout="half-sbs", preset="ultrafast")
    results = convert_many(videos, tmp_path / "out", settings=settings, depth=str(depth), num_workers=2)
    assert [r["error"] for r in results] == [None, None]
    assert [r["outputs"] for r in results] == [[str(tmp_path / "out" / f"v{i}_half-sbs.mp4")] for i in range(2)]
    for r in results:
        info = probe(r["outputs"][0])
        assert (info.width, info.height, info.frames) == (100, 60, 6)
