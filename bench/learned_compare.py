"""Learned view shifting beside the geometric pipeline, on the held-out Middlebury pairs (issue 15).

For each held-out pair with ground-truth disparity (``viewshift.learn.image2image.HELD_OUT``: MiddEval3 Adirondack,
Piano, Teddy, Vintage; MiddEval2 Teddy, Cones, Moebius, Reindeer; Aloe is not in ../shared/data) the right view
is predicted from the left one by:

- copying the left view;
- the end-to-end models (``viewshift train --preset shift-autoencoder`` / ``shift-cgan`` run folders), run on
  the whole left image at its native size;
- the geometric pipeline with the built-in depth network, its inverse depth scaled to the ground-truth disparity
  (one factor per image: the median ratio over known pixels), with every fill method including ``learned``;
- the geometric pipeline with the ground-truth disparity (as in ``bench/quality_middlebury.py``: unknown
  disparities filled from the farther side, ``Z = f·B/d`` with ``B = 1``, camera moved right by 1), every fill.

Scores (``quality_middlebury._scores``: PSNR, and the 3×3-window SSIM of ``viewshift.learn.metrics.ssim``) over
all pixels, over the *visible* and over the *hole* pixels, where holes are the same mask for every row: the
pixels the ground-truth render leaves empty (disocclusions and the right border), i.e. what a right view reveals.
Fill time: each fill method alone (``fill_holes`` on the ground-truth render, as ``Scene.render`` calls it, one
torch thread), best of 3, per megapixel of image, wall time and process CPU time; the load average is printed
beside it (the machine may be shared).

Usage:  python bench/learned_compare.py [--data ../shared/data] [--runs DIR] [--out docs]
        (--runs holds shift-autoencoder/ and shift-cgan/ run folders; missing ones are left out)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_middlebury import _scores  # noqa: E402  (bench scripts import each other from bench/)

from viewshift.depth.units import fill_from_farther  # noqa: E402
from viewshift.io import atomic_path, read_image, to_float  # noqa: E402
from viewshift.learn.data import middlebury_pairs  # noqa: E402
from viewshift.learn.image2image import HELD_OUT, load_generator, shift_view  # noqa: E402
from viewshift.pipeline import Move, ViewOptions, prepare_scene  # noqa: E402

FILLS = ("background", "texture", "telea", "ns", "learned")
KEYS = ("psnr all", "ssim all", "psnr visible", "ssim visible", "psnr holes", "ssim holes")
GRID_ROWS = (
    "copy left view",
    "autoencoder",
    "cGAN",
    "built-in depth, background fill",
    "built-in depth, learned fill",
    "GT depth, background fill",
    "GT depth, texture fill",
    "GT depth, learned fill",
    "true right view",
)
CROP = 150


def render_all(left_u8: np.ndarray, disparity: np.ndarray, label: str, row: dict, images: dict, right, holes):
    """Render the right view with every fill from a disparity map; scores into ``row``, images into ``images``."""
    scene = prepare_scene(left_u8, depth=disparity, depth_unit="disparity", depth_baseline=1.0, focal=1000.0)
    for fill in FILLS:
        view = scene.render(Move(right=1.0).pose(), options=ViewOptions(fill=fill))
        name = f"{label}, {fill} fill"
        image = to_float(view.image)
        images[name] = image
        row[name] = _scores(image, right, holes)
    return scene


def evaluate(data: Path, runs: Path, limit: int = 0) -> tuple[list[dict], list[str], dict]:
    from viewshift.depth.builtin import BuiltinDepth

    builtin = BuiltinDepth()
    shifters = {}
    for name, folder in (("autoencoder", "shift-autoencoder"), ("cGAN", "shift-cgan")):
        if (runs / folder / "checkpoint.pt").exists():
            gen, _, step = load_generator(runs / folder)
            shifters[name] = gen
            print(f"{name}: {runs / folder} at step {step}", flush=True)
    pairs = [p for p in middlebury_pairs(data / "stereo" / "middlebury") if p.name in HELD_OUT]
    pairs = pairs[:limit] if limit else pairs
    rows, names, crops = [], [], {}
    for pair in pairs:
        left_u8 = read_image(pair.left).rgb
        left, right = to_float(left_u8), to_float(read_image(pair.right).rgb)
        disp = pair.read_disparity()
        known = np.isfinite(disp) & (disp > 0)
        disp = fill_from_farther(np.where(known, disp, 0), known, farther="smaller")
        row: dict = {
            "pair": pair.name,
            "set": pair.name.split("/")[0],
            "megapixels": left.shape[0] * left.shape[1] / 1e6,
        }
        images: dict = {}
        # The hole mask of every row: what the ground-truth render leaves empty.
        scene = prepare_scene(left_u8, depth=disp, depth_unit="disparity", depth_baseline=1.0, focal=1000.0)
        holes = scene.render(Move(right=1.0).pose(), options=ViewOptions(fill="none")).holes
        row["holes %"] = 100 * float(holes.mean())
        images["copy left view"] = left
        row["copy left view"] = _scores(left, right, holes)
        for name, gen in shifters.items():
            images[name] = shift_view(gen, left)
            row[name] = _scores(images[name], right, holes)
        depth = builtin.estimate(left_u8).depth
        inv = 1.0 / np.maximum(depth, 1e-6)
        scale = float(np.median(disp[known] / inv[known]))
        render_all(left_u8, (scale * inv).astype(np.float32), "built-in depth", row, images, right, holes)
        scene = render_all(left_u8, disp.astype(np.float32), "GT depth", row, images, right, holes)
        row["fill time"] = time_fills(scene)
        images["true right view"] = right
        names = [n for n in row if isinstance(row[n], dict) and n != "fill time"]
        rows.append(row)
        crops[pair.name] = _crop(images, holes)
        print(
            f"{pair.name:22s} holes {row['holes %']:4.1f}%  "
            + "  ".join(f"{n[:26]}={row[n]['psnr holes']:.2f}" for n in names if "GT" in n or "left" in n),
            flush=True,
        )
    return rows, names, crops


def time_fills(scene) -> dict:
    """``{fill: (wall s, CPU s)}``: each fill alone on the scene's right-view render, best of 3, one thread."""
    from viewshift.geometry.poses import invert_pose
    from viewshift.render import kernels
    from viewshift.render.fill import fill_holes
    from viewshift.render.view import render_view

    pose = torch.as_tensor(Move(right=1.0).pose(), dtype=torch.float64).reshape(1, 4, 4)
    out = {}
    with torch.inference_mode(), kernels.torch_threads(1):
        r = render_view(scene.image, scene.depth, scene.K, invert_pose(pose).float())
        for fill in FILLS:
            fill_holes(r.image, r.depth, r.holes, fill, direction=(1.0, 0.0))  # warm-up (weights, caches)
            best = (float("inf"), float("inf"))
            for _ in range(3):
                t, c = time.perf_counter(), time.process_time()
                fill_holes(r.image, r.depth, r.holes, fill, direction=(1.0, 0.0))
                best = min(best[0], time.perf_counter() - t), min(best[1], time.process_time() - c)
            out[fill] = best
    return out


