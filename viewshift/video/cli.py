"""Command-line side of video conversion: ``viewshift stereo VIDEO`` / ``viewshift render VIDEO``.

The main commands (``viewshift/commands.py``) call :func:`add_video_options` when they build their parsers and
hand a video input (or a folder of videos) to :func:`run_stereo` / :func:`run_render`. Until then, and as a
stand-alone entry, ``python -m viewshift.video stereo|render|analyse VIDEO -o OUT`` builds the same options
(:func:`main`). Only argparse and the standard library are imported at module level.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from viewshift.cli_args import LazyChoices

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts")


def is_video_input(spec: str | None) -> bool:
    """Whether a command's input is a video file, or a folder holding videos and no images."""
    if not spec:
        return False
    p = Path(spec)
    if p.is_file():
        return p.suffix.lower() in VIDEO_EXTENSIONS
    if p.is_dir():
        names = [q.suffix.lower() for q in p.iterdir() if not q.name.startswith(".")]
        images = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm")
        return any(s in VIDEO_EXTENSIONS for s in names) and not any(s in images for s in names)
    return False


VIDEO_LAYOUTS = ("sbs", "half-sbs", "tb", "half-tb", "anaglyph", "left-right", "right")


class _WithVideoLayouts(LazyChoices):
    """The photo layouts of ``--layout`` (any container) plus the video-only ones, as argparse ``choices``."""

    def __init__(self, photo) -> None:
        self.photo = photo

    def _values(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.photo, *VIDEO_LAYOUTS]))


def add_video_options(p: argparse.ArgumentParser) -> None:
    """Options that only a video input uses (called by ``viewshift stereo`` and ``viewshift render`` when they
    build their parsers). An existing ``--layout`` also accepts the video layouts, and the help of ``--divergence``
    and ``--convergence`` says what they mean for a video."""
    for action in p._actions:
        if action.dest == "layout" and action.choices is not None:
            action.choices = _WithVideoLayouts(action.choices)
            action.help = (action.help or "") + "; for a video also half-tb, and left-right (two files OUT_L, OUT_R)"
        elif action.dest == "divergence":
            action.help = (action.help or "") + "; for a video: the depth range in %% of the width (default: 1.8)"
        elif action.dest == "convergence":
            action.help = (action.help or "") + (
                "; for a video: the normalised disparity on the screen plane, 0 = the far end .. 1 = the near "
                "end of the depth range (default: 1.0)"
            )
    g = p.add_argument_group("video input (when the input is a video or a folder of videos)")
    g.add_argument("--codec", choices=("h264", "h265"), default="h264", help="video codec (default: h264)")
    g.add_argument("--crf", type=float, default=18.0, help="quality, lower = better and larger (default: 18)")
    g.add_argument(
        "--preset", default="superfast", help="x264/x265 preset, e.g. ultrafast .. slow (default: superfast)"
    )
    g.add_argument(
        "--bit-depth",
        choices=("auto", "8", "10"),
        default="auto",
        help="output bits per channel; auto: 10 when the source has more than 8 (default: auto)",
    )
    g.add_argument(
        "--odd-size",
        choices=("pad", "crop"),
        default="pad",
        help="odd width/height: pad by repeating the last column/row, or crop one (default: pad)",
    )
    g.add_argument(
        "--stabilise",
        choices=("smooth", "per-frame"),
        default="smooth",
        help="depth normalisation: percentiles smoothed over time, or each frame's min/max (default: smooth)",
    )
    g.add_argument("--batch", type=int, default=8, help="frames per depth-network pass (default: 8)")
    g.add_argument("--chunk-seconds", type=float, default=10.0, help="length of resumable chunks (default: 10)")
    g.add_argument(
        "--analyse",
        action="store_true",
        help="only analyse comfort (parallax in %% of width, frames beyond limits, edge violations) and suggest "
        "--divergence/--convergence; with -o REPORT.json also write the report (default: off)",
    )
    x = g.add_mutually_exclusive_group()
    x.add_argument(
        "--resume",
        dest="resume",
        action="store_true",
        default=True,
        help="continue an interrupted conversion from its last finished chunk (default)",
    )
    x.add_argument("--no-resume", dest="resume", action="store_false", help="start afresh (default: resume)")


def _get(args: argparse.Namespace, name: str, default=None):
    value = getattr(args, name, default)
    return default if value is None else value


def _settings(args: argparse.Namespace, *, move=None):
    from viewshift.video.convert import DEFAULT_CONVERGENCE, DEFAULT_DIVERGENCE, ConvertSettings
    from viewshift.video.stabilise import StabiliseSettings

    layout = _get(args, "layout", "sbs")
    return ConvertSettings(
        layout=layout,
        divergence=_get(args, "divergence", DEFAULT_DIVERGENCE),
        convergence=_get(args, "convergence", DEFAULT_CONVERGENCE),
        codec=_get(args, "codec", "h264"),
        crf=_get(args, "crf", 18.0),
        preset=_get(args, "preset", "superfast"),
        bit_depth=_get(args, "bit_depth", "auto"),
        odd_size=_get(args, "odd_size", "pad"),
        batch=_get(args, "batch", 8),
        chunk_seconds=_get(args, "chunk_seconds", 10.0),
        stabilise=StabiliseSettings(mode=_get(args, "stabilise", "smooth")),
        move=move,
        fov=_get(args, "fov", 60.0),
    )


def _depth(args: argparse.Namespace):
    from viewshift.errors import InputError
    from viewshift.video.depth import FolderDepth

    given = [n for n in ("depth", "depth_model", "model") if _get(args, n)]
    if len(given) > 1:
        raise InputError("give one depth: --depth FOLDER or --depth-model MODEL")
    if _get(args, "depth"):
        unit = "disparity" if _get(args, "depth_unit") == "disparity" else "depth"
        return FolderDepth(args.depth, unit=unit)
    if _get(args, "depth_model"):
        return args.depth_model
    if _get(args, "model"):
        return args.model
    return None


