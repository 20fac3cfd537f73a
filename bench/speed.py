"""Speed and peak memory of one rendered view against image size, depth given.

Each size runs in a fresh subprocess (so peak resident memory is that size's alone): a random textured image
with a random smooth depth map (two depth layers, so the view has disocclusions), camera moved right so the
largest parallax is 3 % of the width, background fill with realism. Reported: the median of ``--repeat`` warm
runs of ``Scene.render`` (the rendering, filling, realism and conversion to uint8; depth estimation excluded), the
time per megapixel, and the process's peak RSS.

Usage:  python bench/speed.py [--sizes 0.3,1,3,12] [--repeat 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path


def one(mp: float, repeat: int, threads: int) -> dict:
    import resource

    import numpy as np
    import torch

    from viewshift.pipeline import Move, ViewOptions, move_for_divergence, prepare_scene

    torch.set_num_threads(threads)
    w = int(round((mp * 1e6 * 4 / 3) ** 0.5))
    h = int(round(w * 3 / 4))
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3)).astype(np.uint8)
    import cv2

    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img.astype(np.int16) + rng.integers(-8, 9, img.shape), 0, 255).astype(np.uint8)
    depth = np.full((h, w), 4.0, np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    depth[((xx - w / 2) ** 2 + (yy - h / 2) ** 2) < (min(h, w) / 4) ** 2] = 1.5
    depth += (yy / h).astype(np.float32) * 0.5
    scene = prepare_scene(img, depth=depth, focal=float(w))
    move = move_for_divergence(scene, Move(right=1.0), 3.0)
    options = ViewOptions(fill="background", realism=True)
    scene.render(move.pose(), options=options)  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        view = scene.render(move.pose(), options=options)
        times.append(time.perf_counter() - t)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "megapixels": h * w / 1e6,
        "size": f"{w}x{h}",
        "seconds": float(np.median(times)),
        "holes %": 100 * float(view.holes.mean()),
        "peak MB": peak_mb,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="0.3,1,3,12")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--one", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "bench")
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.repeat, args.threads)))
        return
    rows = []
    for mp in (float(s) for s in args.sizes.split(",")):
        res = subprocess.run(
            [sys.executable, __file__, "--one", str(mp), "--repeat", str(args.repeat), "--threads", str(args.threads)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(
            f"{r['size']:>11s} {r['megapixels']:6.2f} MP  {r['seconds']:.3f} s  "
            f"{r['seconds'] / r['megapixels']:.3f} s/MP  peak {r['peak MB']:.0f} MB",
            flush=True,
        )
    cpu = platform.processor() or platform.machine()
    load = os.getloadavg()[0]
    machine = f"{cpu}, {args.threads} torch threads, Python {platform.python_version()}, load {load:.1f} at the end"
    lines = [
        "| size | megapixels | seconds (median, warm) | seconds per MP | holes % | peak RSS (MB) |",
        "|---|---|---|---|---|---|",
    ] + [
        f"| {r['size']} | {r['megapixels']:.2f} | {r['seconds']:.3f} | {r['seconds'] / r['megapixels']:.3f} | "
        f"{r['holes %']:.1f} | {r['peak MB']:.0f} |"
        for r in rows
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    text = (
        "# Rendering speed and memory\n\nMade by `python bench/speed.py` "
        f"on {machine} (the 2-core CPU machine this project is developed on).\n\n" + "\n".join(lines) + "\n"
    )
    (args.out / "speed.md").write_text(text + "\n![seconds against megapixels](speed.png)\n")
    _plot(rows, args.out / "speed.png", machine)
    print(text)


def _plot(rows: list[dict], path: Path, machine: str) -> None:
    """Seconds and peak memory against megapixels, log-log, with the goals (0.15 s at 1 MP, 3 s and 3 GB at 12 MP)
    and the line of cost proportional to pixels through the 1 MP point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mp = [r["megapixels"] for r in rows]
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(9, 3.6))
    ax_t.loglog(mp, [r["seconds"] for r in rows], "o-", label="viewshift (median, warm)")
    ref = next((r for r in rows if abs(r["megapixels"] - 1) < 0.05), rows[0])
    per_mp = ref["seconds"] / ref["megapixels"]
    ax_t.loglog(mp, [per_mp * m for m in mp], ":", color="grey", label="linear in pixels")
    ax_t.loglog([1, 12], [0.15, 3.0], "r*", markersize=10, label="goals")
    ax_t.set(xlabel="megapixels", ylabel="seconds", title="time per view")
    ax_t.legend(fontsize=8)
    ax_m.loglog(mp, [r["peak MB"] / 1024 for r in rows], "o-")
    ax_m.loglog([12], [3.0], "r*", markersize=10)
    ax_m.set(xlabel="megapixels", ylabel="GB", title="peak memory (RSS)")
    fig.suptitle(machine, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
