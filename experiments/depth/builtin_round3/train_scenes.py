"""Does a depth model fit the scenes it was trained on?  ``abs_rel_disp`` and ``spearman`` (bench/depth_eval.py's
definitions) on the seven MiddEval3 training scenes (never the held-out ones), beside "lower is nearer".

    python experiments/depth/builtin_round3/train_scenes.py MODEL.pt [MODEL2.pt ...]
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("depth_eval", REPO / "bench" / "depth_eval.py")
depth_eval = importlib.util.module_from_spec(spec)
spec.loader.exec_module(depth_eval)

from viewshift.depth.builtin import BuiltinDepth  # noqa: E402
from viewshift.io import read_image  # noqa: E402
from viewshift.learn.data import middlebury_pairs  # noqa: E402
from viewshift.learn.evaluate import LowerIsNearer, stereo_depth_gt  # noqa: E402


def main(models: list[str]) -> dict:
    torch.set_num_threads(1)
    pairs = [
        p
        for p in middlebury_pairs(depth_eval.DATA / "stereo" / "middlebury")
        if p.K_left is not None and p.name.split("/")[-1] not in depth_eval.HELD_OUT
    ]
    frames = [(read_image(p.left).rgb, stereo_depth_gt(p)) for p in pairs]
    sources = {"lower-is-nearer": LowerIsNearer(), **{m: BuiltinDepth(m) for m in models}}
    out = {"scenes": [p.name for p in pairs]}
    for name, src in sources.items():
        rows = [depth_eval.disparity_scores(src.estimate(rgb).depth, gt) for rgb, gt in frames]
        out[name] = {k: round(float(np.mean([r[k] for r in rows])), 3) for k in rows[0]}
        print(name, out[name])
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=1))
