"""Train the built-in depth model (the weights shipped in ``viewshift/depth/weights/``).

Depth network only (preset ``builtin``): procedural scenes textured with real photos (exact depth and poses) and
the Middlebury stereo pairs (known baseline = photometric supervision through the inverse warp; ground-truth
disparity = scale-and-shift-invariant supervision), holding out the scenes in ``HOLDOUT`` for evaluation.
7-Scenes, KITTI, ETH3D and the other non-commercial sets are not used, so the weights carry no non-commercial
restriction.

    nohup python bench/train_builtin.py --out runs/builtin --steps 4000 > runs/builtin.out 2>&1 &

With ``--pseudo MANIFEST`` the frames pseudo-labelled by ``bench/make_pseudo_labels.py`` (geometric multi-view
depth of real clips, every pixel weighted by its confidence) join the mix; ``--mix`` sets the shares of the
kinds and ``--ranking-weight`` adds the ordinal loss across depth edges (docs/depth/builtin.md)::

    nice -n 10 python bench/train_builtin.py --out /work/depth_runs/builtin-pseudo --steps 3000 \
        --pseudo /work/pseudo_labels/manifest-train.json --mix pseudo=0.5,stereo=0.3,synthetic=0.2 \
        --ranking-weight 0.5 --lr 2e-4 --init viewshift/depth/weights/builtin_depth.pt --threads 2 --max-minutes 60

Round 2 (docs/depth/builtin.md): permissive labels only, the log-depth loss weighted up so depth *ratios*
(what rendering uses) are learned, not only disparity up to scale and shift::

    nice -n 10 python bench/train_builtin.py --out /work/depth_runs/builtin-r2 --steps 4000 \
        --pseudo /work/pseudo_labels/manifest-permissive.json --mix pseudo=0.3,stereo=0.5,synthetic=0.2 \
        --silog-weight 4 --init viewshift/depth/weights/builtin_depth.pt --threads 1 --max-minutes 105

Round 3 (docs/depth/builtin.md): the ``small-gn`` network (group normalisation after every convolution, which
the round-3 diagnosis found missing), from scratch, at 128×192 for more steps in the time there was::

    nice -n 10 python bench/train_builtin.py --out /work/runs/H/builtin-r3 --net small-gn --height 128 \
        --width 192 --steps 6000 --threads 1 --max-minutes 70

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
    ap.add_argument("--net", default=None, help="depth network preset (default: the training preset's 'small')")
    ap.add_argument("--height", type=int, default=None, help="training crop height (default: the preset's 192)")
    ap.add_argument("--width", type=int, default=None, help="training crop width (default: the preset's 256)")
    ap.add_argument("--seed", type=int, default=0, help="seeds the initialisation and every step's data")
    ap.add_argument("--pseudo", default="", help="pseudo-label manifest.json (or its folder) to add (default: none)")
    ap.add_argument(
        "--mix", default="", help="shares of the kinds, e.g. pseudo=0.5,stereo=0.3,synthetic=0.2 (default: equal)"
    )
    ap.add_argument("--ranking-weight", type=float, default=None, help="edge ranking loss weight (default: 0)")
    ap.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: the preset's 5e-4)")
    ap.add_argument(
        "--silog-weight",
        type=float,
        default=None,
        help="scale-invariant log-depth loss weight, which constrains depth ratios (default: the preset's 1.0)",
    )
    args = ap.parse_args(argv)
    mix = None
    if args.mix:
        if args.synthetic_share is not None:
            ap.error("--mix and --synthetic-share contradict each other")
        try:
            mix = {k: float(v) for k, v in (item.split("=") for item in args.mix.split(","))}
        except ValueError:
            ap.error(f"--mix must look like pseudo=0.5,stereo=0.3,synthetic=0.2, not {args.mix!r}")
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
        pseudo=[args.pseudo] if args.pseudo else None,
        ranking_weight=args.ranking_weight,
        lr=args.lr,
        silog_weight=args.silog_weight,
        depth_net=args.net,
        height=args.height,
        width=args.width,
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
