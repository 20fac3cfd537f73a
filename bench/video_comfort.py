"""Comfort analysis of real clips with the built-in depth network: how the default settings were chosen.

    nice -n 10 python bench/video_comfort.py [--out docs/video_comfort.json]

Clips made from ../shared/data with ffmpeg: 7-Scenes redkitchen (indoor, hand-held, 3 s), KITTI odometry 06
(driving, 51 frames at 10 Hz) and the NVIDIA fox capture (hand-held orbit of a figurine, portrait, 50 frames).
For each, :func:`viewshift.video.convert.analyse_video` reports the parallax percentiles (% of width) at the
default divergence and convergence, the share of frames beyond the comfort limits and with objects in front of
the screen at the frame edges, and its suggested divergence and convergence.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.video_clips import SHARED, redkitchen_clip  # noqa: E402


def image_clip(folder: Path, name: str, pattern: str, fps: int, scale: str) -> Path:
    from viewshift.video.ffmpeg import ffmpeg_exe

    out = folder / f"{name}.mp4"
    if not out.exists():
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-framerate", str(fps), "-pattern_type", "glob", "-i", pattern,
             "-vf", f"scale={scale},format=yuv420p", "-c:v", "libx264", "-crf", "18", str(out)],
            check=True,
        )  # fmt: skip
    return out


def main() -> None:
    from viewshift.video.convert import ConvertSettings, analyse_video

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/video_comfort.json", help="where to write the table (default: docs/)")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="viewshift-comfort-"))
    video = (SHARED / "video").resolve()
    clips = {
        "7-Scenes redkitchen (indoor, hand-held)": redkitchen_clip(folder, 640, 480, 90)[0],
        "KITTI 06 (driving)": image_clip(
            folder, "kitti06", str(video / "kitti-odom06-frames0-50" / "image_l" / "*.png"), 10, "1226:370"
        ),
        "fox (hand-held orbit, portrait)": image_clip(
            folder, "fox", str(video / "fox-handheld" / "images" / "*.jpg"), 10, "540:960"
        ),
    }
    settings = ConvertSettings()
    rows = {}
    for name, clip in clips.items():
        report = analyse_video(clip, settings=settings)
        rows[name] = report.to_dict()
        print(f"{name}:\n{report.summary()}", flush=True)
    print("| clip | nearest % (median frame) | farthest % | frames beyond 2 % behind | beyond 1 % in front | "
          "in front at an edge | suggested divergence | suggested convergence |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        p = r["parallax_pct"]
        print(f"| {name} | {p['p1'][1]:+.2f} | {p['p99'][1]:+.2f} | {r['share_behind']:.0%} | "
              f"{r['share_front']:.0%} | {r['share_edge']:.0%} | {r['suggested_divergence']:.2f} | "
              f"{r['suggested_convergence']:.2f} |")  # fmt: skip
    from viewshift.io import atomic_path

    result = {"command": " ".join(sys.argv), "settings": settings.to_dict(), "clips": rows,
              "load": round(os.getloadavg()[0], 2)}  # fmt: skip
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
