"""Speed of geometric depth: 10 frames at 640×480 (7-Scenes redkitchen 100, 110, ..., 190), as a user runs it.

    python bench/multiview_speed.py            # prints a table, writes docs/depth/multiview_speed.json

Times ``estimate_cameras`` (focal searched, as without EXIF or --focal) and ``multiview_depth`` of the middle
frame, with 1 and 2 torch threads, as wall seconds and as CPU seconds of this process (the CPU time says what
the work costs when the machine is shared; the target is 20 s of wall time on an otherwise idle 2-core machine).
The load average before and after is recorded.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("VIEWSHIFT_SHARED_DATA", REPO / ".." / "shared" / "data")).resolve()
TARGET_S = 20.0


def main() -> int:
    import viewshift  # noqa: F401, I001  (before torch, as the command line: idle OpenMP threads then sleep)
    import torch

    from viewshift.io import atomic_path, read_image
    from viewshift.multiview import SweepConfig, estimate_cameras, multiview_depth

    root = DATA / "video" / "7scenes-redkitchen" / "frames"
    if not root.exists():
        print(f"shared data not found at {root}", file=sys.stderr)
        return 1
    frames = [read_image(root / f"frame-{i:06d}.color.jpg").rgb for i in range(100, 200, 10)]
    load_before = os.getloadavg()
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        w0, c0 = time.perf_counter(), time.process_time()
        cams = estimate_cameras(frames)
        w1, c1 = time.perf_counter(), time.process_time()
        multiview_depth(frames, 5, cameras=cams, config=SweepConfig(threads=threads))
        w2, c2 = time.perf_counter(), time.process_time()
        rows.append(
            {
                "threads": threads,
                "cameras_wall_s": w1 - w0,
                "cameras_cpu_s": c1 - c0,
                "depth_wall_s": w2 - w1,
                "depth_cpu_s": c2 - c1,
                "total_wall_s": w2 - w0,
                "total_cpu_s": c2 - c0,
            }
        )
    load_after = os.getloadavg()
    lines = [
        "| torch threads | cameras wall s | cameras CPU s | depth wall s | depth CPU s | total wall s | total CPU s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['threads']} | {r['cameras_wall_s']:.1f} | {r['cameras_cpu_s']:.1f} | {r['depth_wall_s']:.1f} "
            f"| {r['depth_cpu_s']:.1f} | {r['total_wall_s']:.1f} | {r['total_cpu_s']:.1f} |"
        )
    note = (
        f"10 frames 640×480, target {TARGET_S:.0f} s; load average {np.round(load_before, 1).tolist()} before, "
        f"{np.round(load_after, 1).tolist()} after, on {os.cpu_count()} cores "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})."
    )
    print("\n".join(lines))
    print(note)
    out = REPO / "docs" / "depth" / "multiview_speed.json"
    with atomic_path(out) as tmp:
        tmp.write_text(
            json.dumps(
                {"rows": rows, "load_before": load_before, "load_after": load_after, "note": note, "table": lines},
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