def _threads(args: argparse.Namespace) -> None:
    threads = _get(args, "threads")
    if threads:
        import torch

        torch.set_num_threads(int(threads))


def _note(text: str) -> None:
    print(f"viewshift: {text}", file=sys.stderr)


def _wrote(result) -> str:
    names = ", ".join(p.name for p in result.outputs)
    w, h = result.size
    return f"wrote {names} ({w}×{h}, {result.frames} frames at {result.fps:g} fps)"


def _run(args: argparse.Namespace, settings) -> int:
    from viewshift.video.convert import convert_folder, convert_video

    _threads(args)
    quiet = bool(_get(args, "quiet", False))
    src = Path(_get(args, "image") or _get(args, "input"))
    depth = _depth(args)
    if _get(args, "analyse", False):
        if src.is_dir():
            from viewshift.errors import InputError

            raise InputError("--analyse takes one video, not a folder; analyse the videos one by one")
        return _analyse(args, src, depth, settings, quiet)
    common = {
        "depth": depth,
        "settings": settings,
        "overwrite": bool(_get(args, "overwrite", False)),
        "resume": bool(_get(args, "resume", True)),
        "progress": not quiet,
    }
    if src.is_dir():
        results, failures = convert_folder(src, args.output, on_error=lambda v, e: _note(f"{v.name}: {e}"), **common)
        if not quiet:
            print(f"wrote {sum(len(r.outputs) for r in results)} files to {args.output}/")
        return 1 if failures else 0
    result = convert_video(src, args.output, on_note=None if quiet else _note, **common)
    if not quiet:
        print(_wrote(result))
    return 0


def _analyse(args: argparse.Namespace, src: Path, depth, settings, quiet: bool) -> int:
    import json

    from viewshift import io as vio
    from viewshift.video.convert import analyse_video

    out = _get(args, "output")
    if out and Path(out).suffix.lower() != ".json":
        out = None  # the video output is not written when analysing
    if out:
        vio.check_output(out, overwrite=bool(_get(args, "overwrite", False)), inputs=[src], extensions=(".json",))
    report = analyse_video(src, depth=depth, settings=settings, progress=not quiet)
    print(report.summary())
    if out:
        with vio.atomic_path(out) as tmp:
            tmp.write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
        print(f"wrote {Path(out).name}")
    return 0


def run_stereo(args: argparse.Namespace) -> int:
    """``viewshift stereo VIDEO -o OUT.mp4``: a stereo video in the chosen layout."""
    return _run(args, _settings(args))


def run_render(args: argparse.Namespace) -> int:
    """``viewshift render VIDEO -o OUT.mp4 --right 0.05``: every frame seen from a moved camera."""
    from viewshift.errors import InputError

    move = tuple(float(_get(args, k, 0.0)) for k in ("right", "up", "forward", "yaw", "pitch", "roll"))
    if not any(move):
        raise InputError("give a camera move for the video: --right, --up, --forward, --yaw, --pitch or --roll")
    return _run(args, _settings(args, move=move))


def build_parser() -> argparse.ArgumentParser:
    """The stand-alone parser of ``python -m viewshift.video``."""
    parser = argparse.ArgumentParser(
        prog="python -m viewshift.video", description="Convert videos to stereo or to a moved camera's view."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, text in (
        ("stereo", "a stereo video (side-by-side, top-bottom, anaglyph, left/right files)"),
        ("render", "every frame seen from a moved camera"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("image", metavar="VIDEO", help="input video, or a folder of videos")
        p.add_argument("-o", "--output", required=True, help="output video (a folder for a folder of videos)")
        p.add_argument("--overwrite", action="store_true", help="replace existing outputs (default: off)")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or success line (default: off)")
        p.add_argument("--threads", type=int, help="torch threads (default: number of CPU cores)")
        p.add_argument(
            "--depth", help="folder of per-frame depth files (.npy/.png/.pfm), name order (default: network)"
        )
        p.add_argument("--depth-unit", choices=("depth", "disparity"), help="unit of --depth files (default: depth)")
        p.add_argument("--depth-model", help="depth model: registry name, .onnx or .pt (default: built-in)")
        p.add_argument("--fov", type=float, help="horizontal field of view in degrees (default: 60)")
        if name == "stereo":
            p.add_argument(
                "--layout",
                choices=("sbs", "half-sbs", "tb", "half-tb", "anaglyph", "left-right"),
                default="sbs",
                help="frame layout; left-right writes OUT_L and OUT_R (default: sbs)",
            )
            p.add_argument("--divergence", type=float, help="depth range in %% of the width (default: 1.8)")
            p.add_argument(
                "--convergence",
                type=float,
                help="normalised disparity on the screen plane, 0 far end .. 1 near end (default: 1.0)",
            )
            p.set_defaults(func=run_stereo)
        else:
            for move in ("right", "up", "forward"):
                p.add_argument(f"--{move}", type=float, default=0.0, help=f"move {move} (scene units; default: 0)")
            for turn in ("yaw", "pitch", "roll"):
                p.add_argument(f"--{turn}", type=float, default=0.0, help=f"{turn} in degrees (default: 0)")
            p.set_defaults(func=run_render)
        add_video_options(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m viewshift.video ...``: typed errors become one line and an exit code, as in ``viewshift``."""
    from viewshift.errors import ViewshiftError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ViewshiftError as exc:
        print(f"viewshift: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("viewshift: interrupted; finished chunks are kept, run the same command again to resume", file=sys.stderr)
        return 130
