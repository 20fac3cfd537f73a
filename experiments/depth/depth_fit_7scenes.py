"""Fit depth and pose to the hand-held 7-Scenes clip (test-time training) and measure what it gives.

History (moved from bench/ on 4 December 2026): this script made the results in experiments/depth/results that
experiments/depth/README.md describes. It is kept as the record of how they were made; it is not maintained
against later library changes.

    python experiments/depth/depth_fit_7scenes.py --minutes 15

1. Clips (not in the repo, under runs/): 7-Scenes redkitchen frames 0–249, every 3rd (84 frames, 256×192,
   K = 585 px scaled by 0.4, ground-truth poses in poses.txt for scoring only) to fit on; frames 252–297, every
   3rd (16 frames), held out.
2. ``viewshift fit``'s function: start from the built-in model, train depth + pose self-supervised.
3. Pose: snippet ATE (3-frame snippets, per-snippet least-squares scale) and rotation error of the fitted pose
   network on both clips.
4. View synthesis on the held-out frames: frame k+1 rendered from frame k through the renderer with the depth
   of frame k (fitted model / built-in model / ground truth), each median-scaled to the ground-truth depth, and
   the ground-truth relative pose; PSNR on the pixels every method covers, next to the identity (frame k as is).
5. Depth metrics of the fitted and built-in models on the held-out frames (median scaling).

Writes experiments/depth/results/fit_7scenes.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from viewshift.depth.builtin import BuiltinDepth
from viewshift.learn import metrics as M
from viewshift.learn.data import write_clip
from viewshift.learn.evaluate import ConstantDepth, LowerIsNearer, evaluate_frames_depth, sevenscenes_frames
from viewshift.learn.fit import fit_clip, predict_snippets
from viewshift.render.view import render_view

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("VIEWSHIFT_SHARED_DATA", REPO / ".." / "shared" / "data")).resolve()
SCENE = DATA / "video" / "7scenes-redkitchen"
SIZE = (192, 256)
SCALE = 0.4


def make_clip(out: Path, start: int, stop: int, step: int = 3) -> Path:
    frames, poses = [], []
    for rgb, _, pose in sevenscenes_frames(SCENE, step, start, stop):
        frames.append(cv2.resize(rgb, SIZE[::-1], interpolation=cv2.INTER_AREA))
        poses.append(pose)
    f = 585.0 * SCALE
    K = np.array([[f, 0, (320 + 0.5) * SCALE - 0.5], [0, f, (240 + 0.5) * SCALE - 0.5], [0, 0, 1]])
    meta = {"source": str(SCENE), "frames": f"{start}:{stop}:{step}", "size": list(SIZE)}
    return write_clip(out, frames, K, np.stack(poses), meta, overwrite=True)


def view_synthesis(sources: dict, start: int = 252, stop: int = 300, step: int = 3) -> dict:
    frames = list(sevenscenes_frames(SCENE, step, start, stop))
    K = torch.tensor([[585.0 * SCALE, 0, 127.5], [0, 585.0 * SCALE, 95.5], [0, 0, 1]])[None]
    small = [
        (
            cv2.resize(rgb, SIZE[::-1], interpolation=cv2.INTER_AREA),
            cv2.resize(d, SIZE[::-1], interpolation=cv2.INTER_NEAREST),
            p,
        )
        for rgb, d, p in frames
    ]
    scores: dict[str, list] = {k: [] for k in [*sources, "identity"]}
    for (a, da, pa), (b, _, pb) in zip(small[:-1], small[1:], strict=True):
        T = torch.from_numpy(np.linalg.inv(pb) @ pa).float()[None]  # b_T_a
        img = torch.from_numpy(a.copy()).permute(2, 0, 1)[None].float() / 255
        views, covered = {}, np.ones(SIZE, bool)
        valid = np.isfinite(da)
        for name, src in sources.items():
            pred = src.estimate(a).depth if name != "ground_truth" else np.where(valid, da, np.nanmax(da))
            pred, _ = M.align_depth(pred, da, valid, "median")
            out = render_view(img, torch.from_numpy(pred.astype(np.float32))[None, None], K, T)
            views[name] = out.image[0].permute(1, 2, 0).numpy()
            covered &= ~out.holes[0, 0].numpy()
        target = b.astype(np.float32) / 255
        for name, v in views.items():
            scores[name].append(M.psnr(v, target, covered))
        scores["identity"].append(M.psnr(a.astype(np.float32) / 255, target, covered))
    return {k: float(np.mean(v)) for k, v in scores.items()} | {"pairs": len(small) - 1}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--work", default=str(REPO / "runs" / "fit-7scenes"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-fit", action="store_true", help="reuse the fitted model in --work")
    ap.add_argument("--anchor", type=float, default=0.0, help="anchor_weight of fit_clip (viewshift fit uses 10)")
    ap.add_argument("--out", default=str(REPO / "experiments" / "depth" / "results" / "fit_7scenes.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    fit_clip_dir = make_clip(work / "clip-fit", 0, 250)
    held_clip_dir = make_clip(work / "clip-heldout", 252, 300)
    model = work / "fitted.pt"
    result: dict = {"command": "python experiments/depth/depth_fit_7scenes.py " + " ".join(argv or sys.argv[1:])}
    if not args.skip_fit:
        result["fit"] = fit_clip(
            fit_clip_dir,
            model,
            seconds=60 * args.minutes,
            threads=args.threads,
            overwrite=True,
            progress=False,
            anchor_weight=args.anchor,
        )
    run = model.with_name(model.name + ".run")
    result["pose_fit_clip"] = predict_snippets(run, fit_clip_dir)
    result["pose_heldout_clip"] = predict_snippets(run, held_clip_dir)
    fitted, builtin = BuiltinDepth(model), BuiltinDepth()
    result["view_synthesis_heldout"] = view_synthesis({"fitted": fitted, "builtin": builtin, "ground_truth": None})
    held = lambda: sevenscenes_frames(SCENE, 3, 252, 300)  # noqa: E731
    result["depth_heldout"] = {
        name: evaluate_frames_depth(src, held())["mean"]
        for name, src in {
            "fitted": fitted,
            "builtin": builtin,
            "constant": ConstantDepth(),
            "lower_is_nearer": LowerIsNearer(),
        }.items()
    }
    text = json.dumps(result, indent=2)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
