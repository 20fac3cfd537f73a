"""Train one preset of the planar study (``presets.py``, rounds 1-8) into a run folder, resumably.

Usage:

    python experiments/planar/train.py --preset rot-naive-highlr-3 -o RUNS/rot-naive-highlr-3

The same loop as ``viewshift planar train`` (:func:`viewshift.planar.train.train`), which knows only the five
presets of the shipped models. Each run writes ``config.json``, ``checkpoint.pt``, ``log.txt``, ``model.pt`` and
``model.json``; running the same command again continues from the checkpoint.
"""

from __future__ import annotations

import argparse
import os

from presets import PRESETS

from viewshift.planar.train import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True, choices=sorted(PRESETS), metavar="NAME", help="preset name")
    parser.add_argument("-o", "--output", required=True, help="run folder")
    parser.add_argument("--steps", type=int, default=None, help="step budget (default: the preset's)")
    parser.add_argument("--max-minutes", type=float, default=None, help="wall-time budget (default: none)")
    parser.add_argument("--data", default=None, help="digit mosaic PNG (default: the shared data's)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all cores)")
    parser.add_argument("--no-resume", action="store_true", help="start afresh (default: continue a checkpoint)")
    args = parser.parse_args()
    path = train(
        PRESETS[args.preset],
        args.output,
        data_path=args.data,
        resume=not args.no_resume,
        max_steps=args.steps,
        max_minutes=args.max_minutes,
        threads=args.threads,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
