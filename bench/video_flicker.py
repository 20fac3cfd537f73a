"""Flicker of the stereo disparity, stabilised against per-frame normalisation, on a synthetic and a real clip.

    nice -n 10 python bench/video_flicker.py [--frames 90] [--out docs/video_flicker.json]

Flicker = the mean absolute change, between consecutive frames, of the output disparity δ (pixels, at
divergence 2 % of the width) over pixels that did not change, also divided by the depth effect (the spread of δ
within a frame, 95th − 5th percentile), since a normalisation that flattens the picture flickers less in pixels.
Unchanged pixels: on the synthetic clip the known still wall; on the real clip (7-Scenes redkitchen, a slowly
moving hand-held camera) the pixels whose blurred grey value changed by less than 2 grey levels between the two
frames. Modes: ``per-frame`` (each frame's min/max, the usual naive
normalisation), ``percentiles`` (robust percentiles smoothed over time, no per-pixel smoothing) and ``smooth``
(the default: percentiles smoothed over time and unchanged pixels blended with the previous frame).

Hole filling: two renders of identical frames are compared in the pixels the move reveals: viewshift.video's
deterministic fill against the photo renderer's realism noise with a fixed seed and with a seed per frame.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.video_clips import REDKITCHEN  # noqa: E402

MODES = {
    "per-frame": {"mode": "per-frame"},
    "percentiles": {"mode": "smooth", "pixel_smoothing": 0.0},
    "smooth": {"mode": "smooth"},
}


def flicker(frames, depths, masks, mode: dict, fps: float = 30.0) -> tuple[float, float]:
    """Mean |Δδ| (px) over ``masks[t]`` (pixels unchanged between frames t and t+1), and the mean depth effect:
    the spread of δ within a frame (95th − 5th percentile, px)."""
    from viewshift.video.convert import DEFAULT_CONVERGENCE, _resize_to
    from viewshift.video.stabilise import Stabiliser, StabiliseSettings, disparity_pixels

    s = Stabiliser(StabiliseSettings(**mode), fps)
    h, w = frames[0].shape[:2]
    disp = [
        _resize_to(disparity_pixels(s(f, d), w, 2.0, DEFAULT_CONVERGENCE), w, h)
        for f, d in zip(frames, depths, strict=True)
    ]
    changes = [np.abs(disp[t + 1] - disp[t])[masks[t]].mean() for t in range(len(frames) - 1) if masks[t].any()]
    spread = [np.subtract(*np.percentile(x[::4, ::4], [95, 5])) for x in disp]
    return float(np.mean(changes)), float(np.mean(spread))


def synthetic(n: int) -> tuple[list, list, list]:
    """A still scene: far wall (depth 8), middle wall (4) and a near object (≈1.5) that comes and goes every
    half second; the depth has per-frame noise (2 % over the frame, 10 % on the object) as a network's has."""
    rng = np.random.default_rng(0)
    h, w = 180, 320
    tex = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    frames, depths = [], []
    for t in range(n):
        d = np.full((h, w), 4.0, np.float32)
        d[:60] = 8.0
        f = tex.copy()
        if (t // 15) % 2 == 0:
            d[90:165, 15:105] = 1.5 * (1 + 0.1 * rng.standard_normal())
            f[90:165, 15:105] = 200
        frames.append(f)
        depths.append(d * np.float32(1 + 0.02 * rng.standard_normal()))
    still = np.zeros((h, w), bool)
    still[75:, 150:] = True  # middle wall never covered
    return frames, depths, [still] * (n - 1)


def redkitchen(n: int, network: bool) -> tuple[list, list, list]:
    frames, depths = [], []
    for i in range(n):
        rgb = cv2.cvtColor(cv2.imread(str(REDKITCHEN / f"frame-{i:06d}.color.jpg")), cv2.COLOR_BGR2RGB)
        frames.append(rgb)
        if not network:
            d = cv2.imread(str(REDKITCHEN / f"frame-{i:06d}.depth.png"), cv2.IMREAD_UNCHANGED).astype(np.float32)
            d[d >= 65535] = 0
            from viewshift.video.depth import _valid_depth

            depths.append(_valid_depth(d / 1000.0, f"frame {i}"))
    if network:
        from viewshift.pipeline import default_depth_source
        from viewshift.video.depth import NetworkDepth

        net = NetworkDepth(default_depth_source())
        for k in range(0, n, 8):
            depths += net(frames[k : k + 8], k)
    greys = [cv2.GaussianBlur(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32), (9, 9), 0) for f in frames]
    masks = [np.abs(greys[t + 1] - greys[t]) < 2.0 for t in range(n - 1)]
    return frames, depths, masks


