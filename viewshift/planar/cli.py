"""Command-line entry points of viewshift.planar: ``viewshift planar train|eval`` and ``viewshift straighten``."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``planar`` command group and the ``straighten`` command."""
    planar = subparsers.add_parser("planar", help="learned 2-D geometry: digit rotation, IC-STN, photo roll")
    sub = planar.add_subparsers(dest="planar_command", metavar="ACTION")

    p_train = sub.add_parser("train", help="train one preset (resumable) into a run folder")
    p_train.add_argument("--preset", required=True, help="preset name (see `viewshift planar presets`)")
    p_train.add_argument("--out", required=True, help="run folder (config.json, checkpoint.pt, log.txt, model.pt)")
    p_train.add_argument("--steps", type=int, default=None, help="override the preset's number of steps")
    p_train.add_argument("--data", default=None, help="digit mosaic PNG (default ../shared/data/digits/...)")
    p_train.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p_train.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    p_train.set_defaults(func=_train)

    p_presets = sub.add_parser("presets", help="list the training presets")
    p_presets.set_defaults(func=_presets)


def _presets(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from viewshift.planar.configs import PRESETS

    for name, cfg in PRESETS.items():
        print(name, json.dumps(dataclasses.asdict(cfg)))
    return 0


def _train(args: argparse.Namespace) -> int:
    from viewshift.errors import InputError
    from viewshift.planar.configs import PRESETS
    from viewshift.planar.train import train

    if args.preset not in PRESETS:
        raise InputError(f"unknown preset {args.preset!r}; choose one of {', '.join(PRESETS)}")
    if args.steps is not None and args.steps < 1:
        raise InputError(f"--steps must be at least 1, got {args.steps}")
    path = train(
        PRESETS[args.preset],
        args.out,
        data_path=args.data,
        resume=not args.no_resume,
        max_steps=args.steps,
        threads=args.threads,
    )
    print(f"wrote {path}")
    return 0
