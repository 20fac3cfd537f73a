"""Command-line entry points of viewshift.planar.

* ``viewshift planar train --preset NAME --out RUN`` trains one preset (resumable).
* ``viewshift planar eval (--run RUN | --model NAME) [--json OUT]`` evaluates on the fixed held-out test set.
* ``viewshift planar export --run RUN --name NAME --weights DIR [--vanishing-gate S A [--vanishing-agreement D]]``
  writes float16 weights + config.
* ``viewshift planar presets`` lists the presets.
* ``viewshift straighten PHOTO -o OUT`` levels a tilted photo.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from viewshift.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``planar`` command group and the ``straighten`` command."""
    planar = subparsers.add_parser("planar", help="learned 2-D geometry: digit rotation, IC-STN, photo roll")
    sub = planar.add_subparsers(dest="planar_command", metavar="ACTION")
    planar.set_defaults(func=lambda args: _help(planar))

    p_train = sub.add_parser("train", help="train one preset (resumable) into a run folder")
    p_train.add_argument("--preset", required=True, help="preset name (see `viewshift planar presets`)")
    p_train.add_argument("--out", required=True, help="run folder (config.json, checkpoint.pt, log.txt, model.pt)")
    p_train.add_argument("--steps", type=int, default=None, help="override the preset's number of steps")
    p_train.add_argument("--data", default=None, help="digit mosaic PNG (default ../shared/data/digits/...)")
    p_train.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p_train.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    p_train.set_defaults(func=_train)

    p_eval = sub.add_parser("eval", help="evaluate a run or a shipped model on its fixed held-out test set")
    which = p_eval.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", help="run folder with model.pt + model.json")
    which.add_argument("--model", help="shipped model name: digits, digits-3, digits-icstn, photo-roll")
    p_eval.add_argument(
        "--split", choices=("test", "val"), default="test", help="held-out test set (default) or validation set"
    )
    p_eval.add_argument("--json", default=None, help="write all results (with predictions) to this JSON file")
    p_eval.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    p_eval.set_defaults(func=_eval)

    p_export = sub.add_parser("export", help="write a run's weights (float16) and config into a weights folder")
    p_export.add_argument(
        "--run",
        required=True,
        action="append",
        help="run folder with model.pt + model.json; repeat for an ensemble of rotation runs",
    )
    p_export.add_argument("--name", required=True, help="model name, e.g. digits-icstn")
    p_export.add_argument("--weights", required=True, help="destination folder, e.g. viewshift/planar/weights")
    p_export.add_argument(
        "--vanishing-gate",
        nargs=2,
        type=float,
        metavar=("SUPPORT", "AMBIGUITY"),
        default=None,
        help="roll runs: level photos whose vertical vanishing point passes these thresholds by it",
    )
    p_export.add_argument(
        "--vanishing-agreement",
        type=float,
        metavar="DEGREES",
        default=None,
        help="with --vanishing-gate: use the vanishing point only within DEGREES of the network's own estimate",
    )
    p_export.set_defaults(func=_export)

    p_presets = sub.add_parser("presets", help="list the training presets")
    p_presets.set_defaults(func=_presets)

    p_str = subparsers.add_parser("straighten", help="level a tilted photo (roll within ±20°) and crop")
    p_str.add_argument("photo", help="input photo (JPEG, PNG, TIFF, WebP, PPM)")
    p_str.add_argument("-o", "--output", required=True, help="output image file")
    p_str.add_argument("--keep-size", action="store_true", help="keep the size and fill the corners")
    p_str.add_argument("--fill", choices=("black", "white", "edge"), default="black", help="fill with --keep-size")
    p_str.add_argument("--roll", type=float, default=None, help="use this roll (degrees, CCW) instead of estimating")
    p_str.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p_str.add_argument("--max-pixels", type=int, default=100_000_000, help="refuse larger images")
    p_str.set_defaults(func=_straighten)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _presets(args: argparse.Namespace) -> int:
    import dataclasses

    from viewshift.planar.configs import PRESETS

    for name, cfg in PRESETS.items():
        print(name, json.dumps(dataclasses.asdict(cfg)))
    return 0


def _train(args: argparse.Namespace) -> int:
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


