"""Depth of the built-in model on held-out real scenes, next to trivial baselines.

    python bench/depth_eval.py            # the shipped weights; writes docs/depth/eval.json and docs/depth/eval.md
    python bench/depth_eval.py MODEL.pt --out-dir DIR     # another depth model file; writes DIR/eval.{json,md}

* Middlebury MiddEval3 held-out scenes (never trained on): Adirondack, Piano, Teddy, Vintage. Ground truth
  ``f B / (d + doffs)``; median scaling and, separately, scale-and-shift alignment of the disparity. Also the
  right view rendered from the left through the renderer with the median-scaled prediction (PSNR on the pixels
  the renderer covers; "identity" is the left image itself on the same pixels; "ground truth" renders with the
  true depth).
* 7-Scenes redkitchen (a domain the model never saw): every 10th of the 300 frames, Kinect depth, capped at
  10 m.
* RGB-D stills (a second domain the model never saw; other rooms and captures than 7-Scenes): the two TUM
  RGB-D freiburg1 frames of ``video/tum-fr1-pair`` (depth / 5000 = m) and the five frames of
  ``video/rgbd-5frames`` (depth in mm), capped at 10 m.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from viewshift.depth.base import DepthMap
from viewshift.depth.builtin import BuiltinDepth
from viewshift.learn.data import middlebury_pairs
from viewshift.learn.evaluate import (
    ConstantDepth,
    LowerIsNearer,
    evaluate_frames_depth,
    evaluate_stereo_depth,
    rgbd_frames,
    sevenscenes_frames,
    stereo_depth_gt,
)

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("VIEWSHIFT_SHARED_DATA", REPO / ".." / "shared" / "data")).resolve()
HELD_OUT = ("Adirondack", "Piano", "Teddy", "Vintage")


class GroundTruth:
    """The true depth of one pair (holes filled with the farthest value), for the rendering upper bound."""

    def __init__(self, pair):
        self.pair = pair

    def estimate(self, rgb: np.ndarray) -> DepthMap:
        g = stereo_depth_gt(self.pair)
        return DepthMap(np.where(np.isfinite(g), g, np.nanmax(g)), "metric")


def table(rows: dict, keys: list[str]) -> str:
    lines = ["| source | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for name, r in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{r[k]:.3f}" for k in keys) + " |")
    return "\n".join(lines)


def rgbd_stills(data: Path):
    """The RGB-D stills set: TUM fr1 frames 1, 2 and the five ``rgbd-5frames`` frames, depth in metres."""
    tum = data / "video" / "tum-fr1-pair"
    five = data / "video" / "rgbd-5frames"
    yield from rgbd_frames([(tum / f"{i}.png", tum / f"{i}_depth.png") for i in (1, 2)], 1 / 5000)
    yield from rgbd_frames([(five / "color" / f"{i}.png", five / "depth" / f"{i}.pgm") for i in range(1, 6)], 1 / 1000)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", default=None, help="depth model file (default: the shipped weights)")
    ap.add_argument("--out-dir", default=str(REPO / "docs" / "depth"), help="where eval.json and eval.md go")
    args = ap.parse_args(argv)
    model = args.model
    out_dir = Path(args.out_dir)
    pairs = [
        p
        for p in middlebury_pairs(DATA / "stereo" / "middlebury")
        if p.K_left is not None and p.name.split("/")[-1] in HELD_OUT
    ]
    sources = {"built-in": BuiltinDepth(model), "constant": ConstantDepth(), "lower-is-nearer": LowerIsNearer()}
    command = " ".join(["python bench/depth_eval.py", *(argv if argv is not None else sys.argv[1:])])
    out: dict = {"command": command, "model": model or "shipped", "scenes": [p.name for p in pairs]}
    for align in ("median", "scale_shift"):
        out[f"middlebury_{align}"] = {
            k: evaluate_stereo_depth(s, pairs, align=align, render=align == "median")["mean"]
            for k, s in sources.items()
        }
    gt_render = [evaluate_stereo_depth(GroundTruth(p), [p])["mean"] for p in pairs]
    out["middlebury_median"]["ground truth"] = {k: float(np.mean([g[k] for g in gt_render])) for k in gt_render[0]}
    for align in ("median", "scale_shift"):
        out[f"sevenscenes_{align}"] = {
            k: evaluate_frames_depth(s, sevenscenes_frames(DATA / "video" / "7scenes-redkitchen", 10), align=align)[
                "mean"
            ]
            for k, s in sources.items()
        }
        out[f"rgbd_{align}"] = {
            k: evaluate_frames_depth(s, rgbd_stills(DATA), align=align)["mean"] for k, s in sources.items()
        }
    depth_keys = ["abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3"]
    md = [f"Command: `{out['command']}`. Held-out Middlebury scenes: {', '.join(out['scenes'])}.", ""]
    keys = [f"{d}_{a}" for d in ("middlebury", "sevenscenes", "rgbd") for a in ("median", "scale_shift")]
    for key in keys:
        rows = {k: v for k, v in out[key].items() if k != "ground truth"}
        md += [f"### {key}", "", table(rows, depth_keys), ""]
    md += [
        "### right-view synthesis on the held-out Middlebury pairs (median-scaled depth)",
        "",
        table(out["middlebury_median"], ["psnr", "ssim", "psnr_identity", "coverage"]),
        "",
    ]
    text = json.dumps(out, indent=2)
    print("\n".join(md))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "eval.json").write_text(text + "\n")
    (out_dir / "eval.md").write_text("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
