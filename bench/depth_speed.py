"""Speed of the built-in depth model: warm inference for a 384×512 image (target ≤ 0.1 s).

    python bench/depth_speed.py [--threads 2]

Times ``BuiltinDepth.estimate`` (resize to the network's 192×256, network, resize back) and the network alone,
median of 20 warm runs; prints the machine's load average, since other processes share the 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

from viewshift.depth.builtin import load_builtin


def median_time(fn, runs: int = 20) -> float:
    fn()
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    source = load_builtin()
    rgb = (np.random.default_rng(0).random((384, 512, 3)) * 255).astype(np.uint8)
    x = torch.rand(1, 3, *source.input_size)
    res = {
        "threads": args.threads,
        "load_average_1min": os.getloadavg()[0],
        "estimate_384x512_s": median_time(lambda: source.estimate(rgb)),
        "network_only_s": median_time(lambda: source.predict_tensor(x)),
        "network_input": list(source.input_size),
    }
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
