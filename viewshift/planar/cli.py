"""Command-line entry points of viewshift.planar.

* ``viewshift planar train --preset NAME -o RUN`` trains one preset (resumable).
* ``viewshift planar eval (--run RUN | --model NAME) [-o OUT.json]`` evaluates on the fixed held-out test set.
* ``viewshift planar export --run RUN --name NAME -o DIR [--vanishing-gate S A [--vanishing-agreement D]]``
  writes float16 weights + config.
* ``viewshift planar presets`` lists the presets.
* ``viewshift straighten PHOTO -o OUT`` levels a tilted photo.

Only argparse, the standard library and :mod:`viewshift.cli_args` are imported here; each handler imports what it
needs, so that ``viewshift --help`` stays fast. Old spellings (``--out``, ``--json``, ``--weights``, straighten's
``--fill``) still work for one release and print one deprecation line on stderr.
"""

from __future__ import annotations

import argparse
import json

from viewshift.cli_args import (
    add_deprecated,
    add_max_minutes,
    add_output,
    add_quiet,
    add_threads,
    count,
    wrote,
)

MODELS = ("digits", "digits-3", "digits-icstn", "photo-roll")
CORNER_FILLS = ("black", "white", "edge")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``planar`` command group and the ``straighten`` command."""
    planar = subparsers.add_parser("planar", help="learned 2-D geometry: digit rotation, IC-STN, photo roll")
    sub = planar.add_subparsers(dest="planar_command", metavar="ACTION")
    planar.set_defaults(func=lambda args: _help(planar))

    p_train = sub.add_parser("train", help="train one preset (resumable) into a run folder")
    p_train.add_argument("--preset", required=True, help="preset name (see `viewshift planar presets`)")
    # -o is required, but checked after parsing (viewshift.cli_args.settle_output) so that --out alone still works.
    p_train.add_argument(
        "-o", "--output", metavar="RUN", help="run folder: config.json, checkpoint.pt, log.txt, model.pt"
    )
    add_deprecated(p_train, "--out", "-o/--output", dest="output", metavar="RUN")
    p_train.set_defaults(output_required=True)
    add_quiet(p_train)
    p_train.add_argument("--steps", type=count, default=None, metavar="N", help="step budget (default: the preset's)")
    add_max_minutes(p_train)
    p_train.add_argument("--seed", type=int, default=None, metavar="N", help="random seed (default: the preset's)")
    p_train.add_argument(
        "--data", default=None, help="digit mosaic PNG (default: $VIEWSHIFT_SHARED_DATA/digits/digits_train.png)"
    )
    resume = p_train.add_mutually_exclusive_group()
    resume.add_argument(
        "--resume", dest="resume", action="store_true", default=True, help="continue from checkpoint.pt (the default)"
    )
    resume.add_argument(
        "--no-resume", dest="resume", action="store_false", help="start afresh even with a checkpoint (default: resume)"
    )
    add_threads(p_train, what="torch threads")
    p_train.set_defaults(func=_train)

    p_eval = sub.add_parser("eval", help="evaluate a run or a shipped model on its fixed held-out test set")
    which = p_eval.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", help="run folder with model.pt + model.json (this or --model is required)")
    which.add_argument("--model", help=f"shipped model name: {', '.join(MODELS)} (this or --run is required)")
    p_eval.add_argument("--split", choices=("test", "val"), default="test", help="held-out test set or validation set")
    add_output(p_eval, "also write all results, with predictions, to this JSON file", required=False, old=("--json",))
    add_threads(p_eval, what="torch threads")
    p_eval.set_defaults(func=_eval)

    p_export = sub.add_parser("export", help="write a run's weights (float16) and config into a weights folder")
    p_export.add_argument(
        "--run",
        required=True,
        action="append",
        help="run folder with model.pt + model.json; repeat for an ensemble",
    )
    p_export.add_argument("--name", required=True, help="model name, e.g. digits-icstn")
    add_output(p_export, "destination folder, e.g. viewshift/planar/weights", required=False, old=("--weights",))
    p_export.set_defaults(output_required=True)  # checked after parsing, so that --weights alone still works
    p_export.add_argument(
        "--vanishing-gate",
        nargs=2,
        type=float,
        metavar=("SUPPORT", "AMBIGUITY"),
        default=None,
        help="roll runs: level photos whose vertical vanishing point passes these thresholds by it (default: none)",
    )
    p_export.add_argument(
        "--vanishing-agreement",
        type=float,
        metavar="DEGREES",
        default=None,
        help="with --vanishing-gate: use the vanishing point only within DEGREES of the network's own estimate "
        "(default: no such check)",
    )
    p_export.set_defaults(func=_export)

    p_presets = sub.add_parser("presets", help="list the training presets")
    p_presets.set_defaults(func=_presets)

    p_str = subparsers.add_parser("straighten", help="level a tilted photo (roll within ±20°) and crop")
    p_str.add_argument("photo", help="input photo (JPEG, PNG, TIFF, WebP, PPM)")
    add_output(p_str, "output image file")
    p_str.add_argument(
        "--keep-size", action="store_true", help="keep the size and fill the corners instead of cropping"
    )
    p_str.add_argument(
        "--corner-fill", choices=CORNER_FILLS, default="black", help="colour of the corners with --keep-size"
    )
    add_deprecated(p_str, "--fill", "--corner-fill", dest="corner_fill", choices=CORNER_FILLS)
    p_str.add_argument(
        "--roll",
        type=float,
        default=None,
        metavar="DEG",
        help="the camera's roll, as in `viewshift render --roll`: positive = rolled clockwise seen from behind, so "
        "the picture's content turned counter-clockwise; the photo is turned back by it (default: estimated)",
    )
    p_str.add_argument("--max-pixels", type=count, default=100_000_000, help="refuse larger images (default: 1e8)")
    add_threads(p_str, what="torch threads")
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
    import dataclasses

    from viewshift.errors import InputError
    from viewshift.planar.configs import PRESETS
    from viewshift.planar.train import train

    if args.preset not in PRESETS:
        raise InputError(f"unknown preset {args.preset!r}; choose one of {', '.join(PRESETS)}")
    output = args.output
    if args.max_minutes is not None and not args.max_minutes > 0:
        raise InputError(f"--max-minutes must be positive, got {args.max_minutes}")
    config = PRESETS[args.preset]
    if args.seed is not None:
        config = dataclasses.replace(config, seed=args.seed)
    path = train(
        config,
        output,
        data_path=args.data,
        resume=args.resume,
        max_steps=args.steps,
        max_minutes=args.max_minutes,
        threads=args.threads,
    )
    more = "" if path.name == "model.pt" else " (out of --max-minutes; run the same command again to continue)"
    wrote(args, f"{path}{more}")
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


def load_shipped(name: str):
    """A shipped model by name and its config (``viewshift/planar/weights/<name>.json``)."""
    from viewshift.errors import InputError
    from viewshift.planar.api import WEIGHTS_DIR, load_model
    from viewshift.planar.configs import config_from_dict

    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; use one of {', '.join(MODELS)}")
    return load_model(name), config_from_dict(json.loads((WEIGHTS_DIR / f"{name}.json").read_text()))


def _eval(args: argparse.Namespace) -> int:
    import torch

    from viewshift.io import atomic_path, check_output
    from viewshift.planar.tasks import evaluate_run
    from viewshift.planar.train import load_run

    if args.output:
        check_output(args.output, overwrite=args.overwrite, extensions=(".json",))
    torch.set_num_threads(args.threads)
    model, config = load_run(args.run) if args.run else load_shipped(args.model)
    result = evaluate_run(model, config, split=args.split)
    result["split"] = args.split
    result["config"] = getattr(config, "preset", "")
    for line in summarise(result):
        print(line)
    if args.output:
        with atomic_path(args.output) as tmp:
            tmp.write_text(json.dumps(result))
        wrote(args, args.output)
    return 0


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from viewshift.errors import InputError, OutputError
    from viewshift.planar.train import export_weights

    output = args.output
    if args.vanishing_agreement is not None and not args.vanishing_gate:
        raise InputError("--vanishing-agreement needs --vanishing-gate")
    if args.vanishing_agreement is not None and not args.vanishing_agreement > 0:
        raise InputError(f"--vanishing-agreement must be a positive number of degrees, got {args.vanishing_agreement}")
    existing = [p for p in (Path(output) / f"{args.name}.pt", Path(output) / f"{args.name}.json") if p.exists()]
    if existing and not args.overwrite:
        raise OutputError(f"{existing[0]} exists; pass --overwrite to replace it")
    gate = tuple(args.vanishing_gate) if args.vanishing_gate else None
    if gate and args.vanishing_agreement is not None:
        gate += (args.vanishing_agreement,)
    path = export_weights(args.run, args.name, output, gate)
    wrote(args, f"{path}, {path.with_suffix('.json')}")
    return 0


def _straighten(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np
    import torch

    from viewshift.errors import InputError
    from viewshift.io import check_output, read_image, write_image
    from viewshift.planar.api import explain_roll, straighten

    torch.set_num_threads(args.threads)
    check_output(args.output, overwrite=args.overwrite, inputs=[args.photo])
    loaded = read_image(args.photo, max_pixels=args.max_pixels)
    image = loaded.rgb if loaded.alpha is None else np.dstack([loaded.rgb, loaded.alpha])
    if args.roll is not None and not -45.0 <= args.roll <= 45.0:
        raise InputError(f"--roll {args.roll} is outside ±45°; give the camera's roll in degrees (clockwise)")
    if args.roll is None:
        estimate = explain_roll(loaded.rgb)
        roll, source = estimate.roll, f"from the {estimate.source.split(',')[0]}"
        if estimate.source == "network":
            source += "; no clear vertical vanishing point"
        elif estimate.source != "vanishing point":
            source += f"; the vertical vanishing point ({estimate.vanishing.roll:+.1f}°) disagreed with it"
    else:
        roll, source = args.roll, "given"
    levelled, roll = straighten(image, roll=roll, keep_size=args.keep_size, fill=args.corner_fill)
    rgb = loaded.rgb
    if (
        loaded.alpha is None
        and np.array_equal(rgb[:, :, 0], rgb[:, :, 1])
        and np.array_equal(rgb[:, :, 1], rgb[:, :, 2])
    ):
        levelled = levelled[:, :, 0]  # a grey photo stays grey
    write_image(args.output, levelled, overwrite=args.overwrite, inputs=[Path(args.photo)])
    h, w = levelled.shape[:2]
    wrote(args, f"{args.output} ({w}×{h}), levelled: camera roll {roll:+.2f}° ({source})")
    return 0
