"""What keeping large freed blocks in the heap (``viewshift.allocator.keep_large_blocks``, which the ``viewshift``
command calls before it runs a command) changes: the same work in fresh processes, with glibc's default ``malloc``
settings and with the blocks kept.

    python bench/allocator_speed.py            # prints a table, writes docs/depth/allocator_speed.json

Work, 2 torch threads: the geometric depth (``multiview_depth``, its default sweep and fill) of 7-Scenes
redkitchen frame 130 at 640×480 given frames 100, 105, ..., 160 (6 on each side, as ``fit --frame-depths`` gives
a frame) and their cameras (estimated beforehand with the dataset's focal length, not timed); and, in a process
of its own, 32 training steps of ``bench/train_speed.py``'s ``small`` nets (channels-last, 128×416, batch 4;
median of the last 30). The settings alternate, three processes each (``--runs``); reported per work and
setting, the median over its processes of: wall and kernel (system) seconds, minor page faults, median step and
peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
import viewshift  # first, as the command line does (OpenMP's passive wait policy, set before torch loads)
if sys.argv[1] == "kept":
    from viewshift.allocator import keep_large_blocks
    assert keep_large_blocks()
import numpy as np, torch
torch.set_num_threads(2)
out = {}

def measure(work):
    r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    value = work()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    out.update(wall_s=round(time.perf_counter() - w0, 2), system_s=round(r1.ru_stime - r0.ru_stime, 2),
               page_faults=r1.ru_minflt - r0.ru_minflt, **(value or {}))

if sys.argv[2] == "sweep":
    from viewshift.io import read_image
    from viewshift.multiview import SweepConfig, estimate_cameras, multiview_depth

    root = Path(sys.argv[4]) / "video" / "7scenes-redkitchen" / "frames"
    frames = [read_image(root / f"frame-{i:06d}.color.jpg").rgb for i in range(100, 165, 5)]
    cams = estimate_cameras(frames, focal=525.0)
    measure(lambda: multiview_depth(frames, 6, cameras=cams, config=SweepConfig(threads=2)) and None)
else:
    sys.path.insert(0, sys.argv[3])
    from train_speed import VARIANTS, make_batch
    from viewshift.learn.trainer import SfmModel, make_config

    model = SfmModel(make_config("small", **VARIANTS["channels_last"]))
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    batch = make_batch()

    def steps():
        times = []
        for _ in range(32):
            t = time.perf_counter()
            loss = model(batch)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t)
        return {"median_step_s": round(float(np.median(times[2:])), 4)}

    measure(steps)
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps(out))
"""


def main() -> int:
    data = Path(os.environ.get("VIEWSHIFT_SHARED_DATA", REPO / ".." / "shared" / "data")).resolve()
    if not (data / "video" / "7scenes-redkitchen").exists():
        print(f"shared data not found at {data}", file=sys.stderr)
        return 1
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="processes per setting, alternating (default: 3)")
    args = ap.parse_args()
    res: dict = {"machine": f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at the start", "runs": {}}
    works = ("sweep", "train")
    for run in range(args.runs):
        for work in works:
            for mode in ("default", "kept"):
                cmd = [sys.executable, "-c", CHILD, mode, work, str(REPO / "bench"), str(data)]
                got = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()[-1]
                res["runs"].setdefault(f"{work} {mode}", []).append(json.loads(got))
                print(run, work, mode, got, flush=True)
    print(
        "\n| work | malloc | wall s | system s | page faults | median step s | peak MB |\n|---|---|---|---|---|---|---|"
    )
    for key, runs in res["runs"].items():
        med = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
        res.setdefault("median", {})[key] = med
        step = f"{med['median_step_s']:.3f}" if "median_step_s" in med else "–"
        print(
            f"| {key.replace(' ', ' | ')} | {med['wall_s']:.2f} | {med['system_s']:.2f} | {med['page_faults']:.0f} "
            f"| {step} | {med['peak_rss_mb']:.0f} |"
        )
    out = REPO / "docs" / "depth" / "allocator_speed.json"
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
