"""Speed of one SfMLearner training step at 128×416, batch 4, three-frame snippets (target ≤ 0.35 s).

    python bench/train_speed.py [--threads 2]

Forward + backward + Adam step of depth and pose/explainability networks with the full objective (photometric
through the inverse warp at four scales, smoothness, explainability), per preset, median of 10 warm steps.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

from viewshift.geometry import intrinsics
from viewshift.learn.trainer import SfmModel, make_config


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--presets", default="tiny,small,paper")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    b, h, w = 4, 128, 416
    batch = {
        "target": torch.rand(b, 3, h, w),
        "sources": torch.rand(b, 2, 3, h, w),
        "K": intrinsics(200.0, h, w, batch=b),
        "src_T_tgt": torch.eye(4).repeat(b, 2, 1, 1),
        "has_pose": torch.zeros(b, dtype=torch.bool),
        "depth": torch.zeros(b, 1, h, w),
        "depth_valid": torch.zeros(b, 1, h, w, dtype=torch.bool),
        "has_depth": torch.zeros(b, dtype=torch.bool),
    }
    res = {"threads": args.threads, "load_average_1min": os.getloadavg()[0], "batch": [b, 3, h, w]}
    for preset in args.presets.split(","):
        model = SfmModel(make_config(preset))
        opt = torch.optim.Adam(model.parameters(), lr=2e-4)

        def step(model=model, opt=opt):
            loss = model(batch)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()

        step()
        times = []
        for _ in range(10):
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
        res[f"{preset}_step_s"] = float(np.median(times))
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