def per_pair(rows: list[dict]) -> str:
    """Hole PSNR per pair: the best classical fill (``background``) against ``learned``, both depths."""
    lines = [
        "| pair | holes % | GT depth: background | GT depth: learned | built-in depth: background "
        "| built-in depth: learned |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        vals = [
            r[f"{d}, {f} fill"]["psnr holes"] for d in ("GT depth", "built-in depth") for f in ("background", "learned")
        ]
        lines.append(f"| {r['pair']} | {r['holes %']:.1f} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")
    return "\n".join(lines)


def _crop(images: dict, holes: np.ndarray) -> dict:
    """The ``CROP``-pixel square with the most hole pixels (away from the right border), from every image."""
    h, w = holes.shape
    inner = holes.copy()
    inner[:, w - 40 :] = False
    integral = np.pad(inner.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    c = CROP
    counts = integral[c:, c:] - integral[:-c, c:] - integral[c:, :-c] + integral[:-c, :-c]
    y, x = np.unravel_index(int(np.argmax(counts)), counts.shape)
    return {k: v[y : y + c, x : x + c] for k, v in images.items()}


def table(rows: list[dict], names: list[str], title: str) -> str:
    lines = [
        f"**{title}** ({len(rows)} pairs, mean over pairs; holes = {np.mean([r['holes %'] for r in rows]):.1f} % "
        "of pixels on average)",
        "",
        "| method | " + " | ".join(KEYS) + " |",
        "|---|" + "---|" * len(KEYS),
    ]
    for name in names:
        vals = [np.nanmean([r[name][k] for r in rows]) for k in KEYS]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{v:.3f}" if "ssim" in k else f"{v:.2f}" for k, v in zip(KEYS, vals, strict=True))
            + " |"
        )
    return "\n".join(lines)


