"""`viewshift stereo VIDEO` / `viewshift render VIDEO` and `python -m viewshift.video` on a tiny clip."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.video.clips import two_plane_depth, two_plane_frames, write_clip, write_depth_folder
from viewshift.cli import main
from viewshift.video.convert import DEFAULT_CONVERGENCE, DEFAULT_DIVERGENCE
from viewshift.video.ffmpeg import probe


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    src = write_clip(folder / "clip.mp4", two_plane_frames(6))
    depth = write_depth_folder(folder / "depth", [two_plane_depth()] * 6)
    return src, depth


def test_stereo_video_writes_one_line(clip, tmp_path, capsys):
    src, depth = clip
    out = tmp_path / "out.mp4"
    code = main(["stereo", str(src), "-o", str(out), "--depth", str(depth), "--layout", "half-tb", "--crf", "30"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and lines == ["wrote out.mp4 (100×60, 6 frames at 24 fps)"]
    assert (probe(out).width, probe(out).height) == (100, 60)


def test_render_video_needs_a_move(clip, tmp_path, capsys):
    src, depth = clip
    code = main(["render", str(src), "-o", str(tmp_path / "o.mp4"), "--depth", str(depth)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("viewshift: error: give a camera move")
    assert not list(tmp_path.iterdir())
    code = main(["render", str(src), "-o", str(tmp_path / "o.mp4"), "--depth", str(depth), "--right", "0.1", "-q"])
    assert code == 0 and capsys.readouterr().out == "" and probe(tmp_path / "o.mp4").frames == 6


def test_analyse_writes_a_report(clip, tmp_path, capsys):
    src, depth = clip
    report = tmp_path / "comfort.json"
    code = main(["stereo", str(src), "-o", str(report), "--depth", str(depth), "--analyse", "-q"])
    out = capsys.readouterr().out
    assert code == 0 and "suggested: --divergence" in out and out.strip().endswith("wrote comfort.json")
    data = json.loads(report.read_text())
    d, c = DEFAULT_DIVERGENCE, DEFAULT_CONVERGENCE
    assert data["frames"] == 6 and (data["divergence"], data["convergence"]) == (d, c)
    # The two planes' parallax p = D (c − n): the near one (n = 1) and the far one (n = 0).
    assert data["parallax_pct"]["p1"][1] == pytest.approx(d * (c - 1.0), abs=1e-3)
    assert data["parallax_pct"]["p99"][1] == pytest.approx(d * c, abs=1e-3)


def test_module_entry_point(clip, tmp_path):
    from viewshift.video.cli import main as video_main

    src, depth = clip
    argv = ["stereo", str(src), "-o", str(tmp_path / "o.mkv"), "--depth", str(depth), "--layout", "anaglyph", "-q"]
    assert video_main(argv) == 0 and probe(tmp_path / "o.mkv").frames == 6
    missing = tmp_path / "missing.mp4"
    bad = subprocess.run(
        [sys.executable, "-m", "viewshift.video", "stereo", str(missing), "-o", str(tmp_path / "x.mp4")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stderr.strip() == f"viewshift: error: video {missing} does not exist"