def hole_fill_flicker() -> dict:
    """Change in revealed pixels between two renders of the same frame (grey levels, mean absolute)."""
    from viewshift.pipeline import Move, ViewOptions, load_image, scene_from
    from viewshift.video.scanline import shift_view

    rng = np.random.default_rng(1)
    h, w = 120, 160
    img = cv2.GaussianBlur(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), (3, 3), 0)
    img = np.clip(img.astype(np.int16) + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)  # sensor noise
    depth = np.full((h, w), 4.0, np.float32)
    depth[30:90, 50:110] = 1.5
    scene = scene_from(load_image(img), depth, 150.0)
    out = {}
    for name, seeds in (("realism, fixed seed", (0, 0)), ("realism, seed per frame", (0, 1))):
        views = [scene.render(Move(right=0.1).pose(), options=ViewOptions(realism=True, seed=s)) for s in seeds]
        holes = views[0].holes
        out[name] = float(np.abs(views[0].image.astype(int) - views[1].image.astype(int))[holes].mean())
    disp = (150.0 * 0.1 / depth).astype(np.float32)
    a, holes = shift_view(img, disp, -1.0)
    b, _ = shift_view(img.copy(), disp.copy(), -1.0)
    out["viewshift.video fill"] = float(np.abs(a.astype(int) - b.astype(int))[holes].mean())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=90, help="frames of each clip (default: 90 = 3 s at 30 Hz)")
    ap.add_argument("--out", default="docs/video_flicker.json", help="where to write the table (default: docs/)")
    args = ap.parse_args()
    rows = {}
    clips = {"synthetic (known still wall)": lambda: synthetic(args.frames)}
    if REDKITCHEN.is_dir():
        clips["7-Scenes redkitchen, Kinect depth"] = lambda: redkitchen(args.frames, network=False)
        clips["7-Scenes redkitchen, built-in network depth"] = lambda: redkitchen(args.frames, network=True)
    for name, make in clips.items():
        frames, depths, masks = make()
        row = {}
        for mode, kw in MODES.items():
            change, spread = flicker(frames, depths, masks, kw)
            row[mode] = {"flicker_px": round(change, 4), "spread_px": round(spread, 2),
                         "relative": round(change / spread, 5) if spread > 0 else math.nan}  # fmt: skip
        row["smooth / per-frame (relative)"] = round(row["smooth"]["relative"] / row["per-frame"]["relative"], 3)
        rows[name] = row
        print(name, json.dumps(row), flush=True)
    holes = hole_fill_flicker()
    print("hole fill, mean |change| in revealed pixels between renders of one frame:", json.dumps(holes))
    print("flicker px (depth spread px) [flicker / spread]")
    print("| clip | per-frame | percentiles | smooth | smooth / per-frame, relative |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        cells = [f"{r[m]['flicker_px']} ({r[m]['spread_px']}) [{r[m]['relative']}]" for m in MODES]
        print(f"| {name} | {' | '.join(cells)} | {r['smooth / per-frame (relative)']} |")
    from viewshift.io import atomic_path

    result = {"command": " ".join(sys.argv), "flicker_px": rows, "hole_fill_change": holes,
              "load": round(os.getloadavg()[0], 2)}  # fmt: skip
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
