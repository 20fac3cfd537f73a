"""Structure from motion on the fit's whole clips: what `viewshift fit CLIP --poses estimate` (and `fit VIDEO`
without poses) starts from.

    python bench/clip_cameras.py                      # writes docs/depth/clip_cameras.json
    python bench/clip_cameras.py --clips fox --no-write

The clips are ``bench/depth_fit_clips.py``'s (made in a temporary folder from ../shared/data): the fox orbit,
7-Scenes redkitchen, LLFF flower, KITTI 06 and the KITTI turn, each at its fit size and with its known focal
length. For each: how many frames get a pose of their own (``Cameras.registered``; the fit leaves the others out),
and over those the ATE after a similarity (Umeyama) in the ground truth's unit and as a share of its path, the mean
relative rotation error, the reprojection RMS and the wall time of :func:`viewshift.multiview.estimate_cameras`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from depth_fit_clips import CLIPS, REPO  # noqa: E402  (bench scripts import each other from bench/)

WITH_POSES = ["fox", "7scenes", "flower", "kitti06", "kitti-turn"]  # (TUM's 4 frames have none)


def measure(name: str, work: Path) -> dict:
    """One clip's row (module docstring)."""
    from viewshift.io import read_image
    from viewshift.learn.data import read_clip
    from viewshift.multiview import estimate_cameras
    from viewshift.multiview.metrics import trajectory_errors

    clip = read_clip(CLIPS[name](work / name))
    images = [read_image(p).rgb for p in clip.frames]
    t0 = time.monotonic()
    cams = estimate_cameras(images, focal=float(clip.K[0, 0]))
    seconds = time.monotonic() - t0
    ok = np.asarray(cams.registered, bool)
    err = trajectory_errors(cams.world_T_cam[ok], np.asarray(clip.world_T_cam)[ok])
    h, w = images[0].shape[:2]
    return {
        "frames": len(images),
        "size": f"{w}×{h}",
        "registered": int(ok.sum()),
        "ate": err["ate"],
        "ate_percent_path": 100 * err["ate"] / err["path"],
        "rotation_deg": err["rotation_deg"],
        "reprojection_px": float(cams.reprojection_px),
        "seconds": round(seconds, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", default=",".join(WITH_POSES), help=f"comma-separated (default: {','.join(WITH_POSES)})")
    ap.add_argument("--no-write", action="store_true", help="print the table only (default: also write --out)")
    ap.add_argument(
        "--out",
        type=Path,
        default=REPO / "docs" / "depth" / "clip_cameras.json",
        help="the JSON to write (default: docs/depth/clip_cameras.json)",
    )
    args = ap.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.clips.split(","):
            rows[name] = measure(name, Path(tmp))
            print(name, rows[name], flush=True)
    print(
        "\n| clip | frames | registered | ATE | ATE % path | rot° | reproj px | s |\n|---|---|---|---|---|---|---|---|"
    )
    for name, r in rows.items():
        print(
            f"| {name} | {r['frames']} × {r['size']} | {r['registered']} | {r['ate']:.4f} "
            f"| {r['ate_percent_path']:.2f} | {r['rotation_deg']:.2f} | {r['reprojection_px']:.2f} "
            f"| {r['seconds']:.0f} |"
        )
    if not args.no_write:
        machine = f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
        out = {"command": "python bench/clip_cameras.py " + " ".join(sys.argv[1:]), "machine": machine, "clips": rows}
        from viewshift.learn.trainer import write_text_atomic

        write_text_atomic(json.dumps(out, indent=1) + "\n", args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