def timing(rows: list[dict]) -> str:
    lines = ["| fill | wall s per megapixel | CPU s per megapixel |", "|---|---|---|"]
    mp = sum(r["megapixels"] for r in rows)
    for fill in FILLS:
        wall = sum(r["fill time"][fill][0] for r in rows) / mp
        cpu = sum(r["fill time"][fill][1] for r in rows) / mp
        lines.append(f"| {fill} | {wall:.3f} | {cpu:.3f} |")
    return "\n".join(lines)


def grid(crops: dict, path: Path) -> None:
    """Rows = methods, columns = pairs: the same crop of each pair across rows, labelled."""
    import cv2

    labels = [r for r in GRID_ROWS if all(r in c for c in crops.values())]
    label_w, c = 250, CROP
    canvas = np.full((len(labels) * (c + 4) + 24, label_w + len(crops) * (c + 4), 3), 255, np.uint8)
    for j, name in enumerate(crops):
        cv2.putText(canvas, name.split("/")[1][:14], (label_w + j * (c + 4) + 4, 16), 0, 0.45, (0, 0, 0), 1)
    for i, label in enumerate(labels):
        y = 24 + i * (c + 4)
        cv2.putText(canvas, label, (4, y + c // 2), 0, 0.45, (0, 0, 0), 1)
        for j, cr in enumerate(crops.values()):
            tile = (np.clip(cr[label], 0, 1) * 255 + 0.5).astype(np.uint8)
            canvas[y : y + c, label_w + j * (c + 4) : label_w + j * (c + 4) + c] = tile
    from PIL import Image

    # 256 colours (median cut, no dither): ~0.75 MB instead of 3 MB; differences between rows stay visible.
    grid_image = Image.fromarray(canvas).quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    with atomic_path(path) as tmp:
        grid_image.save(tmp, format="PNG", optimize=True)


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=root / ".." / "shared" / "data")
    ap.add_argument("--runs", type=Path, default=root / "runs", help="folder of the shift-* run folders")
    ap.add_argument("--out", type=Path, default=root / "docs")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--pairs", type=int, default=0, help="only the first N held-out pairs (a quick check)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores", flush=True)
    rows, names, crops = evaluate(args.data.resolve(), args.runs.resolve(), args.pairs)
    text = "\n\n".join(
        table([r for r in rows if r["set"] == s], names, f"{s} held-out")
        for s in ("MiddEval3", "MiddEval2")
        if any(r["set"] == s for r in rows)
    )
    text += "\n\n" + table(rows, names, "All held-out pairs")
    text += "\n\nHole PSNR (dB) per pair:\n\n" + per_pair(rows)
    text += "\n\nFill time (the fill alone on the ground-truth renders, one thread, best of 3; all pairs' time over "
    text += f"all pairs' megapixels), load average {load:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:\n\n"
    text += timing(rows)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    doc = args.out / "learned.md"
    start, end = "<!-- learned_compare:start -->", "<!-- learned_compare:end -->"
    body = doc.read_text() if doc.exists() else f"# Learned view shifting\n\n{start}\n{end}\n"
    if start not in body:
        body += f"\n{start}\n{end}\n"
    head, rest = body.split(start, 1)
    tail = rest.split(end, 1)[1]
    command = f"python bench/learned_compare.py --runs RUNS --threads {args.threads}"
    command += f" --pairs {args.pairs}" if args.pairs else ""
    generated = f"{start}\nMade by `{command}` (RUNS: the folder of the shift-* runs).\n\n{text}\n{end}"
    with atomic_path(doc) as tmp:
        tmp.write_text(head + generated + tail)
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    grid(crops, args.out / "images" / "learned_grid.png")


if __name__ == "__main__":
    main()
