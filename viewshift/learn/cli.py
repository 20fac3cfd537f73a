"""Command group of the training side: ``train``, ``eval``, ``fit``, ``make-clip``, ``export-onnx``.

Handlers return an exit code and raise :class:`viewshift.errors.ViewshiftError` subclasses for bad input. Only
the standard library is imported at module level (``viewshift --help`` stays fast); handlers import torch.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from viewshift.cli_args import (
    CPU_COUNT,
    LazyChoices,
    add_camera,
    add_deprecated,
    add_max_minutes,
    add_output,
    add_threads,
    count,
    wrote,
)
from viewshift.errors import InputError, OutputError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train depth (and pose) networks: SfMLearner self-supervision, stereo pairs, synthetic scenes",
        description="Train with a named preset; every field of the config can be overridden. The run folder gets "
        "config.json, checkpoint.pt (atomic, resumable: run the same command again after a kill) and log.jsonl. "
        "For several processes: torchrun --nproc_per_node P $(which viewshift) train -o RUN ...",
    )
    add_output(p, "run folder (required; config.json, checkpoint.pt, log.jsonl)", positional=True)
    p.add_argument(
        "--preset",
        default="small",
        choices=LazyChoices("viewshift.learn.image2image", "TRAIN_PRESETS"),
        help="training preset (depth: the trainer's; fill-learned, shift-autoencoder, shift-cgan: docs/learned.md)",
    )
    p.add_argument("--clip", action="append", dest="clips", help="clip folder (repeatable)")
    p.add_argument("--stereo", action="append", help="Middlebury-style root of stereo pairs (repeatable)")
    p.add_argument(
        "--holdout", action="append", dest="stereo_holdout", help="stereo scene never trained on (repeatable)"
    )
    p.add_argument("--synthetic", action="store_true", default=None, help="add procedural scenes")
    p.add_argument("--textures", action="append", dest="texture_dirs", help="photo folder for synthetic textures")
    p.add_argument("--steps", type=count, metavar="N", help="step budget (default: the preset's)")
    p.add_argument("--batch-size", type=count, help="samples per step and process (default: the preset's)")
    p.add_argument("--height", type=count, help="training image height (default: the preset's)")
    p.add_argument("--width", type=count, help="training image width (default: the preset's)")
    p.add_argument("--lr", type=float, help="Adam learning rate (default: the preset's)")
    p.add_argument("--seed", type=int, help="seed of the initialisation and of every step's data (default: 0)")
    p.add_argument(
        "--threads",
        type=count,
        metavar="N",
        help=f"torch threads per process (default: the CPU cores, {CPU_COUNT}, shared among torchrun processes)",
    )
    p.add_argument("--stride", type=count, dest="clip_stride", help="frames between a target and its neighbours")
    p.add_argument("--init", help="checkpoint or depth model file to start from")
    p.add_argument("--config", help="JSON file of config fields (applied before the flags)")
    add_max_minutes(p)
    resume = p.add_mutually_exclusive_group()
    resume.add_argument("--no-resume", action="store_true", help="start afresh even if a checkpoint exists")
    resume.add_argument("--resume", action="store_true", help="continue from the checkpoint (what happens anyway)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (also implied by -q)")
    p.set_defaults(func=_train)

    p = subparsers.add_parser("eval", help="evaluate depth models on stereo benchmarks / RGB-D frames, or poses")
    sub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    d = sub.add_parser("depth", help="depth metrics (and right-view synthesis PSNR) of a model and baselines")
    d.add_argument(
        "--depth-model",
        metavar="SPEC",
        help="depth model file (.pt) to score (default: the built-in model); 'none' for the baselines only",
    )
    add_deprecated(d, "--model", "--depth-model", dest="depth_model", metavar="MODEL")
    d.add_argument("--stereo", help="Middlebury root (MiddEval3 pairs with calibration are used)")
    d.add_argument("--scenes", help="comma-separated scene names (default: all calibrated pairs)")
    d.add_argument("--sevenscenes", help="7-Scenes folder (frames/frame-*.color.jpg, depth.png in mm)")
    d.add_argument("--frame-step", type=count, default=10, metavar="N", help="use every N-th 7-Scenes frame")
    d.add_argument(
        "--align",
        default="median",
        choices=["median", "scale_shift"],
        help="how predictions are aligned to the ground truth before scoring",
    )
    d.add_argument("--baselines", action="store_true", help="also score constant depth and lower-is-nearer")
    _add_eval_output(d)
    d.set_defaults(func=_eval_depth)
    q = sub.add_parser("pose", help="snippet ATE and rotation error of a run's pose network on a clip with poses")
    q.add_argument("run", help="run folder or checkpoint with a pose network (e.g. MODEL.run from fit)")
    q.add_argument("clip", help="clip folder with poses.txt")
    q.add_argument("--stride", type=count, help="frames between a target and its neighbours (default: the run's)")
    _add_eval_output(q)
    q.set_defaults(func=_eval_pose)

    p = subparsers.add_parser(
        "fit",
        help="fine-tune depth and pose on your own clip within a time budget",
        description="Refine depth on the frames of one clip: cameras from the clip's poses.txt or estimated "
        "(structure from motion), a geometric (plane-sweep) depth teacher, then SfMLearner's losses (view synthesis "
        "with Monodepth2's minimum reprojection and auto-masking, smoothness) on neighbours chosen by parallax. "
        "Writes the depth model OUTPUT and the run folder OUTPUT.run/ (checkpoint at least every 30 s: run the same "
        "command again after Ctrl-C or a kill to continue; --no-resume starts afresh). docs/depth/fit.md has the "
        "measurements.",
    )
    p.add_argument("clip", help="clip folder (viewshift make-clip), video file or image folder")
    add_output(p, "depth model file to write (.pt; use it with --depth-model)")
    add_max_minutes(p, old=("--minutes",), default=5.0)
    p.add_argument("--steps", type=count, metavar="N", help="step budget (default: none; the time budget applies)")
    add_threads(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the batches and of the mask network (default: 0)")
    add_camera(
        p, focal_help="focal length in pixels when CLIP is a video or image folder (default: EXIF, else 60° fov)"
    )
    p.add_argument(
        "--poses",
        default="auto",
        choices=["auto", "clip", "estimate"],
        help="initial cameras: the clip's poses.txt, estimated from the frames, or auto (poses.txt if present)",
    )
    p.add_argument(
        "--min-parallax",
        type=float,
        default=2.0,
        metavar="PX",
        dest="min_parallax_px",
        help="neighbours are the nearest frames that shift the median depth by at least PX pixels",
    )
    p.add_argument(
        "--stride",
        type=int,
        default=0,
        metavar="N",
        help="fixed neighbour stride instead (default: 0, choose by parallax)",
    )
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate of the depth network")
    p.add_argument(
        "--teacher", type=float, default=1.0, dest="teacher_weight", help="weight of the geometric depth teacher"
    )
    p.add_argument(
        "--teacher-frames",
        type=int,
        default=12,
        metavar="N",
        help="frames given a geometric teacher depth, spread over the clip (-1: every fitted frame, 0: none; its "
        "time, part of the budget, grows with N)",
    )
    p.add_argument(
        "--teacher-width",
        type=count,
        default=160,
        metavar="PX",
        help="image width the teacher's plane sweep runs at (its cost grows with the square)",
    )
    p.add_argument(
        "--anchor",
        type=float,
        default=0.0,
        dest="anchor_weight",
        help="weight keeping depth close to the initial model's (default: 0, off; the old default 10 stopped the fit "
        "from learning)",
    )
    p.add_argument(
        "--frame-scales",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="learn a depth scale per frame besides the global one, so the network learns each frame's depth shape "
        "and not its distance (a camera closing in on its subject; default: off)",
    )
    p.add_argument(
        "--min-reprojection",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="judge each pixel by the source that matches it best, not the mean over both (Monodepth2; default: on)",
    )
    p.add_argument(
        "--automask",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="leave out pixels that the unwarped neighbours match better: uniform road or sky, anything moving with "
        "the camera teaches no depth, and pulled it to infinity (Monodepth2; each step takes ~1.25x as long; "
        "default: on)",
    )
    p.add_argument(
        "--explainability",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="predict SfMLearner's explainability mask (a second network: each step takes ~1.7x as long; default: off)",
    )
    p.add_argument(
        "--holdout-every",
        type=int,
        default=0,
        metavar="K",
        help="leave every K-th frame out of the fit, for scoring renders of it (default: 0, use all frames)",
    )
    p.add_argument("--init", help="depth model file to start from (default: the shipped fit_init.pt, group-normalised)")
    p.add_argument(
        "--max-width", type=count, default=640, metavar="PX", help="width of the clip made from a video or folder"
    )
    p.add_argument(
        "--frame-depths",
        metavar="DIR",
        help="after the fit, write the depth of every clip frame to DIR/<frame>.npy (the cameras' unit): plane-sweep "
        "geometry with the fitted cameras where it is confident, the fitted and the built-in network elsewhere; part "
        "of the run's "
        "output like OUTPUT (the same command again replaces them), not counted in the time budget (default: none)",
    )
    resume = p.add_mutually_exclusive_group()
    resume.add_argument("--no-resume", action="store_true", help="start afresh even if OUTPUT.run/ has a checkpoint")
    resume.add_argument("--resume", action="store_true", help="continue from the checkpoint (what happens anyway)")
    p.set_defaults(func=_fit)

    p = subparsers.add_parser("make-clip", help="make a training clip (frames + K.txt) from a video or image folder")
    p.add_argument("input", help="video file or folder of images")
    add_output(p, "clip folder to create")
    p.add_argument("--pattern", default="*", help="glob of the frames inside a folder")
    p.add_argument("--step", type=count, default=1, metavar="N", help="keep every N-th frame")
    p.add_argument("--max-frames", type=count, metavar="N", help="keep at most N frames (default: all)")
    p.add_argument("--max-width", type=count, default=640, metavar="PX", help="downscale wider frames to PX")
    add_camera(p, focal_help="focal length in pixels of the INPUT frames (default: EXIF, else a 60° field of view)")
    p.set_defaults(func=_make_clip)

    p = subparsers.add_parser("export-onnx", help="export a depth model file to ONNX and check it with onnxruntime")
    p.add_argument("model", nargs="?", help="depth model file (default: the built-in model)")
    add_output(p, "ONNX file to write")
    p.set_defaults(func=_export_onnx)


def _add_eval_output(p: argparse.ArgumentParser) -> None:
    add_output(p, "write the results as JSON here instead of printing them", required=False)
    p.add_argument("--threads", type=count, default=CPU_COUNT, metavar="N", help="torch threads")


def _train(args: argparse.Namespace) -> int:
    from viewshift.learn import image2image
    from viewshift.learn.trainer import train

    base = {}
    if args.config:
        base = json.loads(Path(args.config).read_text())
        base.pop("preset", None)
    if args.preset in image2image.PRESETS:  # hole filler and direct view-shift models (docs/learned.md)
        config, run = image2image.config_from_args(args, base), image2image.train_image2image
    else:
        config, run = _train_config(args, base), train
    max_s = None if args.max_minutes is None else 60 * args.max_minutes
    progress = not (args.no_progress or args.quiet)
    result = run(config, args.output, resume=not args.no_resume, progress=progress, max_seconds=max_s)
    losses = ", ".join(f"{k} {v:g}" for k, v in result.items() if k != "step")
    wrote(
        args,
        f"{args.output}/checkpoint.pt at step {result['step']} of {config.steps}" + (f" ({losses})" if losses else ""),
    )
    return 0


def _train_config(args: argparse.Namespace, base: dict):
    """The :class:`~viewshift.learn.trainer.TrainConfig` of ``viewshift train``: preset, ``base``, options."""
    from viewshift.learn.trainer import make_config

    flags = {
        k: getattr(args, k)
        for k in (
            "clips",
            "stereo",
            "stereo_holdout",
            "synthetic",
            "texture_dirs",
            "steps",
            "height",
            "width",
            "lr",
            "seed",
            "threads",
            "clip_stride",
            "init",
        )
    }
    flags["batch_size"] = args.batch_size
    if flags["threads"] is None and "threads" not in base:
        flags["threads"] = max(1, CPU_COUNT // int(os.environ.get("WORLD_SIZE", "1")))
    return make_config(args.preset, **{**base, **{k: v for k, v in flags.items() if v is not None}})


def _write_json(args: argparse.Namespace, obj: dict) -> None:
    """The results as JSON: printed, or written atomically to ``-o`` with the success line."""
    text = json.dumps(obj, indent=2)
    if not args.output:
        print(text)
        return
    from viewshift.io import atomic_path, check_output

    out = check_output(args.output, overwrite=args.overwrite, extensions=(".json",))
    with atomic_path(out) as tmp:
        tmp.write_text(text + "\n")
    wrote(args, str(out))


def _eval_depth(args: argparse.Namespace) -> int:
    import torch

    from viewshift.learn import evaluate as E
    from viewshift.learn.data import middlebury_pairs

    if args.output:
        from viewshift.io import check_output

        check_output(args.output, overwrite=args.overwrite, extensions=(".json",))
    torch.set_num_threads(args.threads)
    sources = {}
    if args.depth_model != "none":
        from viewshift.depth.builtin import load_builtin

        sources["model"] = load_builtin(args.depth_model)
    if args.baselines or args.depth_model == "none":
        sources["constant"] = E.ConstantDepth()
        sources["lower_is_nearer"] = E.LowerIsNearer()
    if not args.stereo and not args.sevenscenes:
        raise InputError("give --stereo ROOT and/or --sevenscenes DIR to evaluate on")
    results: dict = {"align": args.align}
    if args.stereo:
        pairs = [p for p in middlebury_pairs(args.stereo) if p.K_left is not None]
        if args.scenes:
            wanted = set(args.scenes.split(","))
            pairs = [p for p in pairs if p.name in wanted or p.name.split("/")[-1] in wanted]
        if not pairs:
            raise InputError(f"no calibrated stereo pairs under {args.stereo} match {args.scenes!r}")
        results["stereo_scenes"] = [p.name for p in pairs]
        results["stereo"] = {k: E.evaluate_stereo_depth(s, pairs, align=args.align) for k, s in sources.items()}
    if args.sevenscenes:
        results["sevenscenes"] = {
            k: E.evaluate_frames_depth(s, E.sevenscenes_frames(args.sevenscenes, args.frame_step), align=args.align)
            for k, s in sources.items()
        }
    _write_json(args, results)
    return 0


def _eval_pose(args: argparse.Namespace) -> int:
    import torch

    from viewshift.learn.fit import predict_snippets

    if args.output:
        from viewshift.io import check_output

        check_output(args.output, overwrite=args.overwrite, extensions=(".json",))
    torch.set_num_threads(args.threads)
    _write_json(args, predict_snippets(args.run, args.clip, stride=args.stride))
    return 0


def _fit(args: argparse.Namespace) -> int:
    from viewshift.learn.fit import FitConfig, fit_clip, run_folder

    clip = Path(args.clip)
    if not clip.exists():
        raise InputError(f"{clip} not found")
    if not (clip / "frames").is_dir():  # a video or image folder: make a clip beside the output first
        made = Path(args.output).with_name(Path(args.output).name + ".clip")
        if not (made.is_dir() and not args.no_resume and run_folder(args.output).exists()):
            _make_clip(
                argparse.Namespace(
                    input=str(clip),
                    output=str(made),
                    pattern="*",
                    step=1,
                    max_frames=None,
                    max_width=args.max_width,
                    focal=args.focal,
                    fov=args.fov,
                    overwrite=True,
                    quiet=True,
                )
            )
        clip = made
    config = FitConfig(
        lr=args.lr,
        teacher_weight=args.teacher_weight,
        anchor_weight=args.anchor_weight,
        explainability=args.explainability,
        min_reprojection=args.min_reprojection,
        automask=args.automask,
        frame_scales=args.frame_scales,
        teacher_frames=args.teacher_frames,
        teacher_width=args.teacher_width,
        min_parallax_px=args.min_parallax_px,
        stride=args.stride,
        holdout_every=args.holdout_every,
        poses=args.poses,
        seed=args.seed,
        init=str(Path(args.init).resolve()) if args.init else "",
    )
    result = fit_clip(
        clip,
        args.output,
        config=config,
        seconds=None if args.max_minutes is None else 60 * args.max_minutes,
        steps=args.steps,
        threads=args.threads,
        resume=not args.no_resume,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    n_unposed = len(result["unposed_frames"])
    unposed = f"; {n_unposed} frame{'s' * (n_unposed > 1)} without a pose left out" if n_unposed else ""
    depths = ""
    if args.frame_depths:
        from viewshift.learn.fit import write_fused_depths

        made = write_fused_depths(args.output, args.frame_depths, overwrite=True, progress=not args.quiet)
        alone = f", {len(made['network_only'])} without parallax or pose: network only" if made["network_only"] else ""
        depths = f", {made['frames']} frame depths in {args.frame_depths}/{alone}"
    wrote(
        args,
        f"{args.output} (depth fitted in {result['step']} steps, {result['seconds']:.0f} s; "
        f"cameras: {result['cameras']}{unposed}), {result['run']}/{depths}",
    )
    return 0


def _make_clip(args: argparse.Namespace) -> int:
    from viewshift.geometry import focal_from_fov
    from viewshift.learn.data import write_clip
    from viewshift.multiview.frames import read_frame_set

    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise OutputError(f"{out} exists; pass --overwrite to replace it")
    source = Path(args.input)
    if not source.exists():
        raise InputError(f"{source} not found")
    got = read_frame_set(
        source, step=args.step, max_frames=args.max_frames, max_width=args.max_width or None, pattern=args.pattern
    )
    frames = got.frames
    h, w = frames[0].shape[:2]
    if args.focal:
        f, said = args.focal * got.scale, "given"
    elif args.fov or not got.focal:
        f, said = focal_from_fov(args.fov or 60.0, w), f"{args.fov or 60.0:g}° field of view"
    else:
        f, said = got.focal, "EXIF" if got.K is None else "the clip's K.txt"
    K = [[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]]
    meta = {"source": str(source.resolve()), "step": args.step, "focal": said, "frames": len(frames)}
    write_clip(out, frames, K, None, meta, overwrite=args.overwrite)
    wrote(args, f"{out} ({len(frames)} frames {w}×{h}, focal {f:.1f} px: {said})")
    return 0


def _export_onnx(args: argparse.Namespace) -> int:
    from viewshift.depth.builtin import BUILTIN_WEIGHTS
    from viewshift.io import check_output
    from viewshift.learn.export import compare_onnx, export_onnx

    model = args.model or BUILTIN_WEIGHTS
    out = check_output(args.output, overwrite=args.overwrite, inputs=[model])
    export_onnx(model, out)
    err = compare_onnx(model, out)
    wrote(args, f"{out} (onnxruntime vs torch: max relative difference {err:.2e})")
    return 0
