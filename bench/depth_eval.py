"""Depth of the built-in model on held-out real scenes, next to trivial baselines.

    python bench/depth_eval.py            # writes docs/depth/eval.json and docs/depth/eval.md

* Middlebury MiddEval3 held-out scenes (never trained on): Adirondack, Piano, Teddy, Vintage. Ground truth
  ``f B / (d + doffs)``; median scaling and, separately, scale-and-shift alignment of the disparity. Also the
  right view rendered from the left through the renderer with the median-scaled prediction (PSNR on the pixels
  the renderer covers; "identity" is the left image itself on the same pixels; "ground truth" renders with the
  true depth).
* 7-Scenes redkitchen (a domain the model never saw): every 10th of the 300 frames, Kinect depth, capped at
  10 m.
"""

from __future__ import annotations

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


def main(argv: list[str] | None = None) -> int:
    model = argv[0] if argv else None
    pairs = [
        p
        for p in middlebury_pairs(DATA / "stereo" / "middlebury")
        if p.K_left is not None and p.name.split("/")[-1] in HELD_OUT
    ]
    sources = {"built-in": BuiltinDepth(model), "constant": ConstantDepth(), "lower-is-nearer": LowerIsNearer()}
    out: dict = {"command": "python bench/depth_eval.py", "scenes": [p.name for p in pairs]}
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
    depth_keys = ["abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3"]
    md = [f"Command: `{out['command']}`. Held-out Middlebury scenes: {', '.join(out['scenes'])}.", ""]
    for key in ("middlebury_median", "middlebury_scale_shift", "sevenscenes_median", "sevenscenes_scale_shift"):
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
    (REPO / "docs" / "depth").mkdir(parents=True, exist_ok=True)
    (REPO / "docs" / "depth" / "eval.json").write_text(text)
    (REPO / "docs" / "depth" / "eval.md").write_text("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
