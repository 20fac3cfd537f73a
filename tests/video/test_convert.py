"""End-to-end conversions of tiny synthetic clips with known depth: exact shifts, layouts, resume, bad input."""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.video.clips import (
    best_shift,
    read_frames,
    two_plane_depth,
    two_plane_frames,
    write_clip,
    write_depth_folder,
)
from viewshift.errors import InputError, OutputError
from viewshift.video.convert import ConvertSettings, convert_folder, convert_video, output_paths
from viewshift.video.ffmpeg import ffmpeg_exe, probe

# divergence 4 % of 100 px with convergence 0.5: δ = 4 (n − 0.5), so the background (n = 0) has δ = −2 px and the
# near rectangle (n = 1) δ = +2 px; the left eye moves each pixel by +δ/2, the right eye by −δ/2.
EXACT = ConvertSettings(divergence=4.0, convergence=0.5, crf=0, preset="ultrafast", batch=4, chunk_seconds=0.25)
BG_ROWS, BG_COLS = slice(48, 58), slice(10, 90)
FG_ROWS, FG_COLS = slice(20, 40), slice(42, 58)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> tuple[Path, Path, list[np.ndarray]]:
    folder = tmp_path_factory.mktemp("clip")
    frames = two_plane_frames(14)
    src = write_clip(folder / "planes.mp4", frames, audio=True)
    depth = write_depth_folder(folder / "depth", [two_plane_depth()] * len(frames))
    return src, depth, read_frames(src)


def test_sbs_shifts_each_plane_by_its_known_disparity(clip, tmp_path):
    src, depth, source = clip
    out = tmp_path / "sbs.mp4"
    result = convert_video(src, out, depth=depth, settings=EXACT, progress=False)
    assert result.outputs == [out] and result.frames == 14 and result.size == (200, 60)
    assert not list(tmp_path.glob(".*"))  # the work folder and temporary files are gone
    frames = read_frames(out)
    assert len(frames) == 14
    for t in (0, 7, 13):
        left, right = frames[t][:, :100], frames[t][:, 100:]
        for view, bg_shift, fg_shift in ((left, -1, 1), (right, 1, -1)):
            s, err = best_shift(view, source[t], BG_ROWS, BG_COLS)
            assert (s, err < 3) == (bg_shift, True), (t, s, err)
            s, err = best_shift(view, source[t], FG_ROWS, FG_COLS)
            assert (s, err < 3) == (fg_shift, True), (t, s, err)


def test_audio_is_copied_untouched_and_colour_kept(clip, tmp_path):
    src, depth, _ = clip
    out = tmp_path / "anaglyph.mp4"
    convert_video(src, out, depth=depth, settings=ConvertSettings(layout="anaglyph", batch=4), progress=False)
    info_in, info_out = probe(src), probe(out)
    assert info_out.has_audio and info_out.colour == info_in.colour and info_out.fps == info_in.fps

    def audio_packets(p: Path) -> list[str]:
        text = subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", str(p), "-map", "0:a", "-c", "copy", "-f", "framecrc", "-"],
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [ln.split(",", 3)[3] for ln in text.splitlines() if ln and not ln.startswith("#")]  # size, crc

    assert audio_packets(out) == audio_packets(src) and len(audio_packets(src)) > 5


@pytest.mark.parametrize(
    "layout, sizes",
    [("half-sbs", [(100, 60)]), ("tb", [(100, 120)]), ("half-tb", [(100, 60)]), ("left-right", [(100, 60)] * 2)],
)
def test_layouts(clip, tmp_path, layout, sizes):
    src, depth, source = clip
    out = tmp_path / "out.mkv"
    result = convert_video(src, out, depth=depth, settings=EXACT.__class__(**{**EXACT.__dict__, "layout": layout}),
                           progress=False)  # fmt: skip
    assert result.outputs == output_paths(out, layout)
    for path, (w, h) in zip(result.outputs, sizes, strict=True):
        info = probe(path)
        assert (info.width, info.height, info.frames) == (w, h, 14)
    if layout == "left-right":  # the separate files are the two eyes
        left, right = (read_frames(p)[3] for p in result.outputs)
        assert best_shift(left, source[3], BG_ROWS, BG_COLS)[0] == -1
        assert best_shift(right, source[3], BG_ROWS, BG_COLS)[0] == 1