def summarise(result: dict) -> list[str]:
    """Human-readable lines of an evaluation result (any kind)."""
    lines = []
    if "overall" in result:
        o = result["overall"]
        lines.append(
            f"all: n={o['count']} mean={o['mean']:.2f}° median={o['median']:.2f}° "
            f"within5={100 * o['within_5']:.1f}% p90={o['p90']:.2f}°"
        )
        t = result["overall_tta4"]
        lines.append(
            f"all, 4 quarter-turn views: mean={t['mean']:.2f}° median={t['median']:.2f}° "
            f"within5={100 * t['within_5']:.1f}%"
        )
        for cls, s in result["per_class"].items():
            lines.append(
                f"class {cls}: mean={s['mean']:.2f}° median={s['median']:.2f}° within5={100 * s['within_5']:.1f}% "
                f"within5(mod 180)={100 * s['within_5_mod_180']:.1f}%"
            )
    elif "error_image_protocol" in result:
        which = "validation" if result.get("split") == "val" else "test"
        lines.append(f"{which} error: {100 * result['error_image_protocol']:.2f}% (n={result['count']})")
        if "error_paper_protocol" in result:
            lines.append(f"{which} error, paper protocol: {100 * result['error_paper_protocol']:.2f}%")
    else:
        lines.append(
            f"roll: n={result['count']} mean={result['mean']:.2f}° median={result['median']:.2f}° "
            f"within1={100 * result['within_1']:.1f}% within2={100 * result['within_2']:.1f}% max={result['max']:.2f}°"
        )
        for name, err in result["per_photo"].items():
            lines.append(f"  {name}: mean {err:.2f}°")
    return lines


def _eval(args: argparse.Namespace) -> int:
    import torch

    from viewshift.io import atomic_path, check_output
    from viewshift.planar.train import evaluate_run, load_run

    if args.json:
        check_output(args.json, overwrite=args.overwrite, extensions=(".json",))
    torch.set_num_threads(1)
    if args.run:
        model, config = load_run(args.run)
    else:
        from viewshift.planar.api import ALIGN_MODELS, ANGLE_MODELS, ROLL_MODELS, WEIGHTS_DIR, load_model
        from viewshift.planar.configs import config_from_dict

        if args.model not in ANGLE_MODELS + ALIGN_MODELS + ROLL_MODELS:
            names = ", ".join(ANGLE_MODELS + ALIGN_MODELS + ROLL_MODELS)
            raise InputError(f"unknown model {args.model!r}; use one of {names}")
        model = load_model(args.model)
        config = config_from_dict(json.loads((WEIGHTS_DIR / f"{args.model}.json").read_text()))
    result = evaluate_run(model, config, split=args.split)
    result["split"] = args.split
    result["config"] = getattr(config, "preset", "")
    for line in summarise(result):
        print(line)
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(result))
        print(f"wrote {args.json}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from viewshift.planar.train import export_weights

    if args.vanishing_agreement is not None and not args.vanishing_gate:
        raise InputError("--vanishing-agreement needs --vanishing-gate")
    if args.vanishing_agreement is not None and not args.vanishing_agreement > 0:
        raise InputError(f"--vanishing-agreement must be a positive number of degrees, got {args.vanishing_agreement}")
    gate = tuple(args.vanishing_gate) if args.vanishing_gate else None
    if gate and args.vanishing_agreement is not None:
        gate += (args.vanishing_agreement,)
    print(f"wrote {export_weights(args.run, args.name, args.weights, gate)}")
    return 0


def _straighten(args: argparse.Namespace) -> int:
    import numpy as np

    from viewshift.io import check_output, read_image, write_image
    from viewshift.planar.api import explain_roll, straighten

    check_output(args.output, overwrite=args.overwrite, inputs=[args.photo])
    loaded = read_image(args.photo, max_pixels=args.max_pixels)
    image = loaded.rgb if loaded.alpha is None else np.dstack([loaded.rgb, loaded.alpha])
    if args.roll is not None and not -45.0 <= args.roll <= 45.0:
        raise InputError(f"--roll {args.roll} is outside ±45°; give the tilt in degrees, counter-clockwise")
    if args.roll is None:
        estimate = explain_roll(loaded.rgb)
        roll, source = estimate.roll, f"from the {estimate.source.split(',')[0]}"
        if estimate.source == "network":
            source += "; no clear vertical vanishing point"
        elif estimate.source != "vanishing point":
            source += f"; the vertical vanishing point ({estimate.vanishing.roll:+.1f}°) disagreed with it"
    else:
        roll, source = args.roll, "given"
    levelled, roll = straighten(image, roll=roll, keep_size=args.keep_size, fill=args.fill)
    rgb = loaded.rgb
    if (
        loaded.alpha is None
        and np.array_equal(rgb[:, :, 0], rgb[:, :, 1])
        and np.array_equal(rgb[:, :, 1], rgb[:, :, 2])
    ):
        levelled = levelled[:, :, 0]  # a grey photo stays grey
    write_image(args.output, levelled, overwrite=args.overwrite, inputs=[Path(args.photo)])
    h, w = levelled.shape[:2]
    print(f"roll {roll:+.2f}° (counter-clockwise, {source}); rotated by {-roll:+.2f}°; wrote {args.output} ({w}×{h})")
    return 0
