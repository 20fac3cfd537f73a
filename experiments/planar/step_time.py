"""Time one training step of planar presets (1 thread), to plan a training budget.

Usage:

    taskset -c 0 python experiments/planar/step_time.py icstn-4-deep cnn-deep stn-deep rot-bins-3-val

For each preset: the mean time of 20 training steps (loss, backward, Adam) after 5 warm-up steps, and the time of
one validation pass. Numbers depend on what else runs on the core; history.md (section 6) gives them for an
idle core.
"""

from __future__ import annotations

import argparse
import time

import torch
from presets import PRESETS

from viewshift.planar.configs import build_model
from viewshift.planar.tasks import make_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="+", help="digit preset names")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in args.presets:
        config = PRESETS[name]
        task = make_task(config)
        model = build_model(config)
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        generator = torch.Generator().manual_seed(0)
        for i in range(25):
            if i == 5:
                start = time.perf_counter()
            loss, _ = task.loss(model, generator)
            opt.zero_grad()
            loss.backward()
            opt.step()
        step = (time.perf_counter() - start) / 20
        start = time.perf_counter()
        task.validate(model)
        print(f"{name}: {1000 * step:.0f} ms per step, validation {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