def test_interrupted_conversion_leaves_no_output_and_resumes(clip, tmp_path):
    src, depth_folder, _ = clip
    depth = two_plane_depth()
    calls = []

    def provider(frames, start):
        calls.append(start)
        if start >= 8:
            raise KeyboardInterrupt
        return [depth] * len(frames)

    provider.description = "two planes"
    out = tmp_path / "resumed.mp4"
    stopped: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        convert_video(src, out, depth=provider, settings=EXACT, progress=False, on_note=stopped.append)
    assert not out.exists() and any("1 finished chunk(s) kept" in n for n in stopped)
    work = tmp_path / ".resumed.mp4.viewshift-work"
    assert sorted(p.name for p in work.glob("chunk-*.json")) == ["chunk-00000.json"]  # 6-frame chunks: one done
    assert not list(work.glob(".*tmp*"))  # the chunk being written was removed

    def whole(frames, start):
        calls.append(start)
        return [depth] * len(frames)

    whole.description = "two planes"
    calls.clear()
    notes: list[str] = []
    result = convert_video(src, out, depth=whole, settings=EXACT, progress=False, on_note=notes.append)
    assert calls[0] == 6 and any("resumed after 1 finished chunk" in n for n in notes)
    assert result.frames == 14 and not work.exists()
    fresh = tmp_path / "fresh.mp4"
    convert_video(src, fresh, depth=depth_folder, settings=EXACT, progress=False)
    a, b = read_frames(out), read_frames(fresh)
    assert len(a) == len(b) == 14
    assert max(np.abs(x.astype(int) - y.astype(int)).max() for x, y in zip(a, b, strict=True)) <= 1


def test_interrupted_before_any_chunk_leaves_nothing(clip, tmp_path):
    src, _, _ = clip

    def stop(frames, start):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        convert_video(src, tmp_path / "o.mp4", depth=stop, settings=EXACT, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_changed_settings_start_afresh(clip, tmp_path):
    src, _, _ = clip
    depth = two_plane_depth()

    def stop_at_6(frames, start):
        if start >= 6:
            raise KeyboardInterrupt
        return [depth] * len(frames)

    stop_at_6.description = "planes"
    out = tmp_path / "o.mp4"
    settings = ConvertSettings(**{**EXACT.__dict__, "batch": 2})
    with pytest.raises(KeyboardInterrupt):
        convert_video(src, out, depth=stop_at_6, settings=settings, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == [".o.mp4.viewshift-work"]
    notes: list[str] = []

    def planes(frames, start):
        return [depth] * len(frames)

    planes.description = "planes"
    changed = ConvertSettings(**{**settings.__dict__, "crf": 20})
    convert_video(src, out, depth=planes, settings=changed, progress=False, on_note=notes.append)
    assert any("started afresh" in n for n in notes) and probe(out).frames == 14


def test_existing_output_refused_and_nothing_written(clip, tmp_path):
    src, depth, _ = clip
    out = tmp_path / "exists.mp4"
    out.write_bytes(b"keep")
    with pytest.raises(OutputError, match="already exists"):
        convert_video(src, out, depth=depth, settings=EXACT, progress=False)
    assert out.read_bytes() == b"keep" and sorted(p.name for p in tmp_path.iterdir()) == ["exists.mp4"]


def test_not_a_video_and_no_frames(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(300))
    with pytest.raises(InputError, match="is not a video"):
        convert_video(junk, tmp_path / "o.mp4", progress=False)
    empty = tmp_path / "empty.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "color=size=64x48", "-frames:v", "0", str(empty)],
        check=True,
    )
    with pytest.raises(InputError, match="no frames"):
        convert_video(empty, tmp_path / "o.mp4", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.mp4", "junk.mp4"]


def test_read_only_output_folder(clip, tmp_path):
    src, depth, _ = clip
    if os.geteuid() == 0:  # root writes through file modes: use a folder no one can create files in
        folder = Path("/proc")
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
    with pytest.raises(OutputError, match="cannot"):
        convert_video(src, folder / "o.mp4", depth=depth, settings=EXACT, progress=False)
    assert not (folder / "o.mp4").exists()


@pytest.mark.parametrize("mode, size, word", [("pad", (100, 60), "padded"), ("crop", (98, 58), "cropped")])
def test_odd_size_padded_or_cropped_and_said(tmp_path, mode, size, word):
    odd = tmp_path / "odd.mkv"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=99x59:rate=12,format=rgb24",
         "-frames:v", "4", "-c:v", "ffv1", str(odd)],
        check=True,
    )  # fmt: skip
    notes: list[str] = []
    depth = np.full((59, 99), 3.0, np.float32)
    result = convert_video(
        odd, tmp_path / "o.mp4", depth=lambda frames, start: [depth] * len(frames),
        settings=ConvertSettings(layout="half-sbs", odd_size=mode), progress=False, on_note=notes.append,
    )  # fmt: skip
    info = probe(result.outputs[0])
    assert result.size == (info.width, info.height) == size and info.frames == 4
    assert any(word in n and f"{size[0]}×{size[1]}" in n for n in notes)


