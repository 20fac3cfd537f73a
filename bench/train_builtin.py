"""Train the built-in depth model (the weights shipped in ``viewshift/depth/weights/``).

Depth network only (preset ``builtin``): procedural scenes textured with real photos (exact depth and poses) and
the Middlebury stereo pairs (known baseline = photometric supervision through the inverse warp; ground-truth
disparity = scale-and-shift-invariant supervision), holding out the scenes in ``HOLDOUT`` for evaluation.
7-Scenes, KITTI, ETH3D and the other non-commercial sets are not used, so the weights carry no non-commercial
restriction.

    nohup python bench/train_builtin.py --out runs/builtin --steps 4000 > runs/builtin.out 2>&1 &

Resumable: run the same command again after a kill.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from viewshift.learn.trainer import make_config, train

DATA = Path(os.environ.get("VIEWSHIFT_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))

# Scenes never trained on (also excluded as synthetic textures). Teddy is in both MiddEval versions.
HOLDOUT = [
    "MiddEval3/Adirondack",
    "MiddEval3/Piano",
    "MiddEval3/Vintage",
    "MiddEval3/Teddy",
    "MiddEval2/Teddy",
    "MiddEval2/Cones",
    "MiddEval2/Aloe",
    "MiddEval2/Moebius",
    "MiddEval2/Reindeer",
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/builtin")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--no-synthetic", action="store_true", help="Middlebury pairs only (no procedural scenes)")
    ap.add_argument("--init", default="", help="start from this depth model file or checkpoint")
    ap.add_argument(
        "--synthetic-share",
        type=float,
        default=None,
        help="expected share of procedural-scene batches, the rest Middlebury pairs (default: half each)",
    )
    ap.add_argument("--seed", type=int, default=0, help="seeds the initialisation and every step's data")
    args = ap.parse_args(argv)
    mix = None
    if args.synthetic_share is not None:
        if not 0.0 < args.synthetic_share < 1.0:
            ap.error("--synthetic-share must be between 0 and 1 (exclusive); use --no-synthetic for none")
        if args.no_synthetic:
            ap.error("--synthetic-share and --no-synthetic contradict each other")
        mix = {"stereo": 1.0 - args.synthetic_share, "synthetic": args.synthetic_share}
    config = make_config(
        "builtin",
        stereo=[str(DATA / "stereo" / "middlebury")],
        stereo_holdout=HOLDOUT,
        texture_dirs=[str(DATA / "photos"), str(DATA / "stereo" / "middlebury")],
        synthetic=not args.no_synthetic,
        mix=mix,
        seed=args.seed,
        init=args.init,
        steps=args.steps,
        threads=args.threads,
        checkpoint_minutes=4.0,
        log_every=10,
    )
    max_s = None if args.max_minutes is None else 60 * args.max_minutes
    print(train(config, args.out, max_seconds=max_s, progress=sys.stderr.isatty()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
