"""Speed of one SfMLearner training step at 128×416, batch 4, three-frame snippets (target ≤ 0.35 s).

    python bench/train_speed.py --threads 2 --presets tiny,small --variants contiguous,channels_last \\
        --out docs/depth/train_speed_idle_threads2_run1.json

Forward + backward + Adam step of the depth and pose/explainability networks with the full objective
(photometric through the inverse warp at four scales, smoothness, explainability), per preset and variant.
Each variant sets the memory layout explicitly, whatever the preset's default:

* ``contiguous`` — ``channels_last=False`` (the default before 1 December 2026; called ``eager`` in the older
  JSON files);
* ``channels_last`` — ``channels_last=True`` (now the default of every preset but ``builtin``);
* ``compile`` — ``compile=True`` on the contiguous layout: ``torch.compile`` of both networks and the
  objective (the compile time is reported separately; it is paid once per run).

The variants of one preset are timed round-robin (one step of each in turn) so that a load change on a shared
machine hits them alike; each gets the median of ``--steps`` warm steps. The 1-minute load average is recorded
before and after, and the first step's loss of each variant (same seed, same batch) shows that they compute the
same thing. ``--height``, ``--width`` and ``--batch`` time other shapes (e.g. the ``fit`` preset's 192×256,
batch 2).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from viewshift.geometry import intrinsics
from viewshift.learn.trainer import SfmModel, make_config

VARIANTS = {
    "contiguous": {"channels_last": False},
    "channels_last": {"channels_last": True},
    "compile": {"channels_last": False, "compile": True},
}


def make_batch(b: int = 4, h: int = 128, w: int = 416) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "target": torch.rand(b, 3, h, w, generator=g),
        "sources": torch.rand(b, 2, 3, h, w, generator=g),
        "K": intrinsics(200.0, h, w, batch=b),
        "src_T_tgt": torch.eye(4).repeat(b, 2, 1, 1),
        "has_pose": torch.zeros(b, dtype=torch.bool),
        "depth": torch.zeros(b, 1, h, w),
        "depth_valid": torch.zeros(b, 1, h, w, dtype=torch.bool),
        "has_depth": torch.zeros(b, dtype=torch.bool),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--presets", default="tiny,small")
    ap.add_argument("--variants", default="contiguous,channels_last", help=f"comma-separated, of {sorted(VARIANTS)}")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per variant")
    ap.add_argument("--height", type=int, default=128)
    ap.add_argument("--width", type=int, default=416)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--out", default=None, help="also write the JSON here")
    args = ap.parse_args(argv)
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        ap.error(f"unknown variants {sorted(unknown)}; choose from {sorted(VARIANTS)}")
    torch.set_num_threads(args.threads)
    batch = make_batch(args.batch, args.height, args.width)
    res: dict = {
        "command": " ".join(["python bench/train_speed.py", *(argv if argv is not None else sys.argv[1:])]),
        "threads": args.threads,
        "batch": [args.batch, 3, args.height, args.width],
        "sources": 2,
        "load_average_1min_start": os.getloadavg()[0],
    }
    for preset in args.presets.split(","):
        base = make_config(preset)
        steps, first = {}, {}
        for name in args.variants.split(","):
            torch.manual_seed(0)
            model = SfmModel(dataclasses.replace(base, **VARIANTS[name]))
            opt = torch.optim.Adam(model.parameters(), lr=2e-4)

            def step(model=model, opt=opt) -> float:
                loss = model(batch)["loss"]
                opt.zero_grad()
                loss.backward()
                opt.step()
                return float(loss.detach())

            t = time.perf_counter()
            first[name] = step()
            res[f"{preset}_{name}_first_step_s"] = round(time.perf_counter() - t, 2)
            step()
            steps[name] = step
        times: dict[str, list[float]] = {k: [] for k in steps}
        for _ in range(args.steps):
            for name, step in steps.items():
                t = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - t)
        for name, ts in times.items():
            res[f"{preset}_{name}_step_s"] = round(float(np.median(ts)), 4)
            res[f"{preset}_{name}_first_loss"] = first[name]
    res["load_average_1min_end"] = os.getloadavg()[0]
    text = json.dumps(res, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