def test_variable_frame_rate_is_detected_and_said(tmp_path):
    vfr = tmp_path / "vfr.mkv"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30", "-t", "1",
         "-vf", "setpts='(N+0.6*mod(N,3))/(30*TB)'", "-fps_mode", "passthrough", "-c:v", "libx264", str(vfr)],
        check=True,
    )  # fmt: skip
    info = probe(vfr)
    assert info.variable_fps and 25 < float(info.fps) < 35
    notes: list[str] = []
    depth = np.full((48, 64), 3.0, np.float32)
    result = convert_video(
        vfr, tmp_path / "o.mp4", depth=lambda frames, start: [depth] * len(frames), progress=False,
        on_note=notes.append,
    )  # fmt: skip
    assert any("variable frame rate" in n for n in notes)
    out = probe(result.outputs[0])
    assert not out.variable_fps and out.fps == info.fps and abs(out.frames - info.frames) <= 2


def test_ten_bit_source_gives_ten_bit_h265(tmp_path):
    frames8 = two_plane_frames(4)
    frames16 = [f.astype(np.uint16) * 257 for f in frames8]
    src = write_clip(tmp_path / "deep.mkv", frames16, bit_depth=10, crf=10)
    assert probe(src).bit_depth == 10
    depth = write_depth_folder(tmp_path / "d", [two_plane_depth()] * 4)
    result = convert_video(
        src, tmp_path / "o.mkv", depth=depth, settings=ConvertSettings(codec="h265", layout="half-sbs"),
        progress=False,
    )  # fmt: skip
    info = probe(result.outputs[0])
    assert (info.codec, info.pix_fmt, info.bit_depth) == ("hevc", "yuv420p10le", 10)


def test_moved_camera_video(clip, tmp_path):
    src, depth, source = clip
    # Depth of a moved camera: the middle of the normalised range (inverse depth 3/8 here) is put at 3, so the
    # background (1/4) is at 4.5 and the rectangle (1/2) at 2.25; f = 50 / tan 30° px for the default 60° view.
    # A move right by b slides them left by f·b/Z: choose b for exactly 2 px and 4 px.
    f = 50 / math.tan(math.radians(30))
    b = 2 * 4.5 / f
    settings = ConvertSettings(move=(b, 0, 0, 0, 0, 0), batch=4, crf=0, preset="ultrafast")
    result = convert_video(src, tmp_path / "moved.mp4", depth=depth, settings=settings, progress=False)
    frames = read_frames(result.outputs[0])
    assert result.size == (100, 60) and len(frames) == 14
    for t in (0, 9):
        s_bg, err_bg = best_shift(frames[t], source[t], BG_ROWS, BG_COLS, search=8)
        s_fg, err_fg = best_shift(frames[t], source[t], FG_ROWS, slice(44, 56), search=8)
        assert (s_bg, s_fg) == (-2, -4) and err_bg < 3 and err_fg < 3, (s_bg, s_fg, err_bg, err_fg)


def test_folder_of_videos(clip, tmp_path):
    src, depth, _ = clip
    videos = tmp_path / "in"
    videos.mkdir()
    (videos / "a.mp4").symlink_to(src)
    (videos / "b.mp4").write_bytes(b"not a video")
    errors = []
    results, failures = convert_folder(
        videos, tmp_path / "out", depth=depth, settings=EXACT, progress=False, on_error=lambda v, e: errors.append(v)
    )
    assert [r.outputs[0].name for r in results] == ["a_sbs.mp4"] and [f[0].name for f in failures] == ["b.mp4"]
    again, _ = convert_folder(videos, tmp_path / "out", depth=depth, settings=EXACT, progress=False)
    assert again == []  # existing outputs are skipped
    with pytest.raises(OutputError, match="looks like a file name"):
        convert_folder(videos, tmp_path / "one.mp4", depth=depth, settings=EXACT, progress=False)
