"""Speed of video conversion with depth given (no network), and where the time goes.

    nice -n 10 python bench/video_speed.py [--frames 90] [--sizes 1280x720,1920x1080] [--out docs/video_speed.json]

For each size, on a real clip made from 7-Scenes redkitchen frames (bench/video_clips.py) with its Kinect depth
as per-frame files: every stage alone over the clip (decode; depth files read and filled; stabilise + render
both eyes into a side-by-side frame; encode H.264 superfast crf 18), then the whole pipeline (``convert_video``,
stages overlapped), as frames per second, and the CPU milliseconds each stage spends per frame (this process and
its ffmpeg children). The machine's load average is printed with the figures, since the machine is shared; the
``pipeline_fps_free_cores`` column is what the pipeline's CPU time per frame allows on this machine's cores
with nothing else running (cores / CPU seconds per frame: an upper bound reached when the stages overlap fully).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.video_clips import redkitchen_clip  # noqa: E402


class Clock:
    """Wall time and CPU time of this process and of its finished child processes (ffmpeg)."""

    def __enter__(self):
        self.wall, self.cpu, self.child = time.perf_counter(), time.process_time(), _children()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.child = _children() - self.child


def _children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure(size: tuple[int, int], frames: int, folder: Path) -> dict:
    import numpy as np

    from viewshift.video.convert import ConvertSettings, _resize_to, _StereoRenderer, convert_video
    from viewshift.video.depth import FolderDepth
    from viewshift.video.ffmpeg import FrameReader, FrameWriter, probe
    from viewshift.video.stabilise import Stabiliser, disparity_pixels

    w, h = size
    clip, depth_dir = redkitchen_clip(folder, w, h, frames)
    info = probe(clip)
    settings = ConvertSettings(layout="sbs")
    row: dict = {"size": f"{w}x{h}", "frames": info.frames, "load_before": round(os.getloadavg()[0], 2)}
    cpu_ms: dict = {}

    with Clock() as c:
        decoded = list(FrameReader(info))
    n = len(decoded)
    row["decode_fps"], cpu_ms["decode"] = n / c.wall, 1000 * (c.cpu + c.child) / n

    provider = FolderDepth(depth_dir)
    with Clock() as c:
        depths = [provider([f], i)[0] for i, f in enumerate(decoded)]
    row["depth_fps"], cpu_ms["depth"] = n / c.wall, 1000 * c.cpu / n

    stab = Stabiliser(settings.stabilise, float(info.fps))
    with Clock() as c:
        normalised = [stab(f, d) for f, d in zip(decoded, depths, strict=True)]
        disps = [
            _resize_to(disparity_pixels(x, w, settings.divergence, settings.convergence), w, h) for x in normalised
        ]
    row["stabilise_fps"], cpu_ms["stabilise"] = n / c.wall, 1000 * c.cpu / n
    del normalised

    render = _StereoRenderer(settings, w)
    render(decoded[0], np.zeros((h, w), np.float32) + settings.convergence, stab)  # compiled / loaded from cache
    from viewshift.video.scanline import shift_view

    with Clock() as c:
        composed = []
        for f, disp in zip(decoded, disps, strict=True):
            both = np.empty((h, 2 * w, 3), np.uint8)
            shift_view(f, disp, 0.5, out=both[:, :w])
            shift_view(f, disp, -0.5, out=both[:, w:])
            composed.append(both)
    row["render_fps"], cpu_ms["render"] = n / c.wall, 1000 * c.cpu / n

    with Clock() as c:
        writer = FrameWriter(folder / "encode_only.mp4", 2 * w, h, info.fps, colour=info.colour)
        for frame in composed:
            writer.write(frame)
        writer.close()
    row["encode_fps"], cpu_ms["encode"] = n / c.wall, 1000 * (c.cpu + c.child) / n
    del composed, decoded, disps

    out = folder / f"converted_{w}x{h}.mp4"
    with Clock() as c:
        result = convert_video(clip, out, depth=depth_dir, settings=settings, overwrite=True, progress=False)
    row["pipeline_fps"] = result.frames / c.wall
    cpu_ms["pipeline"] = 1000 * (c.cpu + c.child) / result.frames
    cpus = os.cpu_count() or 1
    # What the CPU time allows on this machine's cores when nothing else runs (stages overlapped perfectly).
    row["pipeline_fps_free_cores"] = 1000 * cpus / cpu_ms["pipeline"]
    row["cpu_ms_per_frame"] = {k: round(v, 1) for k, v in cpu_ms.items()}
    row["pipeline_stage_seconds"] = result.stage_seconds
    row["load_after"] = round(os.getloadavg()[0], 2)
    return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in row.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=90, help="frames of the clip (default: 90 = 3 s)")
    ap.add_argument("--sizes", default="1280x720,1920x1080", help="frame sizes (default: 1280x720,1920x1080)")
    ap.add_argument("--out", default="docs/video_speed.json", help="where to write the table (default: docs/)")
    ap.add_argument("--work", default=None, help="folder for the clips (default: a temporary folder)")
    args = ap.parse_args()
    folder = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="viewshift-video-bench-"))
    rows = []
    for spec in args.sizes.split(","):
        w, h = (int(v) for v in spec.split("x"))
        rows.append(measure((w, h), args.frames, folder))
        print(json.dumps(rows[-1]), flush=True)
    cols = ["size", "decode_fps", "depth_fps", "stabilise_fps", "render_fps", "encode_fps", "pipeline_fps",
            "pipeline_fps_free_cores", "load_before", "load_after"]  # fmt: skip
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    from viewshift.io import atomic_path

    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps({"command": " ".join(sys.argv), "cpus": os.cpu_count(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
